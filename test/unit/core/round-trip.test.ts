import { Decimal } from '@prisma/client/runtime/client'
import { describe, expect, it } from 'vitest'
import { cloneValue } from '../../../src/core/clone.ts'
import { whyNotExact } from '../../../src/core/round-trip.ts'
import { createSerializer, serializer as plainSerializer } from '../../../src/core/serializer.ts'

const serializer = createSerializer({ Decimal })
const through = <T>(value: T): T => serializer.parse<T>(serializer.stringify(value))

/** Values both tiers carry: L2 gives back what the L1 copy gives, class for class. */
const carried: Record<string, unknown> = {
  row: { id: 1, name: 'Ada', deletedAt: null, missing: undefined, tags: ['a', 'b'] },
  numbers: { nan: Number.NaN, inf: Number.POSITIVE_INFINITY, ninf: Number.NEGATIVE_INFINITY, negZero: -0 },
  bigint: { views: 9007199254740993n },
  date: new Date('2024-05-06T07:08:09.010Z'),
  regexp: { pattern: /a+b/gi },
  url: { link: new URL('https://example.com/a?b=c#d') },
  map: new Map<unknown, unknown>([
    ['a', { n: 1 }],
    [2, new Date(0)],
  ]),
  set: new Set([1, 'two', { three: 3 }]),
  bytes: { cover: new Uint8Array([0, 128, 255]), raw: Buffer.from([1, 2]), ints: new Int32Array([-1, 2]) },
  decimal: { price: new Decimal('19.99') },
  json: { meta: { nested: [{ deep: true }], list: [1, 'two', null] } },
  top: null,
}

describe('the value model both tiers share', () => {
  it.each(Object.entries(carried))('%s comes back from L2 as the L1 copy gives it', (_, value) => {
    expect(whyNotExact(value, { decimals: true })).toBeUndefined()
    const fromL2 = through(value)
    const fromL1 = cloneValue(value)
    expect(fromL2).toStrictEqual(fromL1)
    expect(fromL1).toStrictEqual(value)
  })

  it('copies a RegExp and a URL that work, as L2 gives them back', () => {
    const copy = cloneValue({ re: /x(\d+)/g, url: new URL('https://example.com/p') })
    expect(copy.re.exec('x12')?.[1]).toBe('12')
    expect(copy.re.flags).toBe('g')
    expect(copy.url.pathname).toBe('/p')
    expect(copy.url).toStrictEqual(through({ url: new URL('https://example.com/p') }).url)
  })

  it.each<[string, unknown, string]>([
    ['a function (a method-valued computed field)', { id: 1, greet: () => 'hi' }, '$.greet is a function'],
    ['a constructor key (a Json column can hold one)', { meta: { constructor: 'x' } }, '$.meta.constructor'],
    ['a prototype key', [{ prototype: 1 }], '$[0].prototype'],
    ['a class instance', { at: new (class Money {})() }, 'an instance of Money'],
    ['an Error', { error: new TypeError('bad') }, 'is an Error'],
    ['an object without a prototype', Object.create(null), 'without a prototype'],
    ['a symbol', { s: Symbol('s') }, 'is a symbol'],
    ['a symbol key', { [Symbol('s')]: 1 }, 'has a symbol key'],
    ['an invalid Date', { at: new Date(Number.NaN) }, 'an invalid Date'],
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    ['a hole', [1, , 3], '$[1] is a hole'],
    ['a function inside a Map', new Map([['f', () => 1]]), 'is a function'],
  ])('refuses %s, saying where', (_, value, reason) => {
    expect(whyNotExact(value, { decimals: true })).toContain(reason)
    expect(serializer.check?.(value)).toContain(reason)
  })

  it('refuses a cycle without walking forever', () => {
    const a: Record<string, unknown> = { id: 1 }
    a.self = a
    expect(whyNotExact(a, { decimals: true })).toBe('$.self is a cycle')
    const shared = { id: 2 }
    expect(whyNotExact({ x: shared, y: shared }, { decimals: true })).toBeUndefined()
  })

  it('refuses a decimal when the serializer has no Decimal class to rebuild it with', () => {
    const value = { price: new Decimal('1.5') }
    expect(plainSerializer.check?.(value)).toContain('$.price is a decimal')
    expect(serializer.check?.(value)).toBeUndefined()
  })

  it('copies an Error whole in L1, where it is kept: class, message, stack and cause', () => {
    const cause = new Error('root')
    const error = Object.assign(new TypeError('bad', { cause }), { status: 400 })
    const copy = cloneValue({ error }).error
    expect(copy).toBeInstanceOf(TypeError)
    expect(copy).not.toBe(error)
    expect(copy.message).toBe('bad')
    expect(copy.stack).toBe(error.stack)
    expect(copy.cause).toEqual(cause)
    expect(copy.status).toBe(400)
  })
})
