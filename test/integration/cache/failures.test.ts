import { EventEmitter } from 'node:events'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { MemoryCache } from '../../../src/cache/memory.ts'
import { RedisCache } from '../../../src/cache/redis/redis-cache.ts'
import { TieredCache } from '../../../src/cache/tiered/tiered-cache.ts'
import type { TieredCacheOptions } from '../../../src/cache/tiered/tiered-options.ts'
import { L2TimeoutError, L2UnavailableError } from '../../../src/core/errors.ts'
import type { CacheEventMap } from '../../../src/core/events.ts'
import { Testbed } from '../../support/factory.ts'
import { freePort, RedisServer } from '../../support/redis-server.ts'
import { manualClock, nextEvent, recordingEmitter } from '../../unit/cache/support.ts'

const tb = new Testbed()
afterAll(() => tb.cleanup())
let count = 0
const nextPrefix = () => `${tb.prefix}_${count++}`

/** A cache whose L2 points at a loopback port nothing listens on. */
async function unreachable(options: Partial<TieredCacheOptions> = {}) {
  const l2 = new RedisCache({ redis: `redis://127.0.0.1:${await freePort()}`, prefix: nextPrefix() })
  const cache = new TieredCache({ l2, ...options })
  tb.defer(() => cache.close())
  return cache
}

describe('when Redis fails', () => {
  it('keeps L1 and the loader working and counts the errors when L2 cannot be reached', async () => {
    const { emitter, seen } = recordingEmitter()
    const cache = await unreachable({ events: emitter })
    const loader = vi.fn(async () => ({ id: 1 }))
    expect(await cache.getOrSet('k', loader, { tags: ['t'] })).toEqual({ id: 1 })
    expect(await cache.getOrSet('k', loader, { tags: ['t'] })).toEqual({ id: 1 })
    expect(loader).toHaveBeenCalledTimes(1)
    const stats = cache.stats()
    expect(stats.errors).toBeGreaterThan(0)
    expect(stats.l2.errors).toBe(stats.errors)
    expect(stats.l1.hits).toBe(1)
    const errors = seen.filter((e) => e.name === 'error').map((e) => e.payload as CacheEventMap['error'])
    expect(errors[0]?.tier).toBe('l2')
    expect(errors[0]?.error).toBeInstanceOf(L2UnavailableError)
    await cache.invalidateTags(['t'])
    expect(cache.pendingInvalidations).toBe(1)
    expect(await cache.getOrSet('k', loader, { tags: ['t'] })).toEqual({ id: 1 })
    expect(loader).toHaveBeenCalledTimes(2)
  })

  it('surfaces the error of a required L2 on reads, writes and invalidations', async () => {
    const cache = await unreachable({ l2Required: true })
    await expect(cache.getOrSet('k', async () => 1)).rejects.toBeInstanceOf(L2UnavailableError)
    await expect(cache.set('k', 1)).rejects.toMatchObject({ code: 'E_L2_UNAVAILABLE' })
    await expect(cache.invalidateTags(['t'])).rejects.toBeInstanceOf(L2UnavailableError)
  })

  it('removes a key from L1 even when a required L2 fails to delete it', async () => {
    const server = await RedisServer.start()
    tb.defer(() => server.stop())
    const l1 = new MemoryCache()
    const l2 = new RedisCache({ redis: server.url, prefix: nextPrefix(), timeoutMs: 2_000 })
    const cache = new TieredCache({ l1, l2, l2Required: true })
    tb.defer(() => cache.close())
    await cache.ready()
    await cache.set('k', 'v')
    expect(l1.has('k')).toBe(true)
    await server.stop()
    await expect(cache.delete('k')).rejects.toBeInstanceOf(Error)
    expect(l1.has('k')).toBe(false)
  })

  it('opens the circuit after 5 consecutive L2 failures, skips L2 during the cool-down, then probes it', async () => {
    const clock = manualClock()
    const events = new EventEmitter()
    const opened = nextEvent<CacheEventMap['breaker:open']>(events, 'breaker:open')
    const cache = await unreachable({ now: clock.now, events, l1: false })
    for (let i = 0; i < 5; i++) await cache.getOrSet(`k${i}`, async () => i)
    expect(await opened).toMatchObject({ failures: 5, until: clock.time + 1_000 })
    await cache.getOrSet('k5', async () => 5)
    expect(cache.stats().l2.errors).toBe(5)
    clock.advance(1_000)
    await cache.getOrSet('k6', async () => 6)
    expect(cache.stats().l2.errors).toBe(6)
    await cache.getOrSet('k7', async () => 7)
    expect(cache.stats().l2.errors).toBe(6)
  })

  it('falls back to the loader when Redis does not answer in time, and counts a timeout', async () => {
    const server = await RedisServer.start()
    tb.defer(() => server.stop())
    const { emitter, seen } = recordingEmitter()
    const l2 = new RedisCache({ redis: tb.redis(server.url), prefix: nextPrefix(), timeoutMs: 50 })
    const cache = new TieredCache({ l2, events: emitter, bus: false })
    tb.defer(() => cache.close())
    await cache.ready()
    await tb.redis(server.url).client('PAUSE', 2_000, 'ALL')
    expect(await cache.getOrSet('k', async () => 'loaded')).toBe('loaded')
    const error = seen.find((e) => e.name === 'error')?.payload as CacheEventMap['error']
    expect(error.error).toBeInstanceOf(L2TimeoutError)
    expect(cache.stats().l2.errors).toBeGreaterThan(0)
  })

  it('replays failed invalidations in order when Redis returns, before reading L2 again', async () => {
    const server = await RedisServer.start()
    tb.defer(() => server.stop())
    const events = new EventEmitter()
    const l1 = new MemoryCache()
    const l2 = new RedisCache({ redis: server.url, prefix: nextPrefix(), timeoutMs: 2_000 })
    const cache = new TieredCache({ l1, l2, events })
    tb.defer(() => cache.close())
    await cache.ready()
    await cache.getOrSet('k', async () => 'v1', { tags: ['t1'] })

    const down = nextEvent(events, 'bus:down')
    await server.stop()
    await down
    await cache.invalidateTags(['t1'])
    await cache.invalidateTags(['t2'])
    expect(cache.pendingInvalidations).toBe(2)
    expect(cache.stats().l2.errors).toBeGreaterThan(0)
    // L1 was invalidated at once; with Redis gone the loader answers and L1 holds the result.
    expect(await cache.getOrSet('k', async () => 'v2', { tags: ['t1'] })).toBe('v2')
    expect(l1.has('k')).toBe(true)

    const up = nextEvent(events, 'bus:up')
    await server.start()
    await l2.ready()
    // A read replays the queue before it reads L2.
    expect(await cache.getOrSet('other', async () => 'x')).toBe('x')
    expect(cache.pendingInvalidations).toBe(0)
    const inspector = tb.redis(server.url)
    const [v1, v2] = await inspector.mget(l2.layout.version(0, 't1'), l2.layout.version(0, 't2'))
    // Versions are sequence values: the later invalidation's is above.
    expect(BigInt(v1!)).toBeLessThan(BigInt(v2!))
    // The bus was down, so L1 may have missed messages: it is emptied when the bus comes back.
    await up
    expect(l1.has('k')).toBe(false)
  })
})
