import { withPrismaExtensionRedis } from '../contenders/prisma-extension-redis.ts'
import { untilL1Serves, withTieredCache } from '../contenders/tiered-cache.ts'
import { log, median, pool, scaled, timeOnce } from '../harness.ts'
import { type Bench, HOT_USER_ID } from '../setup.ts'

/**
 * Item 7: time of one `$cache.invalidate({ tags: ['t'] })` with 1 000 and with 100 000 entries
 * under the tag, filled with `$cache.wrap(key, fn, { tags: ['t'] })` (each entry holds the User row).
 *
 * Two tieredCache set-ups: L1 large enough to hold every entry (L1 bumps the tag's version and
 * sweeps the entries in the background, so this shows whether the in-process part stays constant)
 * and `l1: false` (Redis only: one script that bumps the tag's version, whatever the number of entries). For contrast, prisma-extension-redis's way
 * of dropping a set of entries, a key pattern (`uncache({ hasPattern: true })`: SCAN + UNLINK),
 * over the same numbers of keys written with its `cache()`.
 *
 * Each size is filled and invalidated several times and the median is reported: more rounds where a
 * fill is cheap (1 000 entries, and the sub-millisecond Redis-only invalidation, where one preemption
 * is larger than the measurement), fewer for 100 000 (a fill takes ~10 s: two EVALSHA per entry).
 * After each tieredCache
 * invalidation a sample of 100 entries is read back to check they are really gone.
 */

export interface InvalidationRow {
  readonly contender: string
  readonly entries: number
  /** ms per invalidation, one per round. */
  readonly rounds: readonly number[]
  readonly medianMs: number
  /** ms to fill the entries (median), for scale. */
  readonly fillMs: number
  /** Of 100 sampled entries read back after the invalidation, how many were still served from cache (must be 0). */
  readonly survivors?: number
  /** Keys in the Redis database when the pattern ran (SCAN walks all of them, not only the matches). */
  readonly keyspace?: number
}

export async function invalidation(bench: Bench): Promise<InvalidationRow[]> {
  const db = bench.dbs.includes('sqlite') ? 'sqlite' : bench.dbs[0]!
  const base = bench.client(db)
  const row = await base.user.findUnique({ where: { id: HOT_USER_ID } })
  const sizes = [1_000, 100_000]
  /** Rounds per (set-up, size). */
  const roundsOf = (setup: 'l1' | 'l2' | 'per', entries: number) =>
    entries < 10_000 ? scaled(setup === 'l2' ? 9 : 5, 3) : scaled(setup === 'l2' ? 3 : 2, 1)
  const rows: InvalidationRow[] = []
  const redis = await bench.redis('bench-inv')

  for (const [label, l1] of [
    ['tieredCache (L1 holds all + L2)', { max: 250_000, ttl: 3600 }],
    ['tieredCache (l1: false)', false],
  ] as const) {
    for (const entries of sizes) {
      const { prisma } = withTieredCache(base, redis, {
        prefix: `${bench.prefix}_inv_${entries}_${l1 ? 'l1' : 'l2'}`,
        l1,
      })
      if (l1) await untilL1Serves(prisma, () => prisma.$cache.wrap('warm', () => row))
      const times: number[] = []
      const fills: number[] = []
      let survivors = 0
      for (let r = 0; r < roundsOf(l1 ? 'l1' : 'l2', entries); r++) {
        let loads = 0
        // Until the stores behind the reads have landed too, so the invalidation does not queue behind them.
        const fill = () =>
          pool(entries, 256, (i) => prisma.$cache.wrap(`k${i}`, () => row, { tags: ['t'] })).then(() =>
            prisma.$cache.settled(),
          )
        fills.push(await timeOnce(fill))
        if (l1 && prisma.$cache.stats().l1.entries < entries)
          log(`  warning: L1 holds ${prisma.$cache.stats().l1.entries} of ${entries}`)
        times.push(await timeOnce(() => prisma.$cache.invalidate({ tags: ['t'] })))
        for (let i = 0; i < 100; i++) {
          await prisma.$cache.wrap(
            `k${Math.floor((i * entries) / 100)}`,
            () => {
              loads++
              return row
            },
            { tags: ['t'] },
          )
        }
        survivors = Math.max(survivors, 100 - loads)
      }
      log(
        `invalidation: ${label}, ${entries} entries: ${median(times).toFixed(2)} ms (fill ${median(fills).toFixed(0)} ms)`,
      )
      rows.push({ contender: label, entries, rounds: times, medianMs: median(times), fillMs: median(fills), survivors })
      await prisma.$cache.clear()
      await prisma.$cache.close()
    }
  }

  const perRedis = await bench.redis('bench-inv-per')
  for (const entries of sizes) {
    const prefix = `${bench.prefix}_invper_${entries}`
    const { prisma } = withPrismaExtensionRedis(base, perRedis, prefix)
    const pattern = `${prefix}:t:*`
    const times: number[] = []
    const fills: number[] = []
    let keyspace = 0
    for (let r = 0; r < roundsOf('per', entries); r++) {
      fills.push(
        await timeOnce(() =>
          pool(entries, 256, (i) => prisma.cache({ key: `${prefix}:t:${i}`, value: row, ttl: 3600 })),
        ),
      )
      keyspace = Math.max(keyspace, await perRedis.dbsize())
      times.push(await timeOnce(() => prisma.uncache({ uncacheKeys: [pattern], hasPattern: true })))
    }
    log(`invalidation: prisma-extension-redis pattern, ${entries} keys: ${median(times).toFixed(2)} ms`)
    rows.push({
      contender: 'prisma-extension-redis (key pattern: SCAN + UNLINK)',
      entries,
      rounds: times,
      medianMs: median(times),
      fillMs: median(fills),
      keyspace,
    })
  }
  return rows
}
