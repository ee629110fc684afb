import type { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { RedisCache } from '../../../src/cache/redis/redis-cache.ts'
import { TieredCache } from '../../../src/cache/tiered/tiered-cache.ts'
import { Testbed } from '../../support/factory.ts'
import { RedisServer } from '../../support/redis-server.ts'
import { heldLoader } from '../../unit/cache/support.ts'

/**
 * L2 tag versions are ordered per slot group (docs/design.md, "Ordered versions"): a late tag is
 * judged by its own version against the sequence value captured before the load, and its guards
 * only when its version cannot tell (missing, or written by an older release). L1 is off in every
 * cache here, so L2 alone decides what is stored.
 */
const tb = new Testbed()
afterAll(() => tb.cleanup())
const admin = tb.redis()
let count = 0
const nextPrefix = () => `${tb.prefix}_${count++}`

const GUARD = 'L:Article.favoritedBy'
type Row = { readonly id: number }
const ROWS: readonly Row[] = [{ id: 1 }, { id: 2 }]
const LIST = {
  tags: ['m:Article'],
  guards: [GUARD],
  lateTags: (rows: readonly Row[]) => rows.map((row) => `r:Article:${row.id}`),
}

async function instance(prefix: string, url?: string) {
  const l2 = new RedisCache({ redis: tb.redis(url), prefix, timeoutMs: 10_000 })
  const cache = new TieredCache({ l1: false, l2 })
  tb.defer(() => cache.close())
  await cache.ready()
  return { cache, l2 }
}

/**
 * Loads the list under `key` (after its capture) while `during` runs, and tells whether another
 * instance then finds it in L2. `options` replaces the list's tags, guards and late tags.
 */
async function storedAcross(
  cache: TieredCache,
  key: string,
  during: () => Promise<unknown>,
  options: Partial<typeof LIST> = LIST,
): Promise<boolean> {
  const held = heldLoader(ROWS)
  const read = cache.getOrSet(key, held.load, options)
  await held.started
  await during()
  held.release()
  expect(await read).toEqual(ROWS)
  await cache.settled()
  // Another instance's read of L2 (the GET script checks the versions).
  return (await readers.get(cache)!.get(key)).hit
}

/** The other instance of each writing cache. */
const readers = new Map<TieredCache, RedisCache>()

/** One instance that loads, and another that reads what it stored, on a fresh prefix. */
async function setup(url?: string) {
  const prefix = nextPrefix()
  const writer = await instance(prefix, url)
  readers.set(writer.cache, (await instance(prefix, url)).l2)
  return writer
}

const sequence = (redis: Redis, l2: RedisCache) => redis.get(l2.layout.sequence(0))

describe('ordered L2 tag versions', () => {
  it('stores a list whose guard moved during its load for another row, its own rows untouched', async () => {
    const { cache } = await setup()
    // The rows were written once: their record tags have versions.
    await cache.invalidateTags(['r:Article:1', 'r:Article:2'])
    const stored = await storedAcross(cache, 'list', () => cache.invalidateTags(['L:Article.favoritedBy:9', GUARD]))
    expect(stored).toBe(true)
  })

  it('refuses a list one of whose rows was written during its load, guard or not', async () => {
    const { cache } = await setup()
    await cache.invalidateTags(['r:Article:1', 'r:Article:2'])
    expect(await storedAcross(cache, 'list', () => cache.invalidateTags(['r:Article:2']))).toBe(false)
    expect(await storedAcross(cache, 'list', () => cache.invalidateTags(['r:Article:1', GUARD]))).toBe(false)
    // Nothing moved: stored, so the refusals above were the writes'.
    expect(await storedAcross(cache, 'list', async () => {})).toBe(true)
  })

  it('falls back to the guards for a late tag without a version: refused when one moved, stored otherwise', async () => {
    const { cache, l2 } = await setup()
    expect(await storedAcross(cache, 'a', () => cache.invalidateTags([GUARD]))).toBe(false)
    // The refusal gave the rows versions (the current sequence value): the next load of them is
    // judged by order, so the same overlap no longer refuses it.
    expect(await admin.exists(l2.layout.version(0, 'r:Article:1'), l2.layout.version(0, 'r:Article:2'))).toBe(2)
    expect(await storedAcross(cache, 'a', () => cache.invalidateTags([GUARD]))).toBe(true)

    const { cache: fresh } = await setup()
    expect(await storedAcross(fresh, 'b', async () => {})).toBe(true)
  })

  it('refuses a list whose row was written during its load and whose version was then lost', async () => {
    const { cache, l2 } = await setup()
    await cache.invalidateTags(['r:Article:1', 'r:Article:2'])
    const stored = await storedAcross(cache, 'list', async () => {
      await cache.invalidateTags(['r:Article:1', GUARD])
      // Stands for an eviction of the bumped version.
      await admin.del(l2.layout.version(0, 'r:Article:1'))
    })
    expect(stored).toBe(false)
  })

  it('orders tokens after the sequence key is lost, and keeps judging stores right', async () => {
    const { cache, l2 } = await setup()
    await cache.invalidateTags(['r:Article:1', 'r:Article:2'])
    const before = BigInt((await admin.get(l2.layout.version(0, 'r:Article:1')))!)
    await admin.del(l2.layout.sequence(0))
    await cache.invalidateTags(['r:Article:1'])
    const after = BigInt((await admin.get(l2.layout.version(0, 'r:Article:1')))!)
    expect(after).toBeGreaterThan(before)
    expect(BigInt((await sequence(admin, l2))!)).toBe(after)

    // Lost during a load that then sees its row written: refused.
    const written = await storedAcross(cache, 'one', async () => {
      await admin.del(l2.layout.sequence(0))
      await cache.invalidateTags(['r:Article:2'])
    })
    expect(written).toBe(false)
    // Lost during a load that sees another row written: stored.
    const other = await storedAcross(cache, 'two', async () => {
      await admin.del(l2.layout.sequence(0))
      await cache.invalidateTags(['L:Article.favoritedBy:9', GUARD])
    })
    expect(other).toBe(true)
  })

  it('gives no token twice when the sequence loses its last values, as after a failover that lost them', async () => {
    const { l2 } = await setup()
    const [sequenceKey, versionKey] = [l2.layout.sequence(0), l2.layout.version(0, 't')]
    await l2.invalidate(['t'])
    const replicated = { sequence: (await admin.get(sequenceKey))!, version: (await admin.get(versionKey))! }
    // The master gives `t` a token the replica never receives, and a load captures it.
    await l2.invalidate(['t'])
    const read = await l2.get('k', ['t'])
    if (read.hit) throw new Error('k was never stored')
    // The replica is promoted as it was; then a write bumps `t` during the load.
    await admin.set(sequenceKey, replicated.sequence)
    await admin.set(versionKey, replicated.version, 'PX', 600_000)
    await l2.invalidate(['t'])
    expect(await admin.get(versionKey)).not.toBe(read.versions.get('t'))
    const { versions: captured, epoch, fence, seq } = read
    expect(await l2.set('k', 'old', { captured, epoch, fence, seq })).toBe(false)
  })

  it('checks the guards when the sequence is behind the capture, as after a failover to a late clock', async () => {
    const { cache, l2 } = await setup()
    await cache.invalidateTags(['r:Article:1', 'r:Article:2'])
    const stored = await storedAcross(cache, 'list', async () => {
      // What a write gives from a promoted master that lost the last values and whose clock is
      // behind: a token below the load's S0, for the row and the guard.
      const behind = String(BigInt((await sequence(admin, l2))!) - 1n)
      await admin.set(l2.layout.sequence(0), behind)
      for (const tag of ['r:Article:1', GUARD]) await admin.set(l2.layout.version(0, tag), behind, 'PX', 600_000)
    })
    expect(stored).toBe(false)
  })

  it('falls back to the guards for a version an older release wrote (not a sequence value)', async () => {
    const { cache, l2 } = await setup()
    await cache.invalidateTags(['r:Article:1'])
    await admin.set(l2.layout.version(0, 'r:Article:2'), 'Zm9vYmFyYmF6.1f', 'PX', 600_000)
    expect(await storedAcross(cache, 'list', () => cache.invalidateTags([GUARD]))).toBe(false)
    expect(await storedAcross(cache, 'list', async () => {})).toBe(true)
    // The older release's version stays what the entry holds (replacing it would drop its entries).
    expect(await admin.get(l2.layout.version(0, 'r:Article:2'))).toBe('Zm9vYmFyYmF6.1f')
  })

  it('checks every guard of a value without late tags', async () => {
    const { cache } = await setup()
    const options = { tags: ['m:Article'], guards: [GUARD] }
    expect(await storedAcross(cache, 'list', () => cache.invalidateTags([GUARD]), options)).toBe(false)
    expect(await storedAcross(cache, 'list', async () => {}, options)).toBe(true)
  })

  it('captures the sequence value and gives the versions a capture creates that value', async () => {
    const { l2 } = await setup()
    const first = await l2.capture(['t', 'u'], 'k')
    expect(first.seq).toMatch(/^[1-9]\d*$/)
    expect(first.seq).toBe(await sequence(admin, l2))
    for (const version of first.versions.values()) expect(version).toBe(first.seq)
    await l2.invalidate(['t'])
    const read = await l2.get('k', ['t', 'u'])
    if (read.hit) throw new Error('k was never stored')
    expect(BigInt(read.seq!)).toBeGreaterThan(BigInt(first.seq!))
    expect(read.versions.get('t')).toBe(read.seq)
    expect(read.versions.get('u')).toBe(first.seq)
    // The sequence key is none of the cache's keys, nor any tag's version key.
    expect(l2.layout.parse(l2.layout.sequence(0))).toBeUndefined()
    expect(l2.layout.sequence(0).startsWith(l2.layout.versionPrefix(0))).toBe(false)
  })

  it('refuses a list whose row was written during its load and whose version Redis evicted', async () => {
    const server = await RedisServer.start({ args: ['--maxmemory', '4mb', '--maxmemory-policy', 'allkeys-random'] })
    tb.defer(() => server.stop())
    const redis = tb.redis(server.url)
    const { cache, l2 } = await setup(server.url)
    await cache.invalidateTags(['r:Article:1', 'r:Article:2'])
    const late = l2.layout.version(0, 'r:Article:1')
    let bump = 0n
    let evicted = 0
    const stored = await storedAcross(cache, 'list', async () => {
      await cache.invalidateTags(['r:Article:1', GUARD])
      bump = BigInt((await redis.get(late))!)
      // Every other key the store reads, as it is now, put back after the fill if it was evicted:
      // only the loss of the bumped version decides.
      const others = ['r:Article:2', GUARD, 'm:Article'].map((tag) => l2.layout.version(0, tag))
      others.push(l2.layout.fence('list'), l2.layout.epoch(0), l2.layout.sequence(0), l2.layout.maxLifetime(0))
      const values = await Promise.all(others.map(async (key) => [key, await redis.get(key)] as const))
      let filled = 0
      while ((await redis.exists(late)) === 1) {
        const batch = redis.pipeline()
        for (let j = 0; j < 200; j++) batch.set(`junk:${filled + j}`, 'x'.repeat(1_024))
        filled += 200
        await batch.exec()
      }
      evicted = Number(/^evicted_keys:(\d+)/m.exec(await redis.info('stats'))?.[1])
      // Room again, so the store itself evicts nothing.
      for (let i = 0; i < filled; i += 500)
        await redis.unlink(...Array.from({ length: Math.min(500, filled - i) }, (_, j) => `junk:${i + j}`))
      for (const [key, value] of values) if (value !== null) await redis.set(key, value, 'NX')
    })
    expect(evicted).toBeGreaterThan(0)
    expect(stored).toBe(false)
    // The refused store gave the lost version back at the sequence's value, not below the bump.
    expect(BigInt((await redis.get(late))!)).toBeGreaterThanOrEqual(bump)
  })
})
