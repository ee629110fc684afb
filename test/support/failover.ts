import type { RedisConnection } from '../../src/cache/redis/connection.ts'
import { RedisCache } from '../../src/cache/redis/redis-cache.ts'
import { TieredCache } from '../../src/cache/tiered/tiered-cache.ts'
import { L2NotDurableError } from '../../src/core/errors.ts'
import { recordingEmitter } from '../unit/cache/support.ts'
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

/** Polls (for what no event announces: nothing owed, a key on a replica) until `done`, with a deadline. */
export async function pollUntil(done: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** What {@link invalidateThenKillMaster} needs of a Redis set-up (Sentinel, a cluster). */
export interface MasterKill {
  readonly label: string
  readonly durable: boolean
  readonly prefix: string
  /** A new connection for each instance (closed at cleanup). */
  readonly connect: () => RedisConnection
  readonly defer: (fn: () => unknown) => void
  /** Resolves once `entry` (a Redis key A just wrote through `redis`) is on the replica. */
  readonly replicated: (entry: string, redis: RedisConnection) => Promise<void>
  /** Makes the replica of the master holding `fillerKey`'s slot lag (see {@link starveReplica}). */
  readonly starve: (fillerKey: string) => Promise<{ resume: () => void }>
  /** Kills that master (then `resume()`s its replica) and resolves once the replica serves; says what happened. */
  readonly failover: (resume: () => void) => Promise<string>
}

/**
 * Two instances of the lower layer; A caches `doc`, its replica is made to lag for real, the data
 * changes and A invalidates, and the master is killed right after. Returns what each instance
 * reads once the replica serves in its place (after A owes nothing), what A owed at the kill and
 * how many not-durable errors it reported.
 */
export async function invalidateThenKillMaster(setup: MasterKill) {
  const { emitter, seen } = recordingEmitter()
  const make = async (events?: typeof emitter) => {
    const redis = setup.connect()
    const l2 = new RedisCache({
      redis,
      prefix: setup.prefix,
      timeoutMs: 1_000,
      ...(setup.durable && { durable: { timeoutMs: 300 } }),
    })
    const cache = new TieredCache({ l2, ...(events && { events }) })
    setup.defer(() => cache.close())
    await cache.ready()
    return { cache, l2, redis }
  }
  const a = await make(emitter)
  const b = await make()
  let current = 'v1'
  const load = async () => current
  const read = (instance: typeof a) => instance.cache.getOrSet('doc', load, { tags: ['doc'] })
  if ((await read(a)) !== 'v1') throw new Error('A did not load v1')
  await setup.replicated(a.l2.layout.entry('doc'), a.redis)
  // The filler's key is in the entry's slot (its hash tag), on the master about to die.
  const starved = await setup.starve(`${setup.prefix}:{${a.l2.layout.group('doc')}}:filler`)
  current = 'v2' // the write, committed in the database; its invalidation follows
  await a.cache.invalidateTags(['doc'])
  const owed = a.cache.pendingInvalidations
  const happened = await setup.failover(() => starved.resume())
  await a.cache.ready({ timeoutMs: 20_000 })
  await b.cache.ready({ timeoutMs: 20_000 })
  await pollUntil(() => a.cache.pendingInvalidations === 0, 'A still owes its invalidation')
  const reads = { a: await read(a), b: await read(b) }
  const notDurable = seen.filter(
    (e) => e.name === 'error' && (e.payload as { error: unknown }).error instanceof L2NotDurableError,
  ).length
  console.log(
    `[${setup.label} durable=${setup.durable}] the master died right after the invalidation (${happened}); A owed ${owed} ` +
      `at the kill (${notDurable} not-durable errors); after: A read ${reads.a}, B read ${reads.b}`,
  )
  return { reads, owed, notDurable }
}
