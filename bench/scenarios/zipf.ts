import { readCounter } from '../contenders/prisma.ts'
import { withPrismaExtensionRedis } from '../contenders/prisma-extension-redis.ts'
import { untilL1Serves, withTieredCache } from '../contenders/tiered-cache.ts'
import { log, median, prng, scaled } from '../harness.ts'
import { type BasePrisma, type Bench, type Db, USERS } from '../setup.ts'

/**
 * Item 9: a 90/10 read/write mix over the 10 000 users, record ids drawn from a Zipf distribution
 * (s = 1: the hottest record is read ~1 000x as often as the thousandth), 8 concurrent workers.
 * Reads are `findUnique` by id, writes `update` of the name of a record drawn the same way.
 *
 * Contenders:
 * - tieredCache as designed: a write invalidates the records it names (and what depends on them).
 * - the whole-model baseline: the same extension, reads tagged `['User']`, and every write followed
 *   by `$cache.invalidate({ tags: ['User'] })`: what a cache that invalidates by model does.
 * - prisma-extension-redis with `auto.invalidateOnWrite`: its own model-level invalidation (each
 *   write SCANs for the model's auto keys and UNLINKs them).
 * - no cache, for the database's own throughput.
 *
 * Each round runs every contender once (order rotated) from an empty cache on the same operation
 * sequence: a warm-up part (not counted), then the measured part. Hit ratio = 1 - (database reads /
 * reads), from a query counter under each cache.
 */

/**
 * The hit ratio of a perfect record-level cache on the measured part of `ops` (unbounded, no TTL,
 * a write drops exactly the written record, no I/O and no concurrency): the ceiling for this workload.
 */
function idealHitRatio(ops: readonly Op[], warm: number): number {
  const cached = new Set<number>()
  let reads = 0
  let hits = 0
  ops.forEach(([write, id], i) => {
    if (write) {
      cached.delete(id)
      return
    }
    if (i >= warm) {
      reads++
      if (cached.has(id)) hits++
    }
    cached.add(id)
  })
  return hits / reads
}

export interface ZipfRow {
  readonly db: Db
  readonly contender: string
  readonly ops: number
  readonly opsPerSec: readonly number[]
  readonly medianOpsPerSec: number
  readonly hitRatio: readonly number[]
  readonly medianHitRatio: number
  /** Hit ratio of a perfect record-level cache on the same sequences (median over rounds). */
  readonly idealHitRatio: number
}

type Op = readonly [write: boolean, id: number]

/** Zipf(s) over ranks 1..n, mapped to record ids through a fixed random permutation. */
function zipfSequence(count: number, seed: number, s = 1): Op[] {
  const random = prng(seed)
  const cdf = new Float64Array(USERS)
  let total = 0
  for (let k = 1; k <= USERS; k++) cdf[k - 1] = total += 1 / k ** s
  const permutation = Array.from({ length: USERS }, (_, i) => i + 1)
  const shuffle = prng(12345)
  for (let i = permutation.length - 1; i > 0; i--) {
    const j = Math.floor(shuffle() * (i + 1))
    ;[permutation[i], permutation[j]] = [permutation[j]!, permutation[i]!]
  }
  const draw = () => {
    const u = random() * total
    let lo = 0
    let hi = USERS - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid]! < u) lo = mid + 1
      else hi = mid
    }
    return permutation[lo]!
  }
  return Array.from({ length: count }, () => [random() < 0.1, draw()] as const)
}

interface Workload {
  readonly name: string
  read(id: number): Promise<unknown>
  write(id: number, n: number): Promise<unknown>
  /** Empties the cache before a run. */
  reset(): Promise<void>
  /** Database reads so far. */
  dbReads(): number
}

async function run(w: Workload, ops: readonly Op[], from: number, to: number, workers: number) {
  let next = from
  let reads = 0
  const worker = async () => {
    while (next < to) {
      const i = next++
      const [write, id] = ops[i]!
      if (write) await w.write(id, i)
      else {
        reads++
        await w.read(id)
      }
    }
  }
  await Promise.all(Array.from({ length: workers }, worker))
  return reads
}

function workloads(bench: Bench, db: Db, base: BasePrisma, redis: Parameters<typeof withTieredCache>[1]) {
  const P = `${bench.prefix}_zipf_${db}`
  const precise = withTieredCache(base, redis, { prefix: `${P}_tc` })
  const wholesale = withTieredCache(base, redis, { prefix: `${P}_tcmodel` })
  const per = withPrismaExtensionRedis(base, redis!, `${P}_per`)
  const plain = readCounter()
  const uncached = plain.apply(base)
  const list: Workload[] = [
    {
      name: 'tieredCache (record tags, automatic)',
      read: (id) => precise.prisma.user.findUnique({ where: { id }, cache: true }),
      write: (id, n) => precise.prisma.user.update({ where: { id }, data: { name: `zipf ${n}` } }),
      reset: () => precise.prisma.$cache.clear(),
      dbReads: () => precise.counter.reads,
    },
    {
      name: 'tieredCache, whole-model invalidation',
      read: (id) => wholesale.prisma.user.findUnique({ where: { id }, cache: { tags: ['User'] } }),
      write: async (id, n) => {
        await wholesale.prisma.user.update({ where: { id }, data: { name: `zipf ${n}` } })
        await wholesale.prisma.$cache.invalidate({ tags: ['User'] })
      },
      reset: () => wholesale.prisma.$cache.clear(),
      dbReads: () => wholesale.counter.reads,
    },
    {
      name: 'prisma-extension-redis (auto, invalidateOnWrite)',
      read: (id) => per.prisma.user.findUnique({ where: { id } }),
      write: (id, n) => per.prisma.user.update({ where: { id }, data: { name: `zipf ${n}` } }),
      reset: async () => {
        await per.prisma.uncache({ uncacheKeys: [`${P}_per:*`], hasPattern: true })
      },
      dbReads: () => per.counter.reads,
    },
    {
      name: 'no cache',
      read: (id) => uncached.user.findUnique({ where: { id } }),
      write: (id, n) => uncached.user.update({ where: { id }, data: { name: `zipf ${n}` } }),
      reset: async () => {},
      dbReads: () => plain.counter.reads,
    },
  ]
  const ready = async () => {
    for (const c of [precise, wholesale]) {
      await untilL1Serves(c.prisma, () => c.prisma.user.findUnique({ where: { id: 1 }, cache: true }))
    }
  }
  const close = async () => {
    for (const c of [precise, wholesale]) await c.prisma.$cache.close()
  }
  return { list, ready, close }
}

export async function zipf(bench: Bench): Promise<ZipfRow[]> {
  const dbs = (process.env.BENCH_ZIPF_DBS?.split(',') as Db[] | undefined) ?? (['postgres'] as Db[])
  const warm = scaled(3_000, 200)
  const measured = scaled(6_000, 500)
  const rounds = scaled(3, 1)
  const workers = 8
  const rows: ZipfRow[] = []
  for (const db of dbs.filter((d) => bench.dbs.includes(d))) {
    const base = bench.client(db)
    const redis = await bench.redis(`bench-zipf-${db}`)
    const { list, ready, close } = workloads(bench, db, base, redis)
    await ready()
    const results = list.map(() => ({ opsPerSec: [] as number[], hitRatio: [] as number[] }))
    const ideal: number[] = []
    for (let r = 0; r < rounds; r++) {
      const ops = zipfSequence(warm + measured, 1_000 + r)
      ideal.push(idealHitRatio(ops, warm))
      for (let k = 0; k < list.length; k++) {
        const idx = (r + k) % list.length
        const w = list[idx]!
        await w.reset()
        await run(w, ops, 0, warm, workers)
        const dbBefore = w.dbReads()
        const start = process.hrtime.bigint()
        const reads = await run(w, ops, warm, warm + measured, workers)
        const seconds = Number(process.hrtime.bigint() - start) / 1e9
        results[idx]!.opsPerSec.push(measured / seconds)
        results[idx]!.hitRatio.push(1 - (w.dbReads() - dbBefore) / reads)
      }
      log(`zipf: ${db} round ${r + 1}/${rounds}`)
    }
    await close()
    list.forEach((w, i) => {
      rows.push({
        db,
        contender: w.name,
        ops: measured,
        opsPerSec: results[i]!.opsPerSec,
        medianOpsPerSec: median(results[i]!.opsPerSec),
        hitRatio: results[i]!.hitRatio,
        medianHitRatio: median(results[i]!.hitRatio),
        idealHitRatio: median(ideal),
      })
    })
  }
  return rows
}
