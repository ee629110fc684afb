import { EventEmitter } from 'node:events'
import { describe, expect, it, vi } from 'vitest'
import { KeyPattern } from '../../../src/cache/keys.ts'
import { MemoryCache } from '../../../src/cache/memory.ts'
import { TieredCache } from '../../../src/cache/tiered/tiered-cache.ts'
import { CacheMissError, type CacheOptionError, L1Error } from '../../../src/core/errors.ts'
import { deferred, heldLoader, manualClock, nextEvent, recordingEmitter } from './support.ts'

/** L1-only caches: the L2 and the bus are covered in test/integration/cache against a real Redis. */
describe('TieredCache over L1 only', () => {
  it('answers a set value from L1', async () => {
    const cache = new TieredCache()
    await cache.set('k', 'hello')
    expect(await cache.get('k')).toBe('hello')
    expect(cache.stats().l1.hits).toBe(1)
  })

  it('does not call the loader on the second getOrSet', async () => {
    const cache = new TieredCache()
    const loader = vi.fn(async () => ({ n: 1 }))
    expect(await cache.getOrSet('k', loader)).toEqual({ n: 1 })
    expect(await cache.getOrSet('k', loader)).toEqual({ n: 1 })
    expect(loader).toHaveBeenCalledTimes(1)
    expect(cache.stats().loads).toBe(1)
  })

  it('reports a hit rate of 0.667 after 2 hits and 1 miss', async () => {
    const cache = new TieredCache()
    await cache.getOrSet('k', () => 1)
    await cache.getOrSet('k', () => 1)
    await cache.getOrSet('k', () => 1)
    const stats = cache.stats()
    expect(stats).toMatchObject({ hits: 2, misses: 1, loads: 1, sets: 1 })
    expect(stats.hitRate).toBeCloseTo(0.667, 3)
    cache.resetStats()
    expect(cache.stats().hitRate).toBe(0)
  })

  it('runs one loader for 100 concurrent misses of one key and gives each caller its own copy', async () => {
    const cache = new TieredCache()
    const gate = deferred()
    const loader = vi.fn(async () => {
      await gate.promise
      return { rows: [1, 2, 3] }
    })
    const calls = Array.from({ length: 100 }, () => cache.getOrSet('k', loader))
    gate.resolve()
    const results = await Promise.all(calls)
    expect(loader).toHaveBeenCalledTimes(1)
    expect(new Set(results).size).toBe(100)
    for (const result of results) expect(result).toEqual({ rows: [1, 2, 3] })
  })

  it('never caches a rejected loader, for the callers that shared it or the next one', async () => {
    const cache = new TieredCache()
    const failing = vi.fn(async () => {
      throw new Error('database down')
    })
    const shared = await Promise.allSettled([cache.getOrSet('k', failing), cache.getOrSet('k', failing)])
    expect(shared.map((r) => r.status)).toEqual(['rejected', 'rejected'])
    expect(failing).toHaveBeenCalledTimes(1)
    expect(await cache.getOrSet('k', async () => 'ok')).toBe('ok')
  })

  it('stores nothing when its tags are invalidated while the loader runs', async () => {
    const cache = new TieredCache()
    const held = heldLoader('old')
    const slow = cache.getOrSet('k', held.load, { tags: ['user:1'] })
    await held.started
    await cache.invalidateTags(['user:1'])
    held.release()
    expect(await slow).toBe('old')
    const next = vi.fn(async () => 'new')
    expect(await cache.getOrSet('k', next, { tags: ['user:1'] })).toBe('new')
    expect(next).toHaveBeenCalledTimes(1)
  })

  it('stores nothing when a guard tag is invalidated while the loader runs, and keeps late tags', async () => {
    const cache = new TieredCache()
    const gate = deferred()
    const slow = cache.getOrSet(
      'k',
      async () => {
        await gate.promise
        return { id: 7 }
      },
      { guards: ['entity:User'] },
    )
    await cache.invalidateTags(['entity:User'])
    gate.resolve()
    await slow
    expect(await cache.get('k')).toBeUndefined()

    await cache.getOrSet('k', async () => ({ id: 7 }), {
      guards: ['entity:User'],
      lateTags: (user) => [`record:User:${user.id}`],
    })
    expect(await cache.get('k')).toEqual({ id: 7 })
    await cache.invalidateTags(['record:User:7'])
    expect(await cache.get('k')).toBeUndefined()
  })

  it('checks the late tags of a value against the L1 clock, not its guards', async () => {
    const cache = new TieredCache()
    const load = async (bump: string) => {
      const gate = deferred()
      const slow = cache.getOrSet(
        'k',
        async () => {
          await gate.promise
          return { id: 7 }
        },
        { guards: ['entity:User'], lateTags: (user) => [`record:User:${user.id}`] },
      )
      await cache.invalidateTags([bump])
      gate.resolve()
      await slow
      return cache.get('k')
    }
    // Another row of the model written while it loads: the guard moved, the value's own tag did not.
    expect(await load('entity:User')).toEqual({ id: 7 })
    await cache.invalidateTags(['record:User:7'])
    // Its own row written while it loads: not stored.
    expect(await load('record:User:7')).toBeUndefined()
  })

  it('invalidates exactly the tagged entries, keys and patterns', async () => {
    const cache = new TieredCache()
    await cache.set('ptc:User:id:1', 1, { tags: ['entity:User'] })
    await cache.set('ptc:User:id:2', 2, { tags: ['entity:User'] })
    await cache.set('ptc:Post:id:1', 3, { tags: ['entity:Post'] })
    await cache.invalidateTags(['entity:User'])
    expect(await cache.get('ptc:User:id:1')).toBeUndefined()
    expect(await cache.get('ptc:Post:id:1')).toBe(3)
    await cache.delete('ptc:Post:id:1')
    expect(await cache.get('ptc:Post:id:1')).toBeUndefined()
    await cache.set('ptc:User:id:1', 1)
    await cache.set('ptc:User:id:10', 10)
    await cache.invalidatePattern(KeyPattern.record('User', 1))
    expect(await cache.get('ptc:User:id:1')).toBeUndefined()
    expect(await cache.get('ptc:User:id:10')).toBe(10)
    await cache.clear()
    expect(await cache.get('ptc:User:id:10')).toBeUndefined()
  })

  it('expires entries by the injected clock, with L1 TTL = min(ttl, l1Ttl)', async () => {
    const clock = manualClock()
    const cache = new TieredCache({ l1Ttl: 5, now: clock.now })
    const loader = vi.fn(async () => 'v')
    await cache.getOrSet('short', loader, { ttl: 2 })
    await cache.getOrSet('long', loader, { ttl: 100 })
    clock.advance(1_999)
    await cache.getOrSet('short', loader, { ttl: 2 })
    expect(loader).toHaveBeenCalledTimes(2)
    clock.advance(1)
    await cache.getOrSet('short', loader, { ttl: 2 })
    expect(loader).toHaveBeenCalledTimes(3)
    clock.advance(3_000)
    await cache.getOrSet('long', loader, { ttl: 100 })
    expect(loader).toHaveBeenCalledTimes(4)
  })

  it('serves a stale value once its ttl passed, runs one refresh, then serves the fresh value', async () => {
    const clock = manualClock()
    const { emitter } = recordingEmitter()
    const cache = new TieredCache({ now: clock.now, events: emitter })
    await cache.getOrSet('k', async () => 'v1', { ttl: 10, swr: 60 })
    clock.advance(15_000)
    const gate = deferred()
    const refresh = vi.fn(async () => {
      await gate.promise
      return 'v2'
    })
    const stored = nextEvent(emitter, 'set')
    expect(await cache.getOrSet('k', refresh, { ttl: 10, swr: 60 })).toBe('v1')
    expect(await cache.getOrSet('k', refresh, { ttl: 10, swr: 60 })).toBe('v1')
    expect(refresh).toHaveBeenCalledTimes(1)
    gate.resolve()
    await stored
    expect(await cache.getOrSet('k', refresh, { ttl: 10, swr: 60 })).toBe('v2')
    expect(refresh).toHaveBeenCalledTimes(1)
    clock.advance(70_001)
    expect(await cache.get('k')).toBeUndefined()
  })

  it('does not serve an invalidated value even inside its stale window', async () => {
    const clock = manualClock()
    const cache = new TieredCache({ now: clock.now })
    await cache.getOrSet('k', async () => 'v1', { ttl: 10, swr: 60, tags: ['t'] })
    clock.advance(15_000)
    await cache.invalidateTags(['t'])
    expect(await cache.getOrSet('k', async () => 'v2', { ttl: 10, swr: 60, tags: ['t'] })).toBe('v2')
  })

  it('keeps what it holds when a caller mutates a returned value or the loaded value', async () => {
    const cache = new TieredCache()
    const loaded = { name: 'Ada', tags: ['a'] }
    const first = await cache.getOrSet('k', async () => loaded)
    first.name = 'mutated'
    loaded.tags.push('b')
    const second = await cache.getOrSet('k', async () => ({ name: 'x', tags: [] as string[] }))
    expect(second).toEqual({ name: 'Ada', tags: ['a'] })
    second.tags.push('c')
    expect(await cache.get('k')).toEqual({ name: 'Ada', tags: ['a'] })
  })

  it('network-first loads every time and falls back to the cached value when the loader fails', async () => {
    const cache = new TieredCache()
    expect(await cache.getOrSet('k', async () => 'v1', { policy: 'network-first' })).toBe('v1')
    expect(await cache.getOrSet('k', async () => 'v2', { policy: 'network-first' })).toBe('v2')
    const failing = async () => {
      throw new Error('down')
    }
    expect(await cache.getOrSet('k', failing, { policy: 'network-first' })).toBe('v2')
    await expect(cache.getOrSet('other', failing, { policy: 'network-first' })).rejects.toThrow('down')
  })

  it('cache-only answers from the cache or throws a CacheMissError, never calling the loader', async () => {
    const cache = new TieredCache()
    const loader = vi.fn(async () => 'v')
    const error = await cache.getOrSet('k', loader, { policy: 'cache-only' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CacheMissError)
    expect((error as CacheMissError).code).toBe('E_CACHE_MISS')
    await cache.set('k', 'cached')
    expect(await cache.getOrSet('k', loader, { policy: 'cache-only' })).toBe('cached')
    expect(loader).not.toHaveBeenCalled()
  })

  it('network-only always calls the loader and stores the result', async () => {
    const cache = new TieredCache()
    const loader = vi.fn(async () => 'v')
    await cache.getOrSet('k', loader, { policy: 'network-only' })
    await cache.getOrSet('k', loader, { policy: 'network-only' })
    expect(loader).toHaveBeenCalledTimes(2)
    expect(await cache.get('k')).toBe('v')
  })

  it('returns but does not cache a value larger than maxEntryBytes', async () => {
    const cache = new TieredCache({ maxEntryBytes: 100 })
    const loader = vi.fn(async () => 'x'.repeat(200))
    await cache.getOrSet('k', loader)
    await cache.getOrSet('k', loader)
    expect(loader).toHaveBeenCalledTimes(2)
  })

  it('emits hit, miss, set and invalidate events with the read meta', async () => {
    const { emitter, seen } = recordingEmitter()
    const cache = new TieredCache({ events: emitter })
    const meta = { model: 'User', operation: 'findUnique' }
    await cache.getOrSet('k', async () => 1, { meta, tags: ['t'] })
    await cache.getOrSet('k', async () => 1, { meta })
    await cache.invalidateTags(['t'])
    expect(seen).toEqual([
      { name: 'miss', payload: { key: 'k', ...meta } },
      { name: 'set', payload: { key: 'k', tier: 'l1' } },
      { name: 'hit', payload: { key: 'k', tier: 'l1', ...meta } },
      { name: 'invalidate', payload: { tags: ['t'] } },
    ])
  })

  it("skips a failing L1, counts it and reports it as an 'error' event", async () => {
    const { emitter, seen } = recordingEmitter()
    const cache = new TieredCache({ events: emitter })
    const cursed = {
      get boom(): never {
        throw new Error('cannot read me')
      },
    }
    expect(await cache.getOrSet('k', async () => cursed)).toBe(cursed)
    expect(cache.stats()).toMatchObject({ errors: 1, l1: { entries: 0 } })
    const error = seen.find((e) => e.name === 'error')?.payload as { tier: string; error: L1Error }
    expect(error.tier).toBe('l1')
    expect(error.error).toBeInstanceOf(L1Error)
    expect(error.error.code).toBe('E_L1')
    expect((error.error.cause as Error).message).toBe('cannot read me')
  })

  it("does not emit 'error' to an EventEmitter without an error listener, which would throw", async () => {
    const cache = new TieredCache({ events: new EventEmitter() })
    const cursed = {
      get boom(): never {
        throw new Error('cannot read me')
      },
    }
    expect(await cache.getOrSet('k', async () => cursed)).toBe(cursed)
  })

  it('fails with L1Error when a required L1 fails', async () => {
    const cache = new TieredCache({ l1Required: true })
    const cursed = {
      get boom(): never {
        throw new Error('cannot read me')
      },
    }
    await expect(cache.getOrSet('k', async () => cursed)).rejects.toBeInstanceOf(L1Error)
  })

  it('keeps answering when a listener throws', async () => {
    const cache = new TieredCache({
      events: {
        emit() {
          throw new Error('listener bug')
        },
      },
    })
    expect(await cache.getOrSet('k', async () => 1)).toBe(1)
  })

  it('works without any tier, always loading', async () => {
    const cache = new TieredCache({ l1: false })
    const loader = vi.fn(async () => 1)
    await cache.getOrSet('k', loader)
    await cache.getOrSet('k', loader)
    expect(loader).toHaveBeenCalledTimes(2)
  })

  it('uses the MemoryCache it is given', async () => {
    const l1 = new MemoryCache({ max: 10 })
    const cache = new TieredCache({ l1 })
    await cache.set('k', 1)
    expect(l1.has('k')).toBe(true)
    expect(cache.stats().l1.entries).toBe(1)
    expect(cache.stats().l1.bytes).toBeGreaterThan(0)
  })

  it.each([
    ['l1Ttl', { l1Ttl: 0 }],
    ['maxEntryBytes', { maxEntryBytes: 0 }],
    ['now', { now: 'x' as unknown as () => number }],
    ['l1', { l1: {} as MemoryCache }],
    ['l2', { l2: {} as never }],
  ])('rejects a bad %s with a TypeError naming it', (option, options) => {
    let error: unknown
    try {
      new TieredCache(options)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(TypeError)
    expect((error as CacheOptionError).option).toBe(option)
  })

  it.each([
    ['breaker.threshold', { breaker: { threshold: 0 } }],
    ['breaker.coolDownMs', { breaker: { coolDownMs: -1 } }],
    ['breaker.limit', { breaker: { limit: 3 } as never }],
    ['writeThroughL1', { writeThroughL1: 'yes' as never }],
    ['l2Required', { l2Required: 1 as never }],
    ['events.emit', { events: {} as never }],
    ['bus', { bus: 'on' as never }],
    ['lock', { lock: true }],
  ])('rejects a bad %s with a CacheOptionError naming it', (option, options) => {
    expect(() => new TieredCache(options)).toThrow(expect.objectContaining({ name: 'CacheOptionError', option }))
  })

  it("holds tags to the cache layer's rule: non-empty, no tabs or newlines, any length", async () => {
    const cache = new TieredCache()
    await expect(cache.getOrSet('k', async () => 1, { tags: [''] })).rejects.toMatchObject({ option: 'tags' })
    await expect(cache.getOrSet('k', async () => 1, { guards: ['a\rb'] })).rejects.toMatchObject({ option: 'guards' })
    expect(await cache.getOrSet('k', async () => 1, { tags: ['x'.repeat(256)] })).toBe(1)
    // What the Prisma layer builds from a 256-character user tag (`u:` + 256) or a long record id.
    const long = `u:${'x'.repeat(256)}`
    expect(await cache.getOrSet('long', async () => 2, { tags: [long] })).toBe(2)
    await cache.invalidateTags([long])
    expect(await cache.getOrSet('long', async () => 3, { tags: [long] })).toBe(3)
  })

  it('ignores the TTL option of a tier it does not have', () => {
    expect(() => new TieredCache({ l1: false, l1Ttl: 0, l2Ttl: 0 })).not.toThrow()
  })

  it('rejects reserved keys, bad tags and a negative ttl with a TypeError naming them', async () => {
    const cache = new TieredCache()
    await expect(cache.getOrSet('#v:x', async () => 1)).rejects.toMatchObject({ option: 'key' })
    await expect(cache.getOrSet('k', async () => 1, { tags: ['a\tb'] })).rejects.toMatchObject({ option: 'tags' })
    await expect(cache.invalidateTags(['a\nb'])).rejects.toBeInstanceOf(TypeError)
    await expect(cache.getOrSet('k', async () => 1, { ttl: -1 })).rejects.toMatchObject({ option: 'ttl' })
    await expect(cache.set('k', 1, { swr: Number.NaN })).rejects.toMatchObject({ option: 'swr' })
  })
})
