import { describe, expect, it } from 'vitest'
import { KeyPattern } from '../../../src/cache/keys.ts'
import { MemoryCache } from '../../../src/cache/memory.ts'
import { CacheOptionError } from '../../../src/core/errors.ts'
import { heapBytes, stringHeapBytes } from '../../../src/core/size.ts'

function clock(start = 1_000_000) {
  const time = { now: start }
  return { time, now: () => time.now }
}

describe('MemoryCache', () => {
  it('sets, gets and deletes a value', () => {
    const cache = new MemoryCache()
    expect(cache.set('a', { n: 1 })).toBe(true)
    expect(cache.get('a')?.value).toEqual({ n: 1 })
    expect(cache.delete('a')).toBe(1)
    expect(cache.get('a')).toBeUndefined()
  })

  it('expires an entry when the clock passes its TTL', () => {
    const { time, now } = clock()
    const cache = new MemoryCache({ now })
    cache.set('a', 1, { ttl: 10 })
    time.now += 9_999
    expect(cache.get('a')?.fresh).toBe(true)
    time.now += 1
    expect(cache.get('a')).toBeUndefined()
    expect(cache.size).toBe(0)
  })

  it('returns an entry inside its stale window, marked not fresh, and drops it after', () => {
    const { time, now } = clock()
    const cache = new MemoryCache({ now })
    cache.set('a', 1, { ttl: 10, swr: 5 })
    time.now += 12_000
    expect(cache.get('a')).toMatchObject({ value: 1, fresh: false })
    time.now += 3_000
    expect(cache.get('a')).toBeUndefined()
  })

  it('uses its default TTL when set gives none', () => {
    const { time, now } = clock()
    const cache = new MemoryCache({ ttl: 2, now })
    cache.set('a', 1)
    time.now += 2_000
    expect(cache.get('a')).toBeUndefined()
  })

  it('holds at most its capacity: 5 after 10 inserts', () => {
    const cache = new MemoryCache({ max: 5 })
    for (let i = 0; i < 10; i++) cache.set(`k${i}`, i)
    expect(cache.size).toBe(5)
  })

  it('evicts the least recently used entry, a read counting as a use', () => {
    const cache = new MemoryCache({ max: 3 })
    cache.set('a', 1)
    cache.set('b', 2)
    cache.set('c', 3)
    cache.get('a')
    cache.set('d', 4)
    expect(cache.has('a')).toBe(true)
    expect(cache.has('b')).toBe(false)
  })

  it('does not count expired entries', () => {
    const { time, now } = clock()
    const cache = new MemoryCache({ now })
    cache.set('a', 1, { ttl: 1 })
    cache.set('b', 1, { ttl: 100 })
    time.now += 1_000
    expect(cache.size).toBe(1)
  })

  it('invalidates a pattern of one entity and leaves the other', () => {
    const cache = new MemoryCache()
    cache.set('ptc:User:id:1', 1)
    cache.set('ptc:User:id:2', 2)
    cache.set('ptc:Post:id:1', 3)
    expect(cache.invalidatePattern(KeyPattern.entity('User'))).toBe(2)
    expect(cache.has('ptc:User:id:1')).toBe(false)
    expect(cache.has('ptc:Post:id:1')).toBe(true)
  })

  it('invalidates exactly the entries that carry a tag', () => {
    const cache = new MemoryCache()
    cache.set('a', 1, { tags: ['t1'] })
    cache.set('b', 2, { tags: ['t1', 't2'] })
    cache.set('c', 3, { tags: ['t2'] })
    cache.set('d', 4)
    expect(cache.invalidateTags(['t1'])).toBe(2)
    expect(['a', 'b', 'c', 'd'].map((k) => cache.has(k))).toEqual([false, false, true, true])
  })

  it('keeps its tag index in step with evictions, overwrites and expiry', () => {
    const { time, now } = clock()
    const cache = new MemoryCache({ max: 2, now })
    cache.set('a', 1, { tags: ['t'] })
    cache.set('b', 2, { tags: ['t'] })
    cache.set('c', 3) // evicts a
    cache.set('a', 4) // a again, untagged
    expect(cache.invalidateTags(['t'])).toBe(0) // b was evicted by a; a does not carry t
    expect(cache.get('a')?.value).toBe(4)

    cache.set('x', 5, { tags: ['t'] })
    cache.set('x', 6, { tags: ['u'] })
    expect(cache.invalidateTags(['t'])).toBe(0)
    expect(cache.get('x')?.value).toBe(6)

    cache.set('y', 7, { tags: ['t'], ttl: 1 })
    time.now += 1_000
    expect(cache.size).toBe(1) // y expired and is purged
    cache.set('y', 8)
    expect(cache.invalidateTags(['t'])).toBe(0)
    expect(cache.get('y')?.value).toBe(8)
  })

  it('never serves an invalidated entry, even inside its stale or grace window, before the sweep runs', () => {
    const { time, now } = clock()
    const cache = new MemoryCache({ now })
    cache.set('a', 1, { tags: ['t'], ttl: 10, swr: 10, grace: 10 })
    cache.set('b', 2, { tags: ['u'] })
    cache.invalidateTags(['t'])
    expect(cache.has('a')).toBe(false)
    expect(cache.get('a')).toBeUndefined()
    time.now += 15_000
    expect(cache.get('a', { grace: true })).toBeUndefined()
    expect(cache.get('b')?.value).toBe(2)
  })

  it('counts invalidated entries out of size and bytes at once, and sweeps them in the background', async () => {
    const cache = new MemoryCache()
    cache.set('other', 1, { tags: ['u'] })
    const other = cache.bytes
    for (let i = 0; i < 1000; i++) cache.set(`k${i}`, i, { tags: ['t'] })
    expect(cache.invalidateTags(['t'])).toBe(1000)
    expect(cache.size).toBe(1)
    expect(cache.bytes).toBe(other)

    for (let i = 0; i < 1000; i++) cache.set(`k${i}`, i, { tags: ['t'] })
    cache.invalidateTags(['t'])
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect([...Array(1000).keys()].some((i) => cache.has(`k${i}`))).toBe(false)
    expect(cache.size).toBe(1)
  })

  it('invalidates a tag carried by one entry, then shared, then left to one again', () => {
    const cache = new MemoryCache()
    cache.set('a', 1, { tags: ['t'] })
    cache.set('a', 2, { tags: ['t'] })
    expect(cache.invalidateTags(['t'])).toBe(1)
    cache.set('a', 1, { tags: ['t'] })
    cache.set('b', 2, { tags: ['t'] })
    cache.delete('a')
    cache.set('c', 3, { tags: ['u'] })
    expect(cache.invalidateTags(['t'])).toBe(1)
    expect([cache.has('a'), cache.has('b'), cache.has('c')]).toEqual([false, false, true])
    cache.set('d', 4, { tags: ['v', 'v'] })
    expect(cache.invalidateTags(['v', 'u'])).toBe(2)
    expect(cache.size).toBe(0)
  })

  it('sweeps in the background the entries of many tags each carried by one entry', async () => {
    const cache = new MemoryCache()
    for (let i = 0; i < 1000; i++) cache.set(`k${i}`, i, { tags: [`t${i}`, 'shared'] })
    cache.set('other', 1, { tags: ['u'] })
    const other = cache.bytes / 1001
    expect(cache.invalidateTags(Array.from({ length: 1000 }, (_, i) => `t${i}`))).toBe(1000)
    expect(cache.has('k0')).toBe(false)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect([...Array(1000).keys()].some((i) => cache.has(`k${i}`))).toBe(false)
    expect(cache.size).toBe(1)
    expect(cache.bytes).toBeLessThan(other)
    expect(cache.invalidateTags(['shared'])).toBe(0)
  })

  it('keeps an entry stored after its tag was invalidated, through the sweep of the older one', async () => {
    const cache = new MemoryCache()
    cache.set('a', 'old', { tags: ['t'] })
    cache.invalidateTags(['t'])
    cache.set('a', 'new', { tags: ['t'] })
    await new Promise((resolve) => setImmediate(resolve))
    expect(cache.get('a')?.value).toBe('new')
    expect(cache.size).toBe(1)
    expect(cache.invalidateTags(['t'])).toBe(1)
    expect(cache.get('a')).toBeUndefined()
  })

  it('keeps valid entries and drops invalidated ones when it forgets old invalidations', () => {
    const cache = new MemoryCache()
    cache.set('kept', 1, { tags: ['t-kept'] })
    cache.set('gone', 2, { tags: ['t0'] })
    for (let i = 0; i <= 100_000; i += 1000) cache.invalidateTags(Array.from({ length: 1000 }, (_, j) => `t${i + j}`))
    expect(cache.get('kept')?.value).toBe(1)
    expect(cache.get('gone')).toBeUndefined()
    cache.invalidateTags(['t-kept'])
    expect(cache.get('kept')).toBeUndefined()
  })

  it('returns copies, so a caller mutating a value changes neither the cache nor the next caller', () => {
    const cache = new MemoryCache()
    const original = { name: 'Ada', posts: [{ id: 1 }] }
    cache.set('a', original)
    original.name = 'changed before read'
    const first = cache.get<typeof original>('a')!.value
    first.posts.push({ id: 2 })
    first.name = 'changed after read'
    expect(cache.get('a')?.value).toEqual({ name: 'Ada', posts: [{ id: 1 }] })
  })

  it('refuses a set captured before an invalidation of one of its tags, guards or its key', () => {
    const cache = new MemoryCache()
    const seq = cache.capture()
    cache.invalidateTags(['t'])
    expect(cache.set('a', 1, { tags: ['t'], capturedSeq: seq })).toBe(false)
    expect(cache.set('a', 1, { tags: ['u'], guards: ['t'], capturedSeq: seq })).toBe(false)
    expect(cache.set('a', 1, { tags: ['u'], capturedSeq: seq })).toBe(true)
    const later = cache.capture()
    cache.delete('a')
    expect(cache.set('a', 1, { capturedSeq: later })).toBe(false)
    expect(cache.set('a', 1, { tags: ['t'], capturedSeq: cache.capture() })).toBe(true)
  })

  it('refuses every set captured before a clear or a pattern invalidation', () => {
    const cache = new MemoryCache()
    const seq = cache.capture()
    cache.clear()
    expect(cache.set('a', 1, { capturedSeq: seq })).toBe(false)
    const next = cache.capture()
    cache.invalidatePattern('nothing:*')
    expect(cache.set('a', 1, { capturedSeq: next })).toBe(false)
  })

  it('forgets old invalidations past a bound and then refuses every older capture', () => {
    const cache = new MemoryCache()
    const seq = cache.capture()
    for (let i = 0; i <= 100_000; i += 1000) cache.invalidateTags(Array.from({ length: 1000 }, (_, j) => `t${i + j}`))
    expect(cache.set('a', 1, { tags: ['unrelated'], capturedSeq: seq })).toBe(false)
    expect(cache.set('a', 1, { tags: ['t5'], capturedSeq: cache.capture() })).toBe(true)
  })

  it('counts an entry as the heap estimate of its value, its key, its tags and its bookkeeping', () => {
    const cache = new MemoryCache()
    const row = { id: 8, email: 'user8@example.com', name: 'User number 8', createdAt: new Date() }
    cache.set('k', 1)
    const bare = cache.bytes
    cache.set('k', row)
    expect(cache.bytes).toBe(bare + heapBytes(row))
    cache.set('k', 1, { tags: ['a:User'] })
    const tagged = cache.bytes
    expect(tagged).toBeGreaterThan(bare + stringHeapBytes('a:User'))
    cache.set('k', 1, { tags: ['a:User', 'a:User'] })
    expect(cache.bytes).toBe(tagged)
    cache.set('k', 1, { tags: ['a:User', 'r:User:8'] })
    expect(cache.bytes).toBeGreaterThan(tagged + stringHeapBytes('r:User:8'))
    const long = new MemoryCache()
    const key = 'ptc:User:id:8:32effbff182e.VkiCYVbnUSri:findUnique:{"where":{"id":8}}'
    long.set(key, 1)
    expect(long.bytes - bare).toBe(stringHeapBytes(key) - stringHeapBytes('k'))
  })

  it('counts each entry once, and nothing once it is gone', () => {
    const cache = new MemoryCache()
    cache.set('a', 'x', { tags: ['t'] })
    const one = cache.bytes
    cache.set('a', 'x', { tags: ['t'] })
    expect(cache.bytes).toBe(one)
    cache.set('b', 'x', { tags: ['t'] })
    expect(cache.bytes).toBe(2 * one)
    cache.invalidateTags(['t'])
    expect(cache.bytes).toBe(0)
    cache.set('a', 'x')
    cache.delete('a')
    expect(cache.bytes).toBe(0)
  })

  it('takes a known value size instead of the estimate, and still adds what the entry costs', () => {
    const cache = new MemoryCache()
    cache.set('a', 'x')
    const bare = cache.bytes - heapBytes('x')
    cache.set('a', 'x', { bytes: 1_000 })
    expect(cache.bytes).toBe(bare + 1_000)
  })

  it('bounds its bytes: the least recently used entries go, and an entry larger than the bound is refused', () => {
    const cache = new MemoryCache({ maxBytes: 3_000 })
    cache.set('a', 'x', { bytes: 1_000 })
    const one = cache.bytes
    cache.set('b', 'y', { bytes: 1_000 })
    cache.get('a')
    cache.set('c', 'z', { bytes: 1_000 })
    expect(cache.bytes).toBeLessThanOrEqual(3_000)
    expect(cache.bytes).toBe(2 * one)
    expect([cache.has('a'), cache.has('b'), cache.has('c')]).toEqual([true, false, true])
    expect(cache.set('big', 'w', { bytes: 3_000 })).toBe(false)
    expect(cache.has('big')).toBe(false)
    expect(cache.set('a', 'w', { bytes: 3_000 })).toBe(false)
    expect(cache.has('a')).toBe(false)
  })

  it('bounds the bytes of values it estimates: a 500-character string fits in 1000 bytes, a 2000-character one does not', () => {
    const cache = new MemoryCache({ maxBytes: 1_000 })
    expect(cache.set('a', { text: 'x'.repeat(500) })).toBe(true)
    expect(cache.bytes).toBeGreaterThan(500)
    expect(cache.set('b', { text: 'x'.repeat(2_000) })).toBe(false)
    expect(cache.set('c', { text: '€'.repeat(500) })).toBe(false)
  })

  it('keeps bytes under maxBytes through a fill of many rows', () => {
    const cache = new MemoryCache({ max: 10_000, maxBytes: 64 * 1024 })
    for (let id = 1; id <= 2_000; id++)
      cache.set(
        `User:${id}`,
        { id, email: `user${id}@example.com`, name: `User number ${id}` },
        { tags: [`r:User:${id}`] },
      )
    expect(cache.bytes).toBeLessThanOrEqual(64 * 1024)
    expect(cache.bytes).toBeGreaterThan(60 * 1024)
    expect(cache.size).toBeLessThan(2_000)
    expect(cache.has('User:2000')).toBe(true)
    expect(cache.has('User:1')).toBe(false)
  })

  it.each([
    ['max', { max: 0 }],
    ['max', { max: 1.5 }],
    ['maxBytes', { maxBytes: -1 }],
    ['ttl', { ttl: -1 }],
    ['ttl', { ttl: 0 }],
    ['now', { now: 5 as unknown as () => number }],
  ])('rejects a bad %s with a TypeError naming it', (option, options) => {
    let error: unknown
    try {
      new MemoryCache(options)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(TypeError)
    expect(error).toBeInstanceOf(CacheOptionError)
    expect((error as CacheOptionError).option).toBe(option)
    expect((error as CacheOptionError).code).toBe('E_CACHE_OPTION')
  })
})
