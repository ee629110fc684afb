import { withTieredCache } from '../contenders/tiered-cache.ts'
import { getGc, log, scaled, sleep } from '../harness.ts'
import type { Bench } from '../setup.ts'

/**
 * Item 10: L1 memory.
 *
 * - Bytes per entry: V8 heap after a full GC, before and after N distinct cached User reads on an
 *   L1-only extension (`redis: null`); the delta over N is what one entry costs (key, copy of the
 *   row, tag index, lru-cache bookkeeping). Compared with what the cache itself counts per entry
 *   (`$cache.stats().l1.bytes / entries`: serialized length, or an estimate without Redis), since
 *   that is the number `l1.maxBytes` is enforced against.
 * - The bound: the same reads with `l1.maxBytes` set far below what N entries need, with and without
 *   Redis (the counted size differs: serialized length vs estimate); `stats().l1.bytes` must stay
 *   under the bound.
 */

export interface MemoryResult {
  readonly entries: number
  /** V8 heap bytes per entry (heapUsed delta / entries), or null without a GC to call. */
  readonly heapBytesPerEntry: number | null
  /** Bytes per entry as the cache counts them. */
  readonly countedBytesPerEntry: number
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
  const fill = async (read: (id: number) => Promise<unknown>) => {
    for (let id = 1; id <= entries; id++) await read(id)
  }

  const { prisma } = withTieredCache(base, null, { prefix: `${bench.prefix}_mem`, l1: { max: entries * 2, ttl: 3600 } })
  // Warm every code path on an id outside the measured range, so lazily built state is not counted.
  await prisma.user.findUnique({ where: { id: entries + 1 }, cache: true })
  await prisma.user.findUnique({ where: { id: entries + 1 }, cache: true })
  const gc = getGc()
  const heap = async () => {
    for (let i = 0; i < 3; i++) {
      gc?.()
      await sleep(5)
    }
    return process.memoryUsage().heapUsed
  }
  const before = await heap()
  await fill((id) => prisma.user.findUnique({ where: { id }, cache: true }))
  const after = await heap()
  const stats = prisma.$cache.stats()
  const heapBytesPerEntry = gc ? Math.round((after - before) / entries) : null
  const countedBytesPerEntry = Math.round(stats.l1.bytes / Math.max(1, stats.l1.entries))
  log(`memory: ${stats.l1.entries} entries, ${heapBytesPerEntry} heap bytes/entry, ${countedBytesPerEntry} counted`)
  await prisma.$cache.close()

  const bounds: MemoryResult['bounds'][number][] = []
  const maxBytes = 64 * 1024
  for (const withRedis of [false, true]) {
    const redis = withRedis ? await bench.redis('bench-mem') : null
    const bounded = withTieredCache(base, redis, {
      prefix: `${bench.prefix}_membound_${withRedis ? 'l2' : 'l1'}`,
      l1: { max: entries * 2, maxBytes, ttl: 3600 },
    }).prisma
    if (withRedis) await sleep(50) // the bus subscribes; until then L1 is not written
    // Far more than the bound holds (~150 B an entry): enough to show it is enforced.
    for (let id = 1; id <= Math.min(entries, 2_000); id++) await bounded.user.findUnique({ where: { id }, cache: true })
    const s = bounded.$cache.stats()
    bounds.push({
      setup: withRedis ? 'L1 + Redis (size = serialized length)' : 'L1 only (size = estimate)',
      maxBytes,
      l1Bytes: s.l1.bytes,
      l1Entries: s.l1.entries,
      withinBound: s.l1.bytes <= maxBytes,
    })
    await bounded.$cache.close()
  }
  return { entries, heapBytesPerEntry, countedBytesPerEntry, bounds }
}
