import { describe, expect, it } from 'vitest'
import { MemoryCache } from '../../../src/cache/memory.ts'
import { TieredCache } from '../../../src/cache/tiered/tiered-cache.ts'
import type { CacheEventMap } from '../../../src/core/events.ts'
import { manualClock, nextEvent, recordingEmitter } from './support.ts'

const down = async (): Promise<string> => {
  throw new Error('the database is down')
}

/** An L1-only cache on a hand-moved clock; ttl 10 s, swr 5 s, grace 60 s unless told. */
function graceCache() {
  const clock = manualClock()
  const { emitter, seen } = recordingEmitter()
  const cache = new TieredCache({ now: clock.now, events: emitter })
  const options = { ttl: 10, swr: 5, grace: 60, tags: ['t'] }
  return { cache, clock, emitter, seen, options }
}

describe('grace', () => {
  it('serves a value past its stale window when the loader fails, and reports the error in a grace event', async () => {
    const { cache, clock, emitter, options } = graceCache()
    await cache.getOrSet('k', async () => 'kept', options)
    clock.advance(10_000 + 5_000 + 30_000)
    const event = nextEvent<CacheEventMap['grace']>(emitter, 'grace')
    expect(await cache.getOrSet('k', down, options)).toBe('kept')
    expect(await event).toMatchObject({ key: 'k', tier: 'l1', error: new Error('the database is down') })
  })

  it('loads afresh past the stale window when the loader works, without serving the kept value', async () => {
    const { cache, clock, options } = graceCache()
    await cache.getOrSet('k', async () => 'kept', options)
    clock.advance(20_000)
    expect(await cache.getOrSet('k', async () => 'new', options)).toBe('new')
    expect(await cache.getOrSet('k', down, options)).toBe('new')
  })

  it('surfaces the error once the grace window has passed', async () => {
    const { cache, clock, options } = graceCache()
    await cache.getOrSet('k', async () => 'kept', options)
    clock.advance(10_000 + 5_000 + 60_000)
    await expect(cache.getOrSet('k', down, options)).rejects.toThrow('the database is down')
  })

  it('never serves an invalidated entry under grace', async () => {
    const { cache, clock, options } = graceCache()
    await cache.getOrSet('k', async () => 'kept', options)
    clock.advance(20_000)
    await cache.invalidateTags(['t'])
    await expect(cache.getOrSet('k', down, options)).rejects.toThrow('the database is down')
  })

  it('surfaces the error without a grace window, the default', async () => {
    const { cache, clock } = graceCache()
    await cache.getOrSet('k', async () => 'kept', { ttl: 10 })
    clock.advance(10_000)
    await expect(cache.getOrSet('k', down, { ttl: 10 })).rejects.toThrow('the database is down')
  })

  it('gives every caller that shared the failed load the kept value', async () => {
    const { cache, clock, seen, options } = graceCache()
    await cache.getOrSet('k', async () => ({ n: 1 }), options)
    clock.advance(20_000)
    const results = await Promise.all([1, 2, 3].map(() => cache.getOrSet('k', down as never, options)))
    expect(results).toEqual([{ n: 1 }, { n: 1 }, { n: 1 }])
    expect(new Set(results).size).toBe(3)
    expect(seen.filter((e) => e.name === 'grace')).toHaveLength(1)
  })

  it('falls back to a kept value for a network-first read whose load fails', async () => {
    const { cache, clock, options } = graceCache()
    await cache.getOrSet('k', async () => 'kept', options)
    clock.advance(20_000)
    expect(await cache.getOrSet('k', down, { ...options, policy: 'network-first' })).toBe('kept')
  })

  it('keeps an L1 entry through its grace window but does not return it to an ordinary read', () => {
    const clock = manualClock()
    const l1 = new MemoryCache({ now: clock.now })
    l1.set('k', 'v', { ttl: 1, swr: 1, grace: 10 })
    clock.advance(2_000)
    expect(l1.get('k')).toBeUndefined()
    expect(l1.has('k')).toBe(false)
    expect(l1.get('k', { grace: true })).toMatchObject({ value: 'v', fresh: false })
    expect(l1.size).toBe(1)
    clock.advance(10_000)
    expect(l1.get('k', { grace: true })).toBeUndefined()
    expect(l1.size).toBe(0)
  })
})
