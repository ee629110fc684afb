import type { Redis } from 'ioredis'
import { createBentoCache } from '../contenders/bentocache.ts'
import { withPrismaExtensionRedis } from '../contenders/prisma-extension-redis.ts'
import { untilL1Serves, withTieredCache } from '../contenders/tiered-cache.ts'
import { log, scaled, sleep } from '../harness.ts'
import { type Bench, HOT_USER_ID, USERS } from '../setup.ts'

/**
 * Item 6: Redis commands per operation, two ways.
 *
 * - `roundTrips`: what this contender's own connection sent, counted by wrapping its `sendCommand`
 *   (a pipeline or MULTI/EXEC counts once). Connections a library opens itself are not in it.
 * - `server`: the `INFO commandstats` delta over the N operations, per command, divided by N. It sees
 *   every connection, and also counts commands run *inside* Lua scripts (tieredCache's EVALSHA runs
 *   GET/MGET/SET inside), so it is "work on the server", not round trips. Redis is shared with other
 *   processes here: each measurement is repeated and the smallest delta per command is kept (other
 *   traffic can only add), and anything below 0.05 per operation is dropped as noise.
 */

export interface RoundTripRow {
  readonly contender: string
  readonly operation: 'hit' | 'miss' | 'write'
  readonly ops: number
  /** Round trips per operation on the contender's connection (a pipeline or MULTI/EXEC is one). */
  readonly roundTrips: number
  /** Commands per operation sent on that connection, by command. */
  readonly sentByCommand: Record<string, number>
  /** Server-side commands per operation, by command (commandstats delta / ops). */
  readonly server: Record<string, number>
  /** Server µs per call of the commands this client sent (commandstats usec delta / calls; smallest of the repeats). */
  readonly serverUsec: Record<string, number>
}

/**
 * Counts, by name, every command `redis` sends from now on, and the round trips they took: ioredis
 * sends a pipeline or MULTI/EXEC by calling `sendCommand(command, stream)` for each queued command
 * in one synchronous loop, so pipelined commands issued in the same tick count as one round trip.
 */
function countCommands(redis: Redis) {
  const counts = new Map<string, number>()
  let trips = 0
  let inPipeline = false
  const original = redis.sendCommand.bind(redis)
  redis.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
    counts.set(command.name, (counts.get(command.name) ?? 0) + 1)
    if (rest[0] === undefined) trips++
    else if (!inPipeline) {
      trips++
      inPipeline = true
      queueMicrotask(() => {
        inPipeline = false
      })
    }
    return (original as (...a: unknown[]) => unknown)(command, ...rest)
  }) as typeof redis.sendCommand
  return {
    reset: () => {
      counts.clear()
      trips = 0
    },
    snapshot: () => ({ trips, byCommand: Object.fromEntries(counts) as Record<string, number> }),
  }
}

/** Calls and total server µs per command. */
async function commandStats(admin: Redis): Promise<Map<string, { calls: number; usec: number }>> {
  const text = await admin.info('commandstats')
  const out = new Map<string, { calls: number; usec: number }>()
  for (const line of text.split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line.trim())
    if (match) out.set(match[1]!, { calls: Number(match[2]), usec: Number(match[3]) })
  }
  return out
}

/** Runs `ops` operations, `repeats` times; returns per-op sent commands and the smallest server delta per command. */
async function measure(
  admin: Redis,
  counter: ReturnType<typeof countCommands>,
  ops: number,
  op: (i: number) => Promise<unknown>,
  repeats = 3,
): Promise<Pick<RoundTripRow, 'roundTrips' | 'sentByCommand' | 'server' | 'serverUsec'>> {
  let best: Map<string, number> | undefined
  const usec = new Map<string, number[]>()
  let sentBy: Record<string, number> = {}
  let trips = 0
  let offset = 0
  for (let r = 0; r < repeats; r++) {
    await sleep(20) // let a previous write's bus message and any background refresh settle
    const before = await commandStats(admin)
    counter.reset()
    for (let i = 0; i < ops; i++) await op(offset + i)
    offset += ops
    await sleep(20)
    const after = await commandStats(admin)
    if (r === 0) ({ trips, byCommand: sentBy } = counter.snapshot())
    const delta = new Map<string, number>()
    for (const [name, { calls, usec: spent }] of after) {
      if (name === 'info') continue
      const d = calls - (before.get(name)?.calls ?? 0)
      if (d <= 0) continue
      delta.set(name, d)
      const perCall = (spent - (before.get(name)?.usec ?? 0)) / d
      usec.set(name, [...(usec.get(name) ?? []), perCall])
    }
    if (best === undefined) best = delta
    else {
      for (const name of [...best.keys()]) best.set(name, Math.min(best.get(name)!, delta.get(name) ?? 0))
    }
  }
  const server: Record<string, number> = {}
  const serverUsec: Record<string, number> = {}
  for (const [name, calls] of best ?? []) {
    const perOp = calls / ops
    if (perOp < 0.05) continue
    server[name] = round(perOp)
    // Server time of the commands this client sent (EVALSHA's includes the commands its script ran).
    if (sentBy[name] !== undefined) serverUsec[name] = round(Math.min(...(usec.get(name) ?? [Number.NaN])))
  }
  const sentByCommand: Record<string, number> = {}
  for (const [name, calls] of Object.entries(sentBy)) sentByCommand[name] = round(calls / ops)
  return { roundTrips: round(trips / ops), sentByCommand, server, serverUsec }
}

const round = (n: number) => Math.round(n * 100) / 100

export async function roundTrips(bench: Bench): Promise<RoundTripRow[]> {
  const db = bench.dbs.includes('sqlite') ? 'sqlite' : bench.dbs[0]!
  const P = `${bench.prefix}_rt`
  const base = bench.client(db)
  const admin = await bench.redis('bench-admin')
  const ops = scaled(200, 20)
  const rows: RoundTripRow[] = []
  const add = async (
    contender: string,
    operation: RoundTripRow['operation'],
    redis: Redis,
    op: (i: number) => Promise<unknown>,
  ) => {
    const counter = countCommands(redis)
    rows.push({ contender, operation, ops, ...(await measure(admin, counter, ops, op)) })
  }
  // Writes touch a rotating set of users, far from the ids the reads use.
  const writeId = (i: number) => USERS - (i % 1000)
  // Misses read ids nobody has read yet (each measurement runs 3 x ops distinct ones).
  const missId = (i: number) => 100 + (i % (USERS - 2000))
  log(`round trips: ${ops} operations per measurement, on ${db}`)

  {
    const redis = await bench.redis('bench-rt-tc')
    const { prisma } = withTieredCache(base, redis, { prefix: `${P}_tc` })
    const read = () => prisma.user.findUnique({ where: { id: HOT_USER_ID }, cache: true })
    await untilL1Serves(prisma, read)
    await add('tieredCache (L1+L2)', 'hit', redis, read)
    await add('tieredCache (L1+L2)', 'miss', redis, (i) =>
      prisma.user.findUnique({ where: { id: missId(i) }, cache: true }),
    )
    await add('tieredCache (L1+L2)', 'write', redis, (i) =>
      prisma.user.update({ where: { id: writeId(i) }, data: { name: `rt ${i}` } }),
    )
    await prisma.$cache.close()
  }
  {
    const redis = await bench.redis('bench-rt-tc-l2')
    const { prisma } = withTieredCache(base, redis, { prefix: `${P}_tcl2`, l1: false })
    const read = () => prisma.user.findUnique({ where: { id: HOT_USER_ID }, cache: true })
    await read()
    await add('tieredCache (l1: false)', 'hit', redis, read)
    await prisma.$cache.close()
  }
  {
    const redis = await bench.redis('bench-rt-per')
    const { prisma } = withPrismaExtensionRedis(base, redis, `${P}_per`)
    const read = () => prisma.user.findUnique({ where: { id: HOT_USER_ID } })
    await read()
    await add('prisma-extension-redis (auto)', 'hit', redis, read)
    await add('prisma-extension-redis (auto)', 'miss', redis, (i) =>
      prisma.user.findUnique({ where: { id: missId(i) } }),
    )
    await add('prisma-extension-redis (auto)', 'write', redis, (i) =>
      prisma.user.update({ where: { id: writeId(i) }, data: { name: `rt ${i}` } }),
    )
  }
  {
    const redis = await bench.redis('bench-rt-bento')
    const bento = createBentoCache(redis, await bench.redis('bench-rt-bento-bus'), `${P}`)
    const load = (id: number) => () => base.user.findUnique({ where: { id } })
    await bento.getOrSet({ key: `user:${HOT_USER_ID}`, factory: load(HOT_USER_ID) })
    await add('bentocache (tiered + bus)', 'hit', redis, () =>
      bento.getOrSet({ key: `user:${HOT_USER_ID}`, factory: load(HOT_USER_ID) }),
    )
    await bento.use('l2only').getOrSet({ key: `user:${HOT_USER_ID}`, factory: load(HOT_USER_ID) })
    await add('bentocache (L2 only)', 'hit', redis, () =>
      bento.use('l2only').getOrSet({ key: `user:${HOT_USER_ID}`, factory: load(HOT_USER_ID) }),
    )
    await add('bentocache (tiered + bus)', 'miss', redis, (i) =>
      bento.getOrSet({ key: `user:${missId(i)}`, factory: load(missId(i)) }),
    )
    // bentocache knows nothing of the database: the application deletes the key after its write.
    await add('bentocache (tiered + bus)', 'write', redis, async (i) => {
      await base.user.update({ where: { id: writeId(i) }, data: { name: `rt ${i}` } })
      await bento.delete({ key: `user:${writeId(i)}` })
    })
    await bento.disconnectAll()
  }
  return rows
}
