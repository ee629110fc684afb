import { Decimal } from '@prisma/client/runtime/client'
import { describe, expect, it } from 'vitest'
import { cloneValue } from '../../../src/core/clone.ts'

describe('cloneValue', () => {
  it('copies plain objects and arrays deeply', () => {
    const value = { a: 1, nested: { list: [1, { b: 2 }] } }
    const copy = cloneValue(value)
    expect(copy).toEqual(value)
    expect(copy).not.toBe(value)
    expect(copy.nested).not.toBe(value.nested)
    expect(copy.nested.list[1]).not.toBe(value.nested.list[1])
  })

  it('returns primitives, bigint and null as they are', () => {
    for (const v of [1, 'x', true, null, undefined, 10n]) expect(cloneValue(v)).toBe(v)
  })

  it('copies a Date into a new Date with the same time', () => {
    const date = new Date('2024-01-02T03:04:05.678Z')
    const copy = cloneValue({ date }).date
    expect(copy).toBeInstanceOf(Date)
    expect(copy).not.toBe(date)
    expect(copy.getTime()).toBe(date.getTime())
  })

  it('copies byte arrays without sharing memory and keeps their class', () => {
    const bytes = new Uint8Array([1, 2, 3])
    const buffer = Buffer.from([4, 5])
    const copy = cloneValue({ bytes, buffer })
    expect(copy.bytes.constructor).toBe(Uint8Array)
    expect(Buffer.isBuffer(copy.buffer)).toBe(true)
    copy.bytes[0] = 9
    copy.buffer[0] = 9
    expect(bytes[0]).toBe(1)
    expect(buffer[0]).toBe(4)
  })

  it('shares Decimal values, which are immutable', () => {
    const price = new Decimal('12.34')
    expect(cloneValue({ price }).price).toBe(price)
  })

  it('keeps the prototype of other class instances and copies their own properties', () => {
    class Point {
      constructor(
        public x: number,
        public y: { z: number },
      ) {}
      sum() {
        return this.x + this.y.z
      }
    }
    const point = new Point(1, { z: 2 })
    const copy = cloneValue(point)
    expect(copy).toBeInstanceOf(Point)
    expect(copy.sum()).toBe(3)
    expect(copy.y).not.toBe(point.y)
  })

  it('rebuilds Map and Set', () => {
    const map = new Map([['a', { n: 1 }]])
    const set = new Set([{ n: 2 }])
    const copy = cloneValue({ map, set })
    expect(copy.map.get('a')).toEqual({ n: 1 })
    expect(copy.map.get('a')).not.toBe(map.get('a'))
    expect([...copy.set][0]).toEqual({ n: 2 })
  })

  it('copies objects without a prototype', () => {
    const bare = Object.assign(Object.create(null), { a: { b: 1 } })
    const copy = cloneValue(bare)
    expect(Object.getPrototypeOf(copy)).toBeNull()
    expect(copy.a).toEqual({ b: 1 })
    expect(copy.a).not.toBe(bare.a)
  })
})
