import { Decimal } from '@prisma/client/runtime/client'
import { describe, expect, it } from 'vitest'
import { cloneValue } from '../../../src/core/clone.ts'
import { estimateBytes, heapBytes, stringHeapBytes } from '../../../src/core/size.ts'

/** A User row as a driver gives it: flat strings, a small-integer id, a Date. */
const user = {
  id: 8,
  email: Buffer.from('user8@example.com').toString(),
  name: Buffer.from('User number 8').toString(),
  createdAt: new Date(Date.UTC(2024, 0, 1)),
}

describe('heapBytes', () => {
  it('counts a string as a 16-byte header and its characters, in 8-byte units', () => {
    expect(stringHeapBytes('')).toBe(16)
    expect(stringHeapBytes('a')).toBe(24)
    expect(stringHeapBytes('12345678')).toBe(24)
    expect(stringHeapBytes('123456789')).toBe(32)
    expect(heapBytes('x'.repeat(1000))).toBe(1016)
  })

  it('counts two bytes a character for a string with one outside Latin-1, one for Latin-1 text', () => {
    expect(stringHeapBytes('café crème')).toBe(stringHeapBytes('cafe creme'))
    expect(stringHeapBytes('€'.repeat(100))).toBe(216)
    expect(stringHeapBytes(`${'a'.repeat(99)}日`)).toBe(216)
  })

  it('counts nothing for values that live in their slot or are shared, 16 for a heap number', () => {
    for (const value of [0, 1, -5, 2 ** 31 - 1, -(2 ** 31), true, false, null, undefined])
      expect(heapBytes(value)).toBe(0)
    for (const value of [0.5, 2 ** 31, -(2 ** 31) - 1, 1e300, Number.NaN]) expect(heapBytes(value)).toBe(16)
  })

  it('counts a bigint by its 64-bit digits', () => {
    expect(heapBytes(0n)).toBe(16)
    expect(heapBytes(9_007_199_254_740_993n)).toBe(24)
    expect(heapBytes(-(2n ** 64n) + 1n)).toBe(24)
    expect(heapBytes(2n ** 64n)).toBe(32)
    expect(heapBytes(-(2n ** 130n))).toBe(40)
  })

  it('counts a User row as its object, its strings and its Date, not its property names', () => {
    // 56 (object with 4 slots) + 40 (17 chars) + 32 (13 chars) + 112 (Date); the id is a small integer.
    expect(heapBytes(user)).toBe(240)
    const renamed = {
      identifierOfTheRow: user.id,
      electronicMailAddress: user.email,
      nameOfThePerson: user.name,
      momentOfCreation: user.createdAt,
    }
    expect(heapBytes(renamed)).toBe(240)
  })

  it('counts an object past 4 properties with a property array grown 3 slots at a time', () => {
    const fields = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`f${i}`, i]))
    expect(heapBytes(fields(0))).toBe(56)
    expect(heapBytes(fields(4))).toBe(56)
    expect(heapBytes(fields(5))).toBe(96)
    expect(heapBytes(fields(7))).toBe(96)
    expect(heapBytes(fields(8))).toBe(120)
    expect(heapBytes(Object.assign(Object.create(null), fields(4)))).toBe(56)
  })

  it('counts an array as its object, a slot per item and the items', () => {
    expect(heapBytes([])).toBe(32)
    expect(heapBytes([1, 2, 3])).toBe(72)
    expect(heapBytes([user, user])).toBe(64 + 480)
  })

  it('counts nested relations: every row, array and value in them', () => {
    const profile = { id: 1, bio: 'Writes about databases', userId: 8 }
    const withRelations = { ...user, profile, posts: [{ id: 1, title: 'On caching' }] }
    const posts = 48 + 8 + heapBytes({ id: 1, title: 'On caching' })
    expect(heapBytes(withRelations)).toBe(96 + (240 - 56) + heapBytes(profile) + posts)
  })

  it('counts a decimal with its digit array, a Buffer with or without its own ArrayBuffer, and the bytes', () => {
    expect(heapBytes(new Decimal('1234567.0001'))).toBe(240)
    expect(heapBytes(new Decimal('1'.repeat(200)))).toBe(112 + 8 * new Decimal('1'.repeat(200)).d.length)
    expect(heapBytes(Buffer.alloc(64))).toBe(104 + 64)
    expect(heapBytes(Buffer.alloc(10_000))).toBe(192 + 10_000)
    expect(heapBytes(new Uint8Array(64))).toBe(192 + 64)
  })

  it('counts Map and Set with their hash tables and what they hold', () => {
    expect(heapBytes(new Map([['a', 1]]))).toBe(104 + 80 + 24)
    expect(heapBytes(new Set([1, 2, 3]))).toBe(104 + 84)
  })

  it('counts a class instance by its own fields', () => {
    class Point {
      x = 1.5
      y = 2.5
    }
    expect(heapBytes(new Point())).toBe(56 + 32)
  })

  it('counts a copy as its original: the cache measures values before copying them', () => {
    const post = {
      id: 7,
      title: 'A post about caching, part 7',
      published: true,
      views: 9_007_199_254_740_993n,
      price: new Decimal('1234567.0007'),
      cover: new Uint8Array(64),
      meta: { lang: 'en', words: 1207, tags: ['db', 'cache'] },
      createdAt: new Date(),
      authorId: 7,
      bytes: Buffer.from('abc'),
    }
    expect(heapBytes(cloneValue(post))).toBe(heapBytes(post))
  })

  it('is several times what the serialized estimate says for a row', () => {
    expect(heapBytes(user) / estimateBytes(user)).toBeGreaterThan(2)
  })
})
