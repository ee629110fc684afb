import { EventEmitter } from 'node:events'
import { PrismaPg } from '@prisma/adapter-pg'
import { Redis } from 'ioredis'
import pg from 'pg'
import { PrismaClient as PostgresClient } from '../../generated/postgres/client.ts'
import { changeCaptureSql } from '../../src/prisma/change-capture/sql.ts'
import { migrationSql } from '../../test/support/migrations.ts'
import { RedisServer } from '../../test/support/redis-server.ts'
import { withTieredCache } from '../contenders/tiered-cache.ts'
import { interleave, log, quantile, type Sample, scaled } from '../harness.ts'
import { type BasePrisma, type Bench, DATABASE_URL, USERS } from '../setup.ts'

/**
 * PostgreSQL change capture (issue 16), three measurements:
 *
 * - What the triggers cost a write: one single-row `UPDATE "User" SET name` by primary key,
 *   through Prisma and as raw SQL through `pg` (a prepared statement), on two databases of this
 *   scenario's own with the same schema and the same 10 000 users, one of them with
 *   `changeCaptureSql()` applied. Interleaved like every latency table, medians of µs per write.
 *   Each also with the session's `synchronous_commit` off: with it on, the commit's WAL flush
 *   (milliseconds here, and noisy) hides what the trigger adds; and one statement updating 100
 *   rows, for the trigger's cost per row apart from the commit's. Nobody listens meanwhile:
 *   PostgreSQL queues a NOTIFY at commit whether or not a session listens, so this is the
 *   database's side of the cost; the listeners' side is the next part.
 * - The delay from commit to invalidation: a raw `UPDATE` committed by a separate `pg` connection,
 *   until each cached instance (`tieredCache({ redis, events, changeCapture: { url } })`) emits
 *   'invalidate' for it (its L1 is dropped then; its L2 script is sent right after). Measured from
 *   the moment the writer's autocommit `UPDATE` returned (the commit was acknowledged), with one
 *   and with two instances; each instance hears the change on its own listening connection.
 *   Writes are sequential: the next one starts once every instance has invalidated the last.
 * - Redis commands one change costs each instance, on a private redis-server (nothing else talks
 *   to it, so `INFO commandstats` deltas are exact): every instance invalidates every change itself,
 *   and each one's invalidation is also published on the bus to the others.
 */

export interface ChangeCaptureDelay {
  readonly instances: number
  readonly writes: number
  /**
   * ms from the writer's UPDATE returning to an instance's 'invalidate', every instance's every
   * write. Below 0 when the listener's notification was handled before the writer's reply.
   */
  readonly p50: number
  readonly p99: number
  readonly max: number
  /** The same, until the last of the instances invalidated (differs from the above with two). */
  readonly allP50: number
  readonly allP99: number
  readonly allMax: number
  /** ms from the UPDATE being sent to the last instance's 'invalidate' (includes the commit's WAL flush). */
  readonly sentP50: number
  readonly sentP99: number
  /** Median ms of the writer's UPDATE itself (send to acknowledged commit), with these listeners. */
  readonly writeMs: number
  /** Writes no instance invalidated within the deadline (must be 0). */
  readonly missed: number
  /** Server commands per change per instance (commandstats delta, includes commands run inside Lua). */
  readonly serverCommands: Record<string, number>
  /** Commands each instance sent per change on its connection (EVALSHA, PUBLISH...). */
  readonly sentCommands: number
  /** Bus messages each instance received per change (the other instances' invalidations). */
  readonly busMessages: number
}

export interface ChangeCaptureResult {
  /** µs per UPDATE, by contender. */
  readonly writes: readonly ChangeCaptureWrite[]
  readonly delays: readonly ChangeCaptureDelay[]
  /** `synchronous_commit` and `fsync` of the server: each write waits for its WAL flush when both are on. */
  readonly server: { readonly synchronousCommit: string; readonly fsync: string; readonly version: string }
}

export interface ChangeCaptureWrite {
  readonly path: 'prisma update' | 'raw pg UPDATE'
  /** Rows the one statement updates: 100 shows the trigger's cost per row apart from the commit's. */
  readonly rows: number
  readonly triggers: boolean
  /** The writing session's `synchronous_commit`: 'off' leaves out the WAL flush, leaving what the trigger adds visible. */
  readonly synchronousCommit: 'on' | 'off'
  readonly sample: Sample
}

/** How long one write may take to be heard before it counts as missed. */
const DEADLINE_MS = 2_000
const PLAIN_DB = `ptc_bench_cc_plain_${process.pid}`
const CAPTURE_DB = `ptc_bench_cc_capture_${process.pid}`

function databaseUrl(database: string): string {
  const url = new URL(DATABASE_URL)
  url.pathname = `/${database}`
  return url.toString()
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl('postgres') })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

/** A fresh database with the schema and the bench's users (the same rows as setup.ts's userRows()). */
async function createDatabase(name: string, extraSql?: (prisma: BasePrisma) => string): Promise<string> {
  await admin(async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    await client.query(`CREATE DATABASE "${name}"`)
  })
  const url = databaseUrl(name)
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(migrationSql('postgres'))
    await client.query(
      `INSERT INTO "User" (id, email, name, "createdAt")
       SELECT i, 'user' || i || '@example.com', 'User number ' || i, timestamp '2024-01-01' + (i - 1) * interval '1 minute'
       FROM generate_series(1, ${USERS}) AS i`,
    )
    await client.query(`SELECT setval('"User_id_seq"', ${USERS})`)
    if (extraSql) {
      const prisma = prismaOn(url)
      await client.query(extraSql(prisma))
      await prisma.$disconnect()
    }
    await client.query('ANALYZE')
  } finally {
    await client.end()
  }
  return url
}

const prismaOn = (url: string) =>
  new PostgresClient({ adapter: new PrismaPg({ connectionString: url }) }) as unknown as BasePrisma

/** Writes rotate over 1 000 users, so no row is updated twice within a batch. */
const writeId = (i: number) => 1 + (i % 1_000)
const UPDATE = 'UPDATE "User" SET name = $1 WHERE id = $2'
const UPDATE_100 = 'UPDATE "User" SET name = $1 WHERE id BETWEEN $2 AND $2 + 99'

async function writeCost(plainUrl: string, captureUrl: string, closers: Array<() => Promise<unknown>>) {
  const shapes: Omit<ChangeCaptureWrite, 'sample'>[] = []
  const contenders = []
  for (const synchronousCommit of ['on', 'off'] as const) {
    for (const triggers of [false, true]) {
      const url = new URL(triggers ? captureUrl : plainUrl)
      // A session setting (PostgreSQL's `options` startup parameter), read by pg and by Prisma's pg adapter.
      if (synchronousCommit === 'off') url.searchParams.set('options', '-c synchronous_commit=off')
      const prisma = prismaOn(url.toString())
      closers.push(() => prisma.$disconnect())
      const [{ synchronous_commit: seen } = {}] =
        await prisma.$queryRawUnsafe<{ synchronous_commit: string }[]>('SHOW synchronous_commit')
      if (seen !== synchronousCommit) throw new Error(`synchronous_commit is ${seen}, expected ${synchronousCommit}`)
      const raw = new pg.Client({ connectionString: url.toString() })
      await raw.connect()
      closers.push(() => raw.end())
      const name = (path: string) =>
        `${path}, ${triggers ? 'change capture' : 'no triggers'}, synchronous_commit ${synchronousCommit}`
      shapes.push(
        { path: 'prisma update', rows: 1, triggers, synchronousCommit },
        { path: 'raw pg UPDATE', rows: 1, triggers, synchronousCommit },
      )
      contenders.push(
        {
          name: name('prisma update'),
          run: (i: number) => prisma.user.update({ where: { id: writeId(i) }, data: { name: `w ${i}` } }),
        },
        {
          name: name('raw pg UPDATE'),
          run: (i: number) => raw.query({ name: 'cc_update', text: UPDATE, values: [`w ${i}`, writeId(i)] }),
        },
      )
      if (synchronousCommit === 'on') continue
      shapes.push({ path: 'raw pg UPDATE', rows: 100, triggers, synchronousCommit })
      contenders.push({
        name: `${name('raw pg UPDATE')}, 100 rows`,
        run: (i: number) =>
          raw.query({ name: 'cc_update_100', text: UPDATE_100, values: [`w ${i}`, 1 + ((i * 100) % (USERS - 100))] }),
      })
    }
  }
  const rounds = scaled(100, 10)
  const samples = await interleave(contenders, {
    rounds,
    batchMs: 4,
    onRound: (r) => r % 20 === 19 && log(`  round ${r + 1}/${rounds}`),
  })
  return samples.map((sample, i) => ({ ...shapes[i]!, sample }))
}

/** Calls per command, from INFO commandstats. */
async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim())
    if (match) out.set(match[1]!, Number(match[2]))
  }
  return out
}

interface Instance {
  readonly invalidated: Array<(at: bigint) => void>
  busMessages: number
  sent: number
  close(): Promise<void>
}

/** A cached instance on the capture database, timing each 'invalidate' it emits. */
async function instance(url: string, redisUrl: string, prefix: string): Promise<Instance> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 })
  redis.on('error', () => {})
  await redis.ping()
  const events = new EventEmitter()
  events.on('error', () => {})
  const base = prismaOn(url)
  const { prisma } = withTieredCache(base, redis, { prefix, events, changeCapture: { url } })
  const self: Instance = {
    invalidated: [],
    busMessages: 0,
    sent: 0,
    async close() {
      await prisma.$cache.close()
      await base.$disconnect()
      redis.disconnect()
    },
  }
  events.on('invalidate', () => self.invalidated.shift()?.(process.hrtime.bigint()))
  events.on('bus', () => self.busMessages++)
  // Every command this instance sends goes through this connection (the bus subscriber only receives).
  const send = redis.sendCommand.bind(redis)
  redis.sendCommand = ((...args: Parameters<typeof send>) => {
    self.sent++
    return send(...args)
  }) as typeof redis.sendCommand
  await prisma.$cache.ready()
  return self
}

/** Resolves with the time `inst` next emits 'invalidate', or `undefined` after the deadline. */
function nextInvalidate(inst: Instance): Promise<bigint | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      inst.invalidated.splice(inst.invalidated.indexOf(done), 1)
      resolve(undefined)
    }, DEADLINE_MS)
    const done = (at: bigint) => {
      clearTimeout(timer)
      resolve(at)
    }
    inst.invalidated.push(done)
  })
}

const ms = (from: bigint, to: bigint) => Number(to - from) / 1e6
const round3 = (n: number) => Math.round(n * 1000) / 1000

async function delay(url: string, server: RedisServer, count: number, prefix: string): Promise<ChangeCaptureDelay> {
  const instances: Instance[] = []
  const stats = new Redis(server.url, { maxRetriesPerRequest: 1 })
  stats.on('error', () => {})
  const writer = new pg.Client({ connectionString: url })
  await writer.connect()
  try {
    for (let k = 0; k < count; k++) instances.push(await instance(url, server.url, `${prefix}_${count}`))
    const write = async (i: number) => {
      const heard = instances.map(nextInvalidate)
      const sent = process.hrtime.bigint()
      await writer.query({ name: 'cc_update', text: UPDATE, values: [`d ${i}`, writeId(i)] })
      const acked = process.hrtime.bigint()
      return { sent, acked, heard: await Promise.all(heard) }
    }
    for (let i = 0; i < 30; i++) await write(i) // warm-up: connections, script load, JIT
    // The last warm-up invalidation's script goes out after its 'invalidate': not counted below.
    await new Promise((resolve) => setTimeout(resolve, 50))
    const writes = scaled(300, 50)
    const each: number[] = []
    const all: number[] = []
    const fromSent: number[] = []
    const writeTimes: number[] = []
    let missed = 0
    const before = await commandCalls(stats)
    for (const inst of instances) {
      inst.sent = 0
      inst.busMessages = 0
    }
    for (let i = 0; i < writes; i++) {
      const { sent, acked, heard } = await write(1_000 + i)
      writeTimes.push(ms(sent, acked))
      if (heard.some((at) => at === undefined)) missed++
      const delays = heard.flatMap((at) => (at === undefined ? [] : [ms(acked, at)]))
      each.push(...delays)
      if (delays.length === count) {
        all.push(Math.max(...delays))
        fromSent.push(ms(sent, acked) + Math.max(...delays))
      }
    }
    // Let the last invalidation's script and bus message land before reading the counters.
    await new Promise((resolve) => setTimeout(resolve, 50))
    const after = await commandCalls(stats)
    const serverCommands: Record<string, number> = {}
    for (const [name, calls] of after) {
      if (name === 'info') continue
      const perChange = (calls - (before.get(name) ?? 0)) / writes / count
      if (perChange >= 0.05) serverCommands[name] = round3(perChange)
    }
    const sum = (f: (inst: Instance) => number) => instances.reduce((s, inst) => s + f(inst), 0)
    return {
      instances: count,
      writes,
      p50: round3(quantile(each, 0.5)),
      p99: round3(quantile(each, 0.99)),
      max: round3(Math.max(...each)),
      allP50: round3(quantile(all, 0.5)),
      allP99: round3(quantile(all, 0.99)),
      allMax: round3(Math.max(...all)),
      sentP50: round3(quantile(fromSent, 0.5)),
      sentP99: round3(quantile(fromSent, 0.99)),
      writeMs: round3(quantile(writeTimes, 0.5)),
      missed,
      serverCommands,
      sentCommands: round3(sum((inst) => inst.sent) / writes / count),
      busMessages: round3(sum((inst) => inst.busMessages) / writes / count),
    }
  } finally {
    for (const inst of instances) await inst.close().catch(() => {})
    await writer.end().catch(() => {})
    stats.disconnect()
  }
}

export async function changeCapture(bench: Bench): Promise<ChangeCaptureResult> {
  const closers: Array<() => Promise<unknown>> = []
  let server: RedisServer | undefined
  try {
    const plainUrl = await createDatabase(PLAIN_DB)
    const captureUrl = await createDatabase(CAPTURE_DB, (prisma) => changeCaptureSql(prisma))
    const settings = await admin((client) =>
      client.query<{ name: string; setting: string }>(
        `SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit', 'fsync', 'server_version')`,
      ),
    )
    const setting = (name: string) => settings.rows.find((r) => r.name === name)?.setting ?? 'unknown'
    log('change capture: write cost with and without the triggers')
    const writes = await writeCost(plainUrl, captureUrl, closers)
    for (const { sample } of writes) log(`  ${sample.name}: ${sample.median.toFixed(0)} µs`)
    server = await RedisServer.start()
    const delays: ChangeCaptureDelay[] = []
    for (const count of [1, 2]) {
      const d = await delay(captureUrl, server, count, `${bench.prefix}_cc`)
      log(`change capture: ${count} instance(s): p50 ${d.p50} ms, p99 ${d.p99} ms, max ${d.max} ms, missed ${d.missed}`)
      delays.push(d)
    }
    return {
      writes,
      delays,
      server: {
        synchronousCommit: setting('synchronous_commit'),
        fsync: setting('fsync'),
        version: setting('server_version'),
      },
    }
  } finally {
    for (const close of closers) await close().catch(() => {})
    await server?.stop()
    if (process.env.BENCH_KEEP_DB !== '1')
      await admin(async (client) => {
        for (const name of [PLAIN_DB, CAPTURE_DB]) await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      }).catch(() => {})
  }
}
