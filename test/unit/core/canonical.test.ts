import { AnyNull, DbNull, JsonNull, skip } from '@prisma/client/runtime/client'
import { describe, expect, it } from 'vitest'
import { Prisma } from '../../../generated/sqlite/client.ts'
import { canonical, recordId } from '../../../src/core/canonical.ts'
import { isDecimal } from '../../../src/core/values.ts'

const distinct = (...values: unknown[]) => new Set(values.map(canonical)).size === values.length

describe('canonical', () => {
  it('ignores the order of object keys, at any depth', () => {
    expect(canonical({ b: 1, a: { y: [1, 2], x: 'z' } })).toBe(canonical({ a: { x: 'z', y: [1, 2] }, b: 1 }))
    expect(canonical({ where: { id: 1 } })).toBe('{"where":{"id":1}}')
  })

  it('keeps the order of array items', () => {
    expect(canonical([1, 2])).not.toBe(canonical([2, 1]))
  })

  it('drops undefined properties and Prisma.skip, as Prisma does', () => {
    expect(canonical({ a: 1, b: undefined })).toBe(canonical({ a: 1 }))
    expect(canonical({ a: 1, b: skip })).toBe(canonical({ a: 1 }))
    expect(canonical({ a: null })).not.toBe(canonical({}))
  })

  it('writes valid JSON when the properties it drops come first, at any depth', () => {
    const text = canonical({ a: skip, b: undefined, c: { d: skip, e: [skip, 1], f: { g: undefined } }, h: () => 1 })
    // In an array, Prisma.skip is a value (Prisma rejects it there): it is kept.
    expect(text).toBe(`{"c":{"e":[${canonical(skip)},1],"f":{}}}`)
    expect(() => JSON.parse(text)).not.toThrow()
  })

  it('never lets a Date equal its ISO string', () => {
    const date = new Date('2026-01-02T03:04:05.678Z')
    expect(canonical(date)).not.toBe(canonical(date.toISOString()))
    expect(canonical({ at: date })).toBe(canonical({ at: new Date(date.getTime()) }))
    expect(canonical(new Date(Number.NaN))).not.toBe(canonical(null))
  })

  it('keeps bigint, number and string apart', () => {
    expect(distinct(1n, 1, '1')).toBe(true)
    expect(canonical(9_007_199_254_740_993n)).toContain('9007199254740993')
  })

  it('keeps Decimal, string and number apart, and equal decimals equal', () => {
    const price = new Prisma.Decimal('12.30')
    expect(distinct(price, '12.3', 12.3)).toBe(true)
    expect(canonical(price)).toBe(canonical(new Prisma.Decimal('12.3')))
    expect(canonical(price)).not.toBe(canonical(new Prisma.Decimal('12.31')))
    expect(isDecimal(price)).toBe(true)
    expect(isDecimal({ s: 1 })).toBe(false)
  })

  it('writes bytes stably as base64, the same for a Buffer and a Uint8Array', () => {
    const bytes = new Uint8Array([0, 1, 2, 254, 255])
    expect(canonical(bytes)).toBe(canonical(new Uint8Array([0, 1, 2, 254, 255])))
    expect(canonical(bytes)).toBe(canonical(Buffer.from([0, 1, 2, 254, 255])))
    expect(canonical(bytes.subarray(1))).toBe(canonical(new Uint8Array([1, 2, 254, 255])))
    expect(
      distinct(bytes, new Uint8Array([0, 1, 2, 254]), [0, 1, 2, 254, 255], Buffer.from(bytes).toString('base64')),
    ).toBe(true)
  })

  it('tells Prisma null types apart from each other, from null and from an empty object', () => {
    expect(distinct(DbNull, JsonNull, AnyNull, null, {})).toBe(true)
    expect(canonical(Prisma.DbNull)).toBe(canonical(DbNull))
  })

  it('escapes user objects that look like tagged forms', () => {
    const date = new Date('2026-01-02T03:04:05.678Z')
    expect(canonical({ $date: date.toISOString() })).not.toBe(canonical(date))
    expect(canonical({ $bigint: '1' })).not.toBe(canonical(1n))
    expect(canonical({ $$date: 'x' })).not.toBe(canonical({ $date: 'x' }))
  })

  it('keeps NaN and the infinities apart from null and from each other', () => {
    expect(distinct(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, null)).toBe(true)
  })

  it('writes valid JSON that never holds a raw control character', () => {
    const text = canonical({ s: 'tab\tnewline\n"quote"', d: new Date(0), n: 2n, b: new Uint8Array([9]), $x: [true] })
    expect(() => JSON.parse(text)).not.toThrow()
    expect(text).not.toMatch(/[\t\n]/)
  })

  it('describes other class instances by their class and contents', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    expect(canonical(new Point(1, 2))).toBe(canonical(new Point(1, 2)))
    expect(distinct(new Point(1, 2), new Point(2, 1), { x: 1, y: 2 })).toBe(true)
  })
})

describe('recordId', () => {
  it('writes numbers bare and strings JSON-quoted, joined by commas', () => {
    expect(recordId([1])).toBe('1')
    expect(recordId([1, 'a,b'])).toBe('1,"a,b"')
  })

  it('keeps number, bigint, string and boolean apart', () => {
    const ids = [recordId([1]), recordId([1n]), recordId(['1']), recordId([true]), recordId(['true'])]
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('escapes tabs and newlines', () => {
    expect(recordId(['a\tb\nc'])).toBe('"a\\tb\\nc"')
  })

  it('writes dates, decimals and bytes in forms that cannot be strings', () => {
    expect(recordId([new Date('2026-01-02T03:04:05.678Z')])).toBe('@2026-01-02T03:04:05.678Z')
    expect(recordId([new Prisma.Decimal('1.50')])).toBe('~1.5')
    expect(recordId([new Uint8Array([1, 2])])).toBe('#AQI=')
  })

  it('cannot be confused by a string that contains the separator', () => {
    expect(recordId(['a', 'b'])).not.toBe(recordId(['a","b']))
  })
})
