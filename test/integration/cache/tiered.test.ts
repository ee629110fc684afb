import type { EventEmitter } from 'node:events'
import { Decimal } from '@prisma/client/runtime/client'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { KeyPattern } from '../../../src/cache/keys.ts'
import { MemoryCache } from '../../../src/cache/memory.ts'
import { RedisCache } from '../../../src/cache/redis/redis-cache.ts'
import { TieredCache } from '../../../src/cache/tiered/tiered-cache.ts'
import type { TieredCacheOptions } from '../../../src/cache/tiered/tiered-options.ts'
import { createSerializer } from '../../../src/core/serializer.ts'
import { Testbed } from '../../support/factory.ts'
import { deferred, heldLoader, manualClock, nextEvent, recordingEmitter } from '../../unit/cache/support.ts'

const tb = new Testbed()
afterAll(() => tb.cleanup())
const admin = tb.redis()
let count = 0
const nextPrefix = () => `${tb.prefix}_${count++}`

/** One application instance: its own connection, L1 and bus, on the shared prefix. */
async function instance(prefix: string, options: Partial<TieredCacheOptions> & { now?: () => number } = {}) {
  const l2 = new RedisCache({
    redis: tb.redis(),
    prefix,
    timeoutMs: 5_000,
    serializer: createSerializer({ Decimal }),
    ...(options.now ? { now: options.now } : {}),
  })
  const cache = new TieredCache({ l2, ...options })
  tb.defer(() => cache.close())
  await cache.ready()
  return { cache, l2 }
}

describe('TieredCache over Redis', () => {
  it('returns a value found only in L2 and fills L1 with it', async () => {
    const prefix = nextPrefix()
    const { l2: writer } = await instance(prefix)
    await writer.set('k', 'from l2')
    const { cache } = await instance(prefix)
    expect(await cache.getOrSet('k', async () => 'loaded')).toBe('from l2')
    expect(await cache.getOrSet('k', async () => 'loaded')).toBe('from l2')
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 0, loads: 0, l1: { hits: 1 }, l2: { hits: 1 } })
  })

  it('keeps an L2 entry for min(ttl, l2Ttl) plus its swr: the PTTL of the stored key', async () => {
    const prefix = nextPrefix()
    const { cache, l2 } = await instance(prefix, { l2Ttl: 5 })
    await cache.getOrSet('long', async () => 'v', { ttl: 3600, swr: 600 })
    await cache.set('set', 'v', { ttl: 3600 })
    await cache.getOrSet('short', async () => 'v', { ttl: 2, swr: 2 })
    // Cut to l2Ttl; the stale window stays (only L1 drops it when its cap cuts the fresh time).
    const long = await admin.pttl(l2.layout.entry('long'))
    expect(long).toBeGreaterThan(604_000)
    expect(long).toBeLessThanOrEqual(605_000)
    for (const key of ['set']) {
      const pttl = await admin.pttl(l2.layout.entry(key))
      expect(pttl).toBeGreaterThan(4_000)
      expect(pttl).toBeLessThanOrEqual(5_000)
    }
    const short = await admin.pttl(l2.layout.entry('short'))
    expect(short).toBeGreaterThan(3_000)
    expect(short).toBeLessThanOrEqual(4_000)
  })

  it("serves an entry that outlives l2Ttl in its caller's ttl from L2 only until l2Ttl", async () => {
    const clock = manualClock()
    const prefix = nextPrefix()
    const { cache: writer } = await instance(prefix, { now: clock.now, l2Ttl: 10 })
    await writer.getOrSet('k', async () => 'v', { ttl: 60 })
    const { cache: reader } = await instance(prefix, { now: clock.now, l2Ttl: 10 })
    clock.advance(10_000)
    expect(await reader.getOrSet('k', async () => 'reloaded', { ttl: 60 })).toBe('reloaded')
  })

  it('serves an entry cut to l2Ttl from L2 as stale inside its swr window, refreshing it in the background', async () => {
    const clock = manualClock()
    const prefix = nextPrefix()
    const { cache: writer } = await instance(prefix, { now: clock.now, l2Ttl: 10 })
    await writer.getOrSet('k', async () => 'v1', { ttl: 60, swr: 30 })
    const { emitter } = recordingEmitter()
    const { cache: reader } = await instance(prefix, { now: clock.now, l2Ttl: 10, events: emitter })
    clock.advance(25_000) // past l2Ttl, inside l2Ttl + swr
    const refreshed = nextEvent<{ tier?: string }>(emitter, 'set', (set) => set.tier === 'l2')
    expect(await reader.getOrSet('k', async () => 'v2', { ttl: 60, swr: 30 })).toBe('v1')
    await refreshed
    clock.advance(15_000) // past l2Ttl + swr of the first entry, inside the refreshed one's
    const { cache: third } = await instance(prefix, { now: clock.now, l2Ttl: 10 })
    expect(await third.getOrSet('k', async () => 'v3', { ttl: 60, swr: 30 })).toBe('v2')
  })

  it('creates nothing in Redis for a read that loads nothing (get, cache-only), and a load leaves no fence', async () => {
    const { cache, l2 } = await instance(nextPrefix())
    expect(await cache.get('absent')).toBeUndefined()
    await expect(cache.getOrSet('absent', async () => 1, { policy: 'cache-only' })).rejects.toThrow()
    expect(await admin.exists(l2.layout.fence('absent'), l2.layout.epoch(0))).toBe(0)
    // A read that may load creates its fence (and the epoch), and the store removes the fence.
    await cache.getOrSet('present', async () => 1)
    await cache.settled()
    expect(await admin.exists(l2.layout.fence('present'))).toBe(0)
    expect(await admin.exists(l2.layout.epoch(0))).toBe(1)
    // So does a store refused because a tag moved while it loaded.
    const held = heldLoader('old')
    const read = cache.getOrSet('refused', held.load, { tags: ['t'] })
    await held.started
    expect(await admin.exists(l2.layout.fence('refused'))).toBe(1)
    await cache.invalidateTags(['t'])
    held.release()
    await read
    await cache.settled()
    expect(await admin.exists(l2.layout.fence('refused'), l2.layout.entry('refused'))).toBe(0)
  })

  it('fills L1 from an L2 hit for the remaining L2 life when that is shorter than l1Ttl', async () => {
    const clock = manualClock()
    const prefix = nextPrefix()
    const { cache: writer } = await instance(prefix, { now: clock.now })
    await writer.getOrSet('k', async () => 'v', { ttl: 100 })
    await writer.settled()
    clock.advance(50_000)
    const { cache: reader } = await instance(prefix, { now: clock.now, l1Ttl: 60 })
    const loader = vi.fn(async () => 'reloaded')
    expect(await reader.getOrSet('k', loader, { ttl: 100 })).toBe('v') // L2 hit, L1 until t=100s
    clock.advance(49_999)
    expect(await reader.getOrSet('k', loader, { ttl: 100 })).toBe('v')
    expect(reader.stats()).toMatchObject({ l1: { hits: 1 }, l2: { hits: 1 } })
    clock.advance(1)
    expect(await reader.getOrSet('k', loader, { ttl: 100 })).toBe('reloaded') // gone from both tiers
    expect(loader).toHaveBeenCalledTimes(1)
  })

  it('fills L1 from an L2 hit for l1Ttl when the L2 entry lives longer, then asks L2 again', async () => {
    const clock = manualClock()
    const prefix = nextPrefix()
    const { cache: writer } = await instance(prefix, { now: clock.now })
    await writer.getOrSet('k', async () => 'v', { ttl: 100 })
    await writer.settled()
    clock.advance(10_000)
    const { cache: reader } = await instance(prefix, { now: clock.now, l1Ttl: 60 })
    await reader.getOrSet('k', async () => 'x')
    clock.advance(59_999)
    await reader.getOrSet('k', async () => 'x')
    expect(reader.stats()).toMatchObject({ l1: { hits: 1 }, l2: { hits: 1 } })
    clock.advance(1)
    expect(await reader.getOrSet('k', async () => 'x')).toBe('v')
    expect(reader.stats()).toMatchObject({ l1: { hits: 1 }, l2: { hits: 2 }, loads: 0 })
  })

  it('removes the entries of an entity from both tiers when its pattern is invalidated', async () => {
    const { cache, l2 } = await instance(nextPrefix())
    await cache.set('ptc:User:id:1', 'user')
    await cache.set('ptc:Post:id:1', 'post')
    await cache.invalidatePattern(KeyPattern.entity('User'))
    expect(await cache.get('ptc:User:id:1')).toBeUndefined()
    expect((await l2.get('ptc:User:id:1')).hit).toBe(false)
    expect(await cache.get('ptc:Post:id:1')).toBe('post')
  })

  it.each([1, 10_000])(
    'removes exactly the %i entries carrying an invalidated tag from both tiers',
    async (entries) => {
      const l1 = new MemoryCache({ max: 20_000 })
      const { cache, l2 } = await instance(nextPrefix(), { l1 })
      for (let i = 0; i < entries; i += 1000)
        await Promise.all(
          Array.from({ length: Math.min(1000, entries - i) }, (_, j) =>
            cache.getOrSet(`k${i + j}`, async () => i + j, { tags: ['t'] }),
          ),
        )
      await cache.getOrSet('other', async () => 'stays', { tags: ['u'] })
      expect(l1.size).toBe(entries + 1)
      await cache.invalidateTags(['t'])
      expect(l1.size).toBe(1)
      const reads = await Promise.all(Array.from({ length: entries }, (_, i) => l2.get(`k${i}`)))
      expect(reads.filter((read) => read.hit)).toEqual([])
      expect(await cache.get('other')).toBe('stays')
      expect((await l2.get('other')).hit).toBe(true)
    },
  )

  it('stores nothing when its tag is invalidated on this instance while the loader runs', async () => {
    const { cache, l2 } = await instance(nextPrefix())
    const held = heldLoader('old')
    const read = cache.getOrSet('k', held.load, { tags: ['user:1'] })
    await held.started
    await cache.invalidateTags(['user:1'])
    held.release()
    expect(await read).toBe('old')
    await cache.settled()
    expect(await admin.exists(l2.layout.entry('k'))).toBe(0)
    const next = vi.fn(async () => 'new')
    expect(await cache.getOrSet('k', next, { tags: ['user:1'] })).toBe('new')
    expect(next).toHaveBeenCalledTimes(1)
  })

  it('stores nothing when another instance invalidates its tag while the loader runs', async () => {
    const prefix = nextPrefix()
    const { cache: reader, l2 } = await instance(prefix)
    const { cache: writer } = await instance(prefix)
    const held = heldLoader('old')
    const read = reader.getOrSet('k', held.load, { tags: ['user:1'] })
    await held.started
    await writer.invalidateTags(['user:1'])
    held.release()
    expect(await read).toBe('old')
    await reader.settled()
    expect(await admin.exists(l2.layout.entry('k'))).toBe(0)
    const next = vi.fn(async () => 'new')
    expect(await reader.getOrSet('k', next, { tags: ['user:1'] })).toBe('new')
    await reader.settled()
    expect(await writer.getOrSet('k', next, { tags: ['user:1'] })).toBe('new')
    expect(next).toHaveBeenCalledTimes(1)
  })

  it('runs one loader for 100 concurrent misses of one key', async () => {
    const { cache, l2 } = await instance(nextPrefix())
    const loader = vi.fn(async () => ({ id: 1 }))
    const results = await Promise.all(Array.from({ length: 100 }, () => cache.getOrSet('k', loader)))
    expect(loader).toHaveBeenCalledTimes(1)
    expect(results.every((r) => r.id === 1)).toBe(true)
    expect(new Set(results).size).toBe(100)
    await cache.settled()
    expect((await l2.get('k')).hit).toBe(true)
  })

  it('does not cache a rejected loader in either tier', async () => {
    const { cache, l2 } = await instance(nextPrefix())
    await expect(
      cache.getOrSet('k', async () => {
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect((await l2.get('k')).hit).toBe(false)
    expect(await cache.getOrSet('k', async () => 'ok')).toBe('ok')
  })

  it('round-trips Decimal, BigInt, Date, Uint8Array, null and nested rows through L2 exactly', async () => {
    const prefix = nextPrefix()
    const { cache: writer } = await instance(prefix, { l1: false })
    const { cache: reader } = await instance(prefix, { l1: false })
    const row = {
      id: 1n,
      price: new Decimal('99.95'),
      at: new Date('2020-02-29T12:00:00.000Z'),
      bytes: new Uint8Array([7, 8, 9]),
      none: null,
      author: { id: 2, profile: null, posts: [{ id: 3, price: new Decimal('1e-8') }] },
    }
    await writer.getOrSet('row', async () => row)
    await writer.settled()
    const back = await reader.getOrSet('row', async () => ({}) as typeof row)
    expect(back).toEqual(row)
    expect(Decimal.isDecimal(back.price) && back.price.equals(row.price)).toBe(true)
    expect(back.bytes.constructor).toBe(Uint8Array)
    expect(reader.stats().l2.hits).toBe(1)
  })

  it('answers a miss before the L2 store ends: L1 first, L2 behind the read, both by settled()', async () => {
    const { emitter, seen } = recordingEmitter()
    const prefix = nextPrefix()
    const { cache } = await instance(prefix, { events: emitter as EventEmitter })
    const order: string[] = []
    emitter.on('set', (p: { tier: string }) => order.push(`set ${p.tier}`))
    expect(await cache.getOrSet('k', async () => 'loaded', { tags: ['t'] })).toBe('loaded')
    order.push('answered')
    await cache.settled()
    expect(order).toEqual(['set l1', 'answered', 'set l2'])
    const { cache: other } = await instance(prefix)
    expect(await other.getOrSet('k', async () => 'reloaded')).toBe('loaded')
    expect(seen.filter((e) => e.name === 'error')).toEqual([])
  })

  it('drops from L1 what L2 refused behind the read (a captured version moved before the bus said so)', async () => {
    const prefix = nextPrefix()
    // No bus on A: only L2's version check can tell it that B wrote during its load.
    const { cache: a } = await instance(prefix, { bus: false })
    const { cache: b } = await instance(prefix)
    const value = await a.getOrSet(
      'k',
      async () => {
        await b.invalidateTags(['t'])
        return 'read before the write'
      },
      { tags: ['t'] },
    )
    expect(value).toBe('read before the write')
    await a.settled()
    expect(await a.get('k')).toBeUndefined()
    expect(await b.get('k')).toBeUndefined()
    expect(await a.getOrSet('k', async () => 'after', { tags: ['t'] })).toBe('after')
  })

  it('keeps read-your-writes when a write follows a miss before its store has landed', async () => {
    const prefix = nextPrefix()
    const { cache: a } = await instance(prefix)
    const { cache: b } = await instance(prefix)
    expect(await a.getOrSet('k', async () => 'v1', { tags: ['t'] })).toBe('v1')
    await a.invalidateTags(['t']) // the store may still be on its way: either order leaves nothing
    await a.settled()
    expect(await a.getOrSet('k', async () => 'v2', { tags: ['t'] })).toBe('v2')
    await a.settled()
    expect(await b.getOrSet('k', async () => 'v2 on b', { tags: ['t'] })).toBe('v2')
  })

  it('keeps what L1 and L2 hold when a caller mutates a returned value', async () => {
    for (const l1 of [undefined, false as const]) {
      const prefix = nextPrefix()
      const { cache } = await instance(prefix, l1 === false ? { l1 } : {})
      const first = await cache.getOrSet('k', async () => ({ list: [1], name: 'a' }))
      first.list.push(2)
      first.name = 'mutated'
      await cache.settled() // L2 stores behind the read: what it stores was taken before the caller's changes
      // What L2 holds, read by an instance without L1 (with L1, the store serializes L1's own copy).
      const { cache: other } = await instance(prefix, { l1: false })
      expect(await other.getOrSet('k', async () => ({ list: [] as number[], name: 'reloaded' }))).toEqual({
        list: [1],
        name: 'a',
      })
      const second = await cache.getOrSet('k', async () => ({ list: [] as number[], name: 'reloaded' }))
      expect(second).toEqual({ list: [1], name: 'a' })
      second.list.push(3)
      expect(await cache.getOrSet('k', async () => ({ list: [] as number[], name: 'reloaded' }))).toEqual({
        list: [1],
        name: 'a',
      })
    }
  })

  it('serves a stale L2 value once, refreshes it in the background, then serves the fresh value', async () => {
    const clock = manualClock()
    const { emitter } = recordingEmitter()
    const { cache } = await instance(nextPrefix(), { l1: false, now: clock.now, events: emitter as EventEmitter })
    await cache.getOrSet('k', async () => 'v1', { ttl: 10, swr: 60 })
    await cache.settled()
    clock.advance(15_000)
    const gate = deferred()
    const refresh = vi.fn(async () => {
      await gate.promise
      return 'v2'
    })
    const stored = nextEvent(emitter, 'set')
    expect(await cache.getOrSet('k', refresh, { ttl: 10, swr: 60 })).toBe('v1')
    gate.resolve()
    await stored
    expect(await cache.getOrSet('k', refresh, { ttl: 10, swr: 60 })).toBe('v2')
    expect(refresh).toHaveBeenCalledTimes(1)
  })

  it('treats a corrupted value under the prefix as a miss, removes it and stores the loaded value', async () => {
    const { cache, l2 } = await instance(nextPrefix())
    await admin.set(l2.layout.entry('k'), 'definitely not an entry')
    expect(await cache.getOrSet('k', async () => 'loaded')).toBe('loaded')
    await cache.settled()
    expect(await l2.get('k')).toMatchObject({ hit: true, value: 'loaded' })
  })

  it('clears both tiers and never deletes a key outside its prefix', async () => {
    const prefix = nextPrefix()
    const { cache, l2 } = await instance(prefix)
    await admin.set(`${prefix}-sentinel`, 'keep')
    await admin.set(`${prefix}x:sentinel`, 'keep')
    await cache.set('a', 1)
    await cache.clear()
    expect(await cache.get('a')).toBeUndefined()
    expect((await l2.get('a')).hit).toBe(false)
    expect(await admin.get(`${prefix}-sentinel`)).toBe('keep')
    expect(await admin.get(`${prefix}x:sentinel`)).toBe('keep')
  })
})
