import type { Instance } from './cached.ts'
import type { RedisServer } from './redis-server.ts'

/** What a failover under load came to. */
export interface FailoverTally {
  reads: number
  writes: number
  /** Operations that resolved after the fault began. */
  afterFault: number
  errors: unknown[]
}

/**
 * Runs 8 workers reading and updating `ids` (Documents) through both instances, lets them run
 * `warmup` operations, calls `fault()` (a master killed, say), then lets them run `after` more
 * operations once it has resolved, and stops them. Every query must succeed.
 */
export async function loadThroughFault(
  instances: readonly Instance[],
  ids: readonly string[],
  fault: () => Promise<unknown>,
  { warmup = 300, after = 300 } = {},
): Promise<FailoverTally> {
  const tally: FailoverTally = { reads: 0, writes: 0, afterFault: 0, errors: [] }
  let running = true
  let faulted = false
  let wake: (() => void) | undefined
  const reached = (target: () => boolean) =>
    new Promise<void>((resolve) => {
      wake = () => {
        if (target()) resolve()
      }
    })
  const done = () => {
    if (faulted) tally.afterFault++
    wake?.()
  }
  const worker = async (n: number) => {
    let i = n
    while (running) {
      i = (i * 7 + 3) % 997
      const db = instances[i % instances.length]!.prisma
      const id = ids[i % ids.length]!
      try {
        if (i % 5 === 0) {
          await db.document.update({ where: { id }, data: { version: { increment: 1 } } })
          tally.writes++
        } else {
          await (i % 3 === 0
            ? db.document.findMany({ orderBy: { title: 'asc' } })
            : db.document.findUnique({ where: { id } }))
          tally.reads++
        }
      } catch (error) {
        tally.errors.push(error)
      }
      done()
    }
  }
  const warm = reached(() => tally.reads + tally.writes >= warmup)
  const workers = Array.from({ length: 8 }, (_, n) => worker(n))
  await warm
  faulted = true
  await fault()
  const start = tally.afterFault
  await reached(() => tally.afterFault - start >= after)
  running = false
  await Promise.all(workers)
  return tally
}

/** Invalidations an instance still owes Redis (queued for replay), from its metrics. */
export const owedInvalidations = (instance: Instance): number =>
  Number(/^tiered_cache_pending_invalidations (\d+)$/m.exec(instance.prisma.$cache.metrics())?.[1] ?? 'NaN')

/**
 * Waits until no instance owes an invalidation (no event says "nothing left", so it polls, with a
 * deadline), then checks that every cached read of `ids`, on every instance, twice (the second
 * round from the tiers the first filled), equals the database. Returns how many it compared.
 */
export async function expectNothingStale(
  instances: readonly Instance[],
  ids: readonly string[],
  expectEqual: (actual: unknown, expected: unknown) => void,
): Promise<number> {
  const deadline = Date.now() + 10_000
  while (instances.some((instance) => owedInvalidations(instance) !== 0)) {
    if (Date.now() > deadline) throw new Error('invalidations still owed 10 s after the fault')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const base = instances[0]!.base
  let compared = 0
  for (let round = 0; round < 2; round++)
    for (const instance of instances) {
      expectEqual(
        await instance.prisma.document.findMany({ orderBy: { title: 'asc' } }),
        await base.document.findMany({ orderBy: { title: 'asc' } }),
      )
      for (const id of ids) {
        expectEqual(
          await instance.prisma.document.findUnique({ where: { id } }),
          await base.document.findUnique({ where: { id } }),
        )
        compared++
      }
    }
  return compared
}

/**
 * Makes `replica` fall behind its master for real: stops it (SIGSTOP), then writes `megabytes` of
 * filler through `fill` (to its master), more than the sockets between them buffer, so that what
 * the master is told next stays in the master's memory and a crash of the master loses it (a
 * replica only stopped would still find it in its socket). `resume()` lets the replica go on.
 */
export async function starveReplica(
  replica: RedisServer,
  fill: (filler: string) => Promise<unknown>,
  megabytes = 16,
): Promise<{ resume: () => void }> {
  replica.pause()
  const filler = 'x'.repeat(1 << 20)
  for (let i = 0; i < megabytes; i++) await fill(filler)
  return { resume: () => replica.resume() }
}
