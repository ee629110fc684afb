import type { Redis } from 'ioredis'
import { withTieredCache } from '../contenders/tiered-cache.ts'
import { getGc, log, scaled, sleep } from '../harness.ts'
import type { Bench } from '../setup.ts'

/**
 * Item 10 / issue 15 target 5: L1 memory, and whether `l1.maxBytes` bounds it.
 *
 * - Bytes per entry, for an L1-only extension (`redis: null`) and one over Redis: N distinct cached
 *   User reads, then the V8 heap after full collections, then `$cache.clear()` and the heap again;
 *   the drop over N is what one entry holds (key, copy of the row, tags, tag index, lru-cache
 *   bookkeeping). Measured down from the filled heap, not up from the heap before the fill: garbage
 *   of the setup (seeding, clients) freed during the fill made that figure meaningless (negative).
 *   Compared with what the cache counts per entry (`stats().l1.bytes / entries`), the number
 *   `l1.maxBytes` is enforced against: the target is a ratio heap/counted within [0.5, 2].
 * - The bound: the same reads with `l1.maxBytes` set far below what N entries need; `stats().l1.bytes`
 *   must stay under it.
 */

export interface MemorySetup {
  readonly setup: string
  readonly entries: number
  /** V8 heap bytes per entry (heapUsed + arrayBuffers drop on clear / entries), or null without a GC to call. */
  readonly heapBytesPerEntry: number | null
  /** Bytes per entry as the cache counts them (`stats().l1.bytes / entries`). */
  readonly countedBytesPerEntry: number
  /** heapBytesPerEntry / countedBytesPerEntry, or null without a GC. */
  readonly heapPerCounted: number | null
  /** The target: counted within 2x of the heap, either way (null without a GC). */
  readonly withinTwice: boolean | null
}

export interface MemoryResult {
  readonly entries: number
  /** The L1-only setup's figures (as `setups[0]`). */
  readonly heapBytesPerEntry: number | null
  readonly countedBytesPerEntry: number
  readonly setups: readonly MemorySetup[]
  readonly bounds: readonly {
    readonly setup: string
    readonly maxBytes: number
    readonly l1Bytes: number
    readonly l1Entries: number
    readonly withinBound: boolean
  }[]
}

export async function memory(bench: Bench): Promise<MemoryResult> {
  const db = bench.dbs.includes('sqlite') ? 'sqlite' : bench.dbs[0]!
  const base = bench.client(db)
  const entries = scaled(5_000, 500)
  const gc = getGc()
  const heap = async () => {
    for (let i = 0; i < 3; i++) {
      gc?.()
      await sleep(5)
    }
    const m = process.memoryUsage()
    return m.heapUsed + m.arrayBuffers
  }

  const setups: MemorySetup[] = []
  for (const withRedis of [false, true]) {
    const setup = withRedis ? 'L1 + Redis' : 'L1 only'
    const redis: Redis | null = withRedis ? await bench.redis('bench-mem') : null
    const { prisma } = withTieredCache(base, redis, {
      prefix: `${bench.prefix}_mem_${withRedis ? 'l2' : 'l1'}`,
      l1: { max: entries * 2, ttl: 3600 },
    })
    if (withRedis) await sleep(50) // the bus subscribes; until then L1 is not written
    // Warm every code path on an id outside the measured range, so lazily built state is not counted.
    await prisma.user.findUnique({ where: { id: entries + 1 }, cache: true })
    await prisma.user.findUnique({ where: { id: entries + 1 }, cache: true })
    const before = await heap()
    for (let id = 1; id <= entries; id++) await prisma.user.findUnique({ where: { id }, cache: true })
    await prisma.$cache.settled() // the copies L2 stores hold until they land are not L1's
    const stats = prisma.$cache.stats()
    const filled = await heap()
    await prisma.$cache.clear()
    const cleared = await heap()
    const countedBytesPerEntry = Math.round(stats.l1.bytes / Math.max(1, stats.l1.entries))
    const heapBytesPerEntry = gc ? Math.round((filled - cleared) / Math.max(1, stats.l1.entries)) : null
    const heapPerCounted = heapBytesPerEntry === null ? null : heapBytesPerEntry / countedBytesPerEntry
    setups.push({
      setup,
      entries: stats.l1.entries,
      heapBytesPerEntry,
      countedBytesPerEntry,
      heapPerCounted,
      withinTwice: heapPerCounted === null ? null : heapPerCounted >= 0.5 && heapPerCounted <= 2,
    })
    // The fill's delta, for comparison only (see above): close to the drop when the setup left no garbage.
    const fillDelta = Math.round((filled - before) / Math.max(1, stats.l1.entries))
    log(
      `memory ${setup}: ${stats.l1.entries} entries, ${heapBytesPerEntry} heap bytes/entry (fill delta ${fillDelta}), ${countedBytesPerEntry} counted, heap/counted ${heapPerCounted?.toFixed(2)}`,
    )
    await prisma.$cache.close()
  }

  const bounds: MemoryResult['bounds'][number][] = []
  const maxBytes = 256 * 1024
  for (const withRedis of [false, true]) {
    const redis = withRedis ? await bench.redis('bench-mem') : null
    const bounded = withTieredCache(base, redis, {
      prefix: `${bench.prefix}_membound_${withRedis ? 'l2' : 'l1'}`,
      l1: { max: entries * 2, maxBytes, ttl: 3600 },
    }).prisma
    if (withRedis) await sleep(50)
    // Far more than the bound holds (~800 B an entry): enough to show it is enforced.
    for (let id = 1; id <= Math.min(entries, 2_000); id++) await bounded.user.findUnique({ where: { id }, cache: true })
    const s = bounded.$cache.stats()
    bounds.push({
      setup: withRedis ? 'L1 + Redis' : 'L1 only',
      maxBytes,
      l1Bytes: s.l1.bytes,
      l1Entries: s.l1.entries,
      withinBound: s.l1.bytes <= maxBytes,
    })
    await bounded.$cache.close()
  }
  const first = setups[0]!
  return {
    entries,
    heapBytesPerEntry: first.heapBytesPerEntry,
    countedBytesPerEntry: first.countedBytesPerEntry,
    setups,
    bounds,
  }
}
