import { Decimal } from '@prisma/client/runtime/client'
import { afterAll, describe, expect, it } from 'vitest'
import { RedisCache } from '../../../src/cache/redis/redis-cache.ts'
import { TieredCache } from '../../../src/cache/tiered/tiered-cache.ts'
import type { TieredCacheOptions } from '../../../src/cache/tiered/tiered-options.ts'
import type { CacheEventMap } from '../../../src/core/events.ts'
import { createSerializer } from '../../../src/core/serializer.ts'
import { cachedInstance } from '../../support/cached.ts'
import { Testbed } from '../../support/factory.ts'
import { recordingEmitter } from '../../unit/cache/support.ts'

/**
 * Both tiers answer alike: a value L2 carries comes back from an L2 hit as an L1 hit gives it; a
 * value it cannot carry exactly is kept in L1 only, with a `set:skipped` event and no error, even
 * with a required L2; size limits count bytes.
 */
const tb = new Testbed()
afterAll(() => tb.cleanup())
let count = 0
const nextPrefix = () => `${tb.prefix}_v${count++}`

async function instance(prefix: string, options: Partial<TieredCacheOptions> = {}) {
  const l2 = new RedisCache({ redis: tb.redis(), prefix, timeoutMs: 5_000, serializer: createSerializer({ Decimal }) })
  const { emitter, seen } = recordingEmitter()
  const cache = new TieredCache({ l2, events: emitter, ...options })
  tb.defer(() => cache.close())
  await cache.ready()
  const skipped = () =>
    seen.filter((e) => e.name === 'set:skipped').map((e) => e.payload as CacheEventMap['set:skipped'])
  return { cache, l2, skipped }
}

describe('values in both tiers', () => {
  it('answers an L2 hit as an L1 hit, class for class, for what L2 carries', async () => {
    const value = {
      id: 1n,
      price: new Decimal('19.99'),
      at: new Date('2024-05-06T07:08:09.010Z'),
      pattern: /a+b/gi,
      link: new URL('https://example.com/a?b=c'),
      lookup: new Map([['k', new Set([1, 2])]]),
      cover: new Uint8Array([0, 255]),
      raw: Buffer.from('hi'),
      odd: { nan: Number.NaN, negZero: -0, missing: undefined },
    }
    const prefix = nextPrefix()
    const a = await instance(prefix)
    const b = await instance(prefix)
    const load = async () => value
    await a.cache.getOrSet('k', async () => value)
    await a.cache.settled()
    const fromL1 = await a.cache.getOrSet('k', load)
    const fromL2 = await b.cache.getOrSet('k', load)
    expect(a.cache.stats().l1.hits).toBe(1)
    expect(b.cache.stats().l2.hits).toBe(1)
    expect(fromL2).toStrictEqual(fromL1)
    expect(fromL1).toStrictEqual(value)
    expect(fromL1.pattern.test('aab')).toBe(true)
  })

  it.each<[string, unknown, string]>([
    ['a Json value with a constructor key', { id: 1, meta: { constructor: 'x', prototype: 1 } }, '$.meta.constructor'],
    ['a method-valued computed field', { id: 1, greet: () => 'hi' }, '$.greet is a function'],
    ['an Error', { failure: new RangeError('late') }, 'is an Error'],
  ])('keeps %s in L1 only, as an event says, and counts no error even with l2Required', async (_, value, detail) => {
    const prefix = nextPrefix()
    const a = await instance(prefix, { l2Required: true })
    const b = await instance(prefix, { l2Required: true })
    let loads = 0
    const load = async () => {
      loads++
      return value
    }
    expect(await a.cache.getOrSet('k', load)).toStrictEqual(value)
    expect(await a.cache.getOrSet('k', load)).toStrictEqual(value)
    expect(loads).toBe(1)
    expect(a.cache.stats()).toMatchObject({ errors: 0, l1: { hits: 1 }, l2: { errors: 0 } })
    expect(a.skipped()).toEqual([
      { key: 'k', tier: 'l2', reason: 'unserializable', detail: expect.stringContaining(detail) },
    ])
    expect((await a.l2.get('k')).hit).toBe(false)
    // Another instance has nothing to be served from L2 that would differ: it loads its own.
    expect(await b.cache.getOrSet('k', load)).toStrictEqual(value)
    expect(loads).toBe(2)
  })

  it('keeps a method of a value in L1 working on every hit', async () => {
    const a = await instance(nextPrefix())
    const load = async () => ({ id: 7, label: () => 'seven' })
    await a.cache.getOrSet('k', load)
    const hit = await a.cache.getOrSet('k', load)
    expect(hit.label()).toBe('seven')
  })

  it('counts maxEntryBytes in UTF-8 bytes: a 900 kB result is not cached under a 500 kB limit', async () => {
    const a = await instance(nextPrefix(), { maxEntryBytes: 500_000 })
    // 300 000 UTF-16 units, 900 000 bytes of UTF-8.
    const big = { text: '€'.repeat(300_000) }
    let loads = 0
    const load = async () => {
      loads++
      return big
    }
    expect(await a.cache.getOrSet('big', load)).toEqual(big)
    expect(await a.cache.getOrSet('big', load)).toEqual(big)
    expect(loads).toBe(2)
    await a.cache.settled()
    expect((await a.l2.get('big')).hit).toBe(false)
    expect(a.skipped().find((e) => (e as { tier?: string }).tier === 'l2')).toMatchObject({
      key: 'big',
      reason: 'too-large',
      detail: expect.stringMatching(/^9000\d\d bytes/),
    })
    // A value under the limit in bytes is cached.
    expect(await a.cache.getOrSet('small', async () => ({ text: '€'.repeat(100_000) }))).toBeDefined()
    await a.cache.settled()
    expect((await a.l2.get('small')).hit).toBe(true)
  })

  it('counts bytes in L1 alone too (no L2: an estimate of the UTF-8 size)', async () => {
    const cache = new TieredCache({ maxEntryBytes: 500_000 })
    let loads = 0
    const load = async () => {
      loads++
      return '€'.repeat(300_000)
    }
    await cache.getOrSet('big', load)
    await cache.getOrSet('big', load)
    expect(loads).toBe(2)
  })
})

describe('through the extension', () => {
  it('serves a Json column holding a constructor key with required.l2: no error, L1 keeps it', async () => {
    const instance = await cachedInstance(tb, 'postgres', { prefix: nextPrefix(), required: { l2: true } })
    const author = await instance.base.user.create({ data: { email: `json-${tb.prefix}@example.com` } })
    const meta = { constructor: 'Object', prototype: { polluted: false } }
    const post = await instance.base.post.create({ data: { title: 'json', authorId: author.id, meta } })
    const read = () => instance.prisma.post.findUnique({ where: { id: post.id }, cache: true })
    expect((await read())?.meta).toEqual(meta)
    const before = instance.counter.count
    expect((await read())?.meta).toEqual(meta)
    expect(instance.counter.count).toBe(before)
    expect(instance.prisma.$cache.stats()).toMatchObject({ errors: 0, l1: { hits: 1 } })
  })
})
