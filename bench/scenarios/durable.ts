import { isAbsolute, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Redis } from 'ioredis'
import * as source from '../../src/index.ts'
import { RedisServer } from '../../test/support/redis-server.ts'
import { withTieredCache } from '../contenders/tiered-cache.ts'
import { interleave, log, scaled } from '../harness.ts'
import { type Bench, HOT_USER_ID } from '../setup.ts'

/**
 * The cost of durable invalidations (RedisCache `durable`): µs per invalidation of what a
 * `user.update` by id invalidates (its record and model tags), on a master with one replica of
 * this run (two redis-server children on loopback), without the option and with
 * `durable: { replicas: 1 }` (ROLE, then WAIT until the replica holds it). For scale, a whole
 * `user.update` through the extension on the same master (the write and its invalidation), and the
 * same update without the cache: the difference is what a write pays for the cache, to compare
 * with one invalidation (one round trip).
 */

export interface DurableRow {
  readonly contender: string
  /** µs per operation (median of rounds), and its quartiles. */
  readonly median: number
  readonly p25: number
  readonly p75: number
}

/** The lower layer, from the build when BENCH_DIST says so (as the extension is, see contenders/tiered-cache.ts). */
const layer: Pick<typeof source, 'RedisCache' | 'TieredCache'> = process.env.BENCH_DIST
  ? ((await import(
      pathToFileURL(
        join(isAbsolute(process.env.BENCH_DIST) ? process.env.BENCH_DIST : resolve(process.env.BENCH_DIST), 'index.js'),
      ).href
    )) as typeof source)
  : source

export async function durableWrites(bench: Bench): Promise<DurableRow[]> {
  const master = await RedisServer.start()
  const replica = await RedisServer.start({ args: ['--replicaof', '127.0.0.1', String(master.port)] })
  const connections: Redis[] = []
  const connect = () => {
    const redis = new Redis(master.url, { maxRetriesPerRequest: 1 })
    redis.on('error', () => {})
    connections.push(redis)
    return redis
  }
  const closers: Array<() => Promise<unknown>> = []
  try {
    const admin = connect()
    while (!/slave0:.*state=online/.test(await admin.info('replication'))) await new Promise((r) => setTimeout(r, 50))
    const tags = [`r:User:${HOT_USER_ID}`, 'm:User']
    const caches = [false, true].map((durable) => {
      const l2 = new layer.RedisCache({
        redis: connect(),
        prefix: `${bench.prefix}_durable_${durable}`,
        timeoutMs: 1_000,
        ...(durable && { durable: { replicas: 1, timeoutMs: 1_000 } }),
      })
      const cache = new layer.TieredCache({ l2 })
      closers.push(() => cache.close())
      return cache
    })
    for (const cache of caches) await cache.ready()
    const base = bench.client(bench.dbs.includes('sqlite') ? 'sqlite' : bench.dbs[0]!)
    const { prisma } = withTieredCache(base, connect(), { prefix: `${bench.prefix}_durable_write` })
    const passing = base.$extends({
      query: { $allModels: { $allOperations: ({ args, query }) => query(args) } },
    }) as unknown as typeof base
    closers.push(() => prisma.$cache.close())
    await prisma.$cache.ready()
    const samples = await interleave(
      [
        { name: 'invalidation (no durable)', run: () => caches[0]!.invalidateTags(tags) },
        { name: 'invalidation, durable { replicas: 1 }', run: () => caches[1]!.invalidateTags(tags) },
        {
          name: 'user.update through the extension (no durable)',
          run: (i) => prisma.user.update({ where: { id: HOT_USER_ID }, data: { name: `n${i % 7}` } }),
        },
        {
          name: 'user.update, no cache',
          run: (i) => base.user.update({ where: { id: HOT_USER_ID }, data: { name: `n${i % 7}` } }),
        },
        {
          // What any query extension costs a write in Prisma's pipeline, before the cache does anything.
          name: 'user.update, a pass-through query extension',
          run: (i) => passing.user.update({ where: { id: HOT_USER_ID }, data: { name: `n${i % 7}` } }),
        },
      ],
      { rounds: scaled(15, 5) },
    )
    const rows = samples.map(({ name, median, p25, p75 }) => ({ contender: name, median, p25, p75 }))
    const [plain, durable] = rows
    log(
      `== Durable invalidations (master + 1 replica on loopback; µs/op, median [p25-p75])\n\n${rows
        .map(
          (row) =>
            `${row.contender.padEnd(48)} ${row.median.toFixed(1).padStart(8)}  [${row.p25.toFixed(1)}-${row.p75.toFixed(1)}]`,
        )
        .join(
          '\n',
        )}\n${'durable costs per invalidation'.padEnd(48)} ${(durable!.median - plain!.median).toFixed(1).padStart(8)}\n`,
    )
    return rows
  } finally {
    for (const close of closers) await close().catch(() => {})
    for (const redis of connections) redis.disconnect()
    await replica.stop()
    await master.stop()
  }
}
