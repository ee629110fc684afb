import { Decimal } from '@prisma/client/runtime/client'
import SuperJSONDefault from 'superjson'
import { describe, expect, it } from 'vitest'
import { createSerializer, serializer as defaultSerializer } from '../../../src/core/serializer.ts'

/** What the Prisma layer builds: Prisma's Decimal class is injected, the core imports none. */
const serializer = createSerializer({ Decimal })

describe('serializer', () => {
  it('round-trips what Prisma results carry exactly', () => {
    const value = {
      id: 1,
      big: 12345678901234567890n,
      price: new Decimal('1234.5678'),
      createdAt: new Date('2024-01-02T03:04:05.678Z'),
      cover: new Uint8Array([0, 1, 254, 255]),
      buffer: Buffer.from('hello'),
      missing: null,
      meta: { nested: [{ deep: true }], list: [1, 'two', null] },
      posts: [{ id: 2, price: new Decimal('-0.001'), views: 0n }],
    }
    const back = serializer.parse<typeof value>(serializer.stringify(value))
    expect(back).toEqual(value)
    expect(Decimal.isDecimal(back.price)).toBe(true)
    expect(back.price.equals(value.price)).toBe(true)
    expect(back.posts[0]!.price.toString()).toBe('-0.001')
    expect(typeof back.big).toBe('bigint')
    expect(back.createdAt).toBeInstanceOf(Date)
    expect(back.cover.constructor).toBe(Uint8Array)
    expect([...back.cover]).toEqual([0, 1, 254, 255])
    expect(Buffer.isBuffer(back.buffer)).toBe(true)
    expect(back.buffer.toString()).toBe('hello')
  })

  it('round-trips a top-level null and arrays of rows', () => {
    expect(serializer.parse(serializer.stringify(null))).toBeNull()
    expect(serializer.parse(serializer.stringify([{ a: 1n }, { a: 2n }]))).toEqual([{ a: 1n }, { a: 2n }])
  })

  it('rejects text that is not one of its payloads', () => {
    expect(() => serializer.parse('not json')).toThrow()
    expect(() => serializer.parse('"a string"')).toThrow(SyntaxError)
    expect(() => serializer.parse('{"other":1}')).toThrow(SyntaxError)
  })

  it("leaves the application's own superjson untouched", () => {
    createSerializer()
    // Without our registration the global instance turns a Decimal into a plain value, not a Decimal.
    const back = SuperJSONDefault.parse<{ d: unknown }>(SuperJSONDefault.stringify({ d: new Decimal('1.5') }))
    expect(Decimal.isDecimal(back.d)).toBe(false)
  })

  it('writes a decimal the same way without a Decimal class, and reads it back as its text', () => {
    const text = defaultSerializer.stringify({ price: new Decimal('-0.001') })
    expect(defaultSerializer.parse(text)).toEqual({ price: '-0.001' })
    const back = serializer.parse<{ price: Decimal }>(text)
    expect(Decimal.isDecimal(back.price)).toBe(true)
    expect(back.price.toString()).toBe('-0.001')
  })

  it('recognises a decimal of another copy of decimal.js by its shape', () => {
    class OtherDecimal {
      readonly s = 1
      readonly e = 0
      readonly d = [1]
      constructor(readonly text: string) {}
      toFixed() {
        return this.text
      }
      toJSON() {
        return this.text
      }
    }
    const back = createSerializer({ Decimal: OtherDecimal }).parse<{ d: OtherDecimal }>(
      serializer.stringify({ d: new Decimal('1.25') }),
    )
    expect(back.d).toBeInstanceOf(OtherDecimal)
    expect(back.d.text).toBe('1.25')
    expect(serializer.parse(createSerializer().stringify({ d: new OtherDecimal('2.5') }))).toEqual({
      d: new Decimal('2.5'),
    })
  })

  it('rejects a Decimal that is not a class, naming it', () => {
    expect(() => createSerializer({ Decimal: 'decimal.js' as never })).toThrow(
      expect.objectContaining({ name: 'CacheOptionError', option: 'types.Decimal' }),
    )
    expect(() => createSerializer({ decimal: Decimal } as never)).toThrow(
      expect.objectContaining({ option: 'types.decimal' }),
    )
  })
})
