import { EventEmitter } from 'node:events'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { KeyLayout } from '../../../src/cache/redis/layout.ts'
import { RedisCache } from '../../../src/cache/redis/redis-cache.ts'
import { TieredCache } from '../../../src/cache/tiered/tiered-cache.ts'
import type { CacheEventMap } from '../../../src/core/events.ts'
import { cachedInstance } from '../../support/cached.ts'
import { Testbed } from '../../support/factory.ts'
import { deferred, nextEvent } from '../../unit/cache/support.ts'

const bed = new Testbed()
afterAll(() => bed.cleanup())
let count = 0
const nextPrefix = () => `${bed.prefix}_${count++}`

/** Two application instances on PostgreSQL sharing Redis under a prefix of their own. */
async function twoInstances(lock: boolean) {
  const options = { prefix: nextPrefix(), stampede: { lock } }
  return [await cachedInstance(bed, 'postgres', options), await cachedInstance(bed, 'postgres', options)] as const
}

/** 1 000 concurrent reads of one missing key, half on each of two instances; returns the queries per instance. */
async function stampede(lock: boolean) {
  const [a, b] = await twoInstances(lock)
  const document = await a.base.document.create({ data: { title: 'hot' } })
  a.counter.count = 0
  b.counter.count = 0
  const waited: CacheEventMap['stampede:waited'][] = []
  for (const { events } of [a, b]) events.on('stampede:waited', (payload) => waited.push(payload))

  const reads = Array.from({ length: 1000 }, (_, i) =>
    (i % 2 === 0 ? a : b).prisma.document.findUnique({ where: { id: document.id }, cache: true }).then((r) => r),
  )
  const results = await Promise.all(reads)

  for (const result of results) expect(result).toEqual(document)
  const queries = a.counter.count + b.counter.count
  console.log(
    `stampede, lock ${lock}: 1000 concurrent misses -> ${queries} database queries ` +
      `(A ${a.counter.count}, B ${b.counter.count}); waits: ${JSON.stringify(waited.map((w) => w.outcome))}`,
  )
  return { a: a.counter.count, b: b.counter.count, waited }
}

describe('1 000 concurrent misses of one key over two instances', () => {
  it('run at most one database query per instance without the lock', async () => {
    const { a, b } = await stampede(false)
    expect(a).toBe(1)
    expect(b).toBeLessThanOrEqual(1)
  })

  it('run exactly one database query in all with the lock', async () => {
    const { a, b, waited } = await stampede(true)
    expect(a + b).toBe(1)
    // The other instance waited for the holder's value and read it from L2 (never loaded itself).
    for (const { outcome } of waited) expect(outcome).toBe('filled')
  })
})

describe('the stampede lock', () => {
  /** One instance of the cache layer with the lock; `waitMs` short so the expiry tests are quick. */
  async function instance(prefix: string, waitMs = 2_000) {
    const events = new EventEmitter()
    events.on('error', () => {})
    const l2 = new RedisCache({ redis: bed.redis(), prefix, timeoutMs: 5_000 })
    const cache = new TieredCache({ l2, events, lock: { waitMs } })
    bed.defer(() => cache.close())
    await cache.ready()
    return { cache, events, l2 }
  }

  it("gives a waiting instance the holder's value as a validated L2 hit, without loading", async () => {
    const prefix = nextPrefix()
    const holder = await instance(prefix)
    const waiter = await instance(prefix)
    const gate = deferred<string>()
    const locked = nextEvent(holder.events, 'stampede:locked')
    const first = holder.cache.getOrSet('k', () => gate.promise, { tags: ['t'] })
    await locked
    const waiting = nextEvent(waiter.events, 'stampede:waiting')
    const loader = vi.fn(async () => 'loaded by the waiter')
    const second = waiter.cache.getOrSet('k', loader, { tags: ['t'] })
    await waiting
    const waited = nextEvent<CacheEventMap['stampede:waited']>(waiter.events, 'stampede:waited')
    gate.resolve('loaded by the holder')
    expect(await first).toBe('loaded by the holder')
    expect(await second).toBe('loaded by the holder')
    expect((await waited).outcome).toBe('filled')
    expect(loader).not.toHaveBeenCalled()
    expect(waiter.cache.stats()).toMatchObject({ loads: 0, l2: { hits: 1 } })
  })

  it('makes a waiter load by itself when the holder could not store because a write landed meanwhile', async () => {
    const prefix = nextPrefix()
    const holder = await instance(prefix)
    const waiter = await instance(prefix)
    const gate = deferred<string>()
    const locked = nextEvent(holder.events, 'stampede:locked')
    const first = holder.cache.getOrSet('k', () => gate.promise, { tags: ['t'] })
    await locked
    const waiting = nextEvent(waiter.events, 'stampede:waiting')
    const second = waiter.cache.getOrSet('k', async () => 'new', { tags: ['t'] })
    await waiting
    // The holder read the old value before this write: it must reach nobody after the write.
    await waiter.cache.invalidateTags(['t'])
    const waited = nextEvent<CacheEventMap['stampede:waited']>(waiter.events, 'stampede:waited')
    gate.resolve('old')
    expect(await first).toBe('old')
    expect(await second).toBe('new')
    expect((await waited).outcome).toBe('acquired')
    expect(await holder.cache.getOrSet('k', async () => 'unused', { tags: ['t'] })).toBe('new')
  })

  it('blocks nobody beyond its expiry when the holder died holding it', async () => {
    const prefix = nextPrefix()
    const { cache, events } = await instance(prefix, 300)
    // A holder that took the lock and vanished (its process killed before it released).
    await bed.redis().set(new KeyLayout(prefix, 1).lock('k'), 'a dead holder', 'PX', 300)
    const waited = nextEvent<CacheEventMap['stampede:waited']>(events, 'stampede:waited')
    expect(await cache.getOrSet('k', async () => 'loaded')).toBe('loaded')
    const { outcome } = await waited
    // The lock expired first (then it was taken here), or the wait ran out just as it did.
    expect(['acquired', 'timeout']).toContain(outcome)
  })

  it('lets a waiter give up after waitMs and load by itself when the holder hangs', async () => {
    const prefix = nextPrefix()
    const holder = await instance(prefix, 300)
    const waiter = await instance(prefix, 300)
    const hung = deferred<string>()
    const locked = nextEvent(holder.events, 'stampede:locked')
    const first = holder.cache.getOrSet('k', () => hung.promise)
    await locked
    const waited = nextEvent<CacheEventMap['stampede:waited']>(waiter.events, 'stampede:waited')
    expect(await waiter.cache.getOrSet('k', async () => 'loaded by the waiter')).toBe('loaded by the waiter')
    expect(['acquired', 'timeout']).toContain((await waited).outcome)
    hung.resolve('late')
    expect(await first).toBe('late')
  })

  it('releases only its own lock, and removes it once the value is stored', async () => {
    const prefix = nextPrefix()
    const { cache, l2 } = await instance(prefix)
    const admin = bed.redis()
    await admin.set(new KeyLayout(prefix, 1).lock('other'), 'someone else', 'PX', 10_000)
    expect(await l2.unlock('other', 'not the holder')).toBe(false)
    expect(await admin.get(new KeyLayout(prefix, 1).lock('other'))).toBe('someone else')
    await cache.getOrSet('k', async () => 'v')
    await cache.close()
    expect(await admin.exists(new KeyLayout(prefix, 1).lock('k'))).toBe(0)
  })
})
