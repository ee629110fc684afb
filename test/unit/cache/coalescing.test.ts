import { describe, expect, it } from 'vitest'
import { TieredCache } from '../../../src/cache/tiered/tiered-cache.ts'
import { deferred } from './support.ts'

/** A load of `key` that has started (read the database) and waits for `release` to return `value`. */
function slowLoad(cache: TieredCache, key: string, value: string, tags: readonly string[]) {
  const started = deferred()
  const gate = deferred()
  const result = cache.getOrSet(
    key,
    async () => {
      started.resolve()
      await gate.promise
      return value
    },
    { tags },
  )
  return { result, started: started.promise, release: () => gate.resolve() }
}

describe('sharing a load in progress', () => {
  it('shares a load with a caller that arrives while it runs and nothing was invalidated', async () => {
    const cache = new TieredCache()
    const slow = slowLoad(cache, 'k', 'v', ['t'])
    await slow.started
    const joined = cache.getOrSet('k', async () => 'a second load', { tags: ['t'] })
    slow.release()
    expect(await slow.result).toBe('v')
    expect(await joined).toBe('v')
  })

  it.each([
    ['its tag', (cache: TieredCache) => cache.invalidateTags(['t'])],
    ['its key', (cache: TieredCache) => cache.invalidateKeys(['k'])],
    ['a pattern matching its key', (cache: TieredCache) => cache.invalidatePattern('k*')],
    ['everything', (cache: TieredCache) => cache.clear()],
  ])(
    'does not hand a read that starts after an invalidation of %s a load that began before it',
    async (_, invalidate) => {
      const cache = new TieredCache()
      const slow = slowLoad(cache, 'k', 'old', ['t'])
      await slow.started
      await invalidate(cache)
      const after = cache.getOrSet('k', async () => 'new', { tags: ['t'] })
      slow.release()
      // The read that started before the write may get the old value; the one after it may not.
      expect(await slow.result).toBe('old')
      expect(await after).toBe('new')
      expect(await cache.getOrSet('k', async () => 'unused', { tags: ['t'] })).toBe('new')
    },
  )

  it('keeps sharing a load whose tags an invalidation did not name', async () => {
    const cache = new TieredCache()
    const slow = slowLoad(cache, 'k', 'v', ['t'])
    await slow.started
    await cache.invalidateTags(['other'])
    const joined = cache.getOrSet('k', async () => 'a second load', { tags: ['t'] })
    slow.release()
    expect(await joined).toBe('v')
  })
})
