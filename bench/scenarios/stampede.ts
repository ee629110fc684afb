import { withTieredCache } from '../contenders/tiered-cache.ts'
import { log, median, scaled, timeOnce } from '../harness.ts'
import type { Bench } from '../setup.ts'

/**
 * Item 8: 1 000 concurrent reads of one uncached record, spread over two application instances
 * (two PrismaClients, two tieredCache extensions, one Redis prefix), counting the queries that reach
 * the database with a counter under each cache (`base.$extends(counter).$extends(tieredCache())`).
 * In-process coalescing alone gives at most one query per instance (2); `stampede: { lock: true }`
 * is meant to bring that to 1. Each round reads a record no one has read yet.
 */

export interface StampedeRow {
  readonly variant: string
  readonly concurrent: number
  /** Database queries per round. */
  readonly loads: readonly number[]
  readonly medianLoads: number
  readonly maxLoads: number
  /** ms until all concurrent reads resolved (median). */
  readonly medianMs: number
  /** Reads that threw. */
  readonly errors: number
}

export async function stampede(bench: Bench): Promise<StampedeRow[]> {
  const db = bench.dbs.includes('postgres') ? 'postgres' : bench.dbs[0]!
  const rounds = scaled(5, 2)
  const concurrent = 1_000
  const rows: StampedeRow[] = []
  let nextId = 5_000
  for (const [variant, lock] of [
    ['two instances, stampede.lock: false', false],
    ['two instances, stampede.lock: true', true],
  ] as const) {
    const prefix = `${bench.prefix}_stampede_${lock ? 'lock' : 'nolock'}`
    const instances = [
      withTieredCache(bench.client(db), await bench.redis('bench-stampede-a'), { prefix, stampede: { lock } }),
      withTieredCache(bench.client(db), await bench.redis('bench-stampede-b'), { prefix, stampede: { lock } }),
    ]
    // Connect both clients' database pools before timing anything.
    for (const { prisma } of instances) await prisma.user.findUnique({ where: { id: 1 } })
    const loads: number[] = []
    const times: number[] = []
    let errors = 0
    for (let r = 0; r < rounds; r++) {
      const id = nextId++
      const before = instances.map((i) => i.counter.reads)
      times.push(
        await timeOnce(() =>
          Promise.all(
            Array.from({ length: concurrent }, (_, k) =>
              instances[k % 2]!.prisma.user.findUnique({ where: { id }, cache: true }).catch(() => {
                errors++
              }),
            ),
          ),
        ),
      )
      loads.push(instances.reduce((sum, inst, k) => sum + inst.counter.reads - before[k]!, 0))
    }
    log(`stampede: ${variant}: ${loads.join(', ')} database queries per round`)
    rows.push({
      variant,
      concurrent,
      loads,
      medianLoads: median(loads),
      maxLoads: Math.max(...loads),
      medianMs: median(times),
      errors,
    })
    for (const { prisma } of instances) await prisma.$cache.close()
  }
  return rows
}
