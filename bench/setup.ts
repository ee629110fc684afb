import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import { Decimal } from '@prisma/client/runtime/client'
import Database from 'better-sqlite3'
import { Redis } from 'ioredis'
import pg from 'pg'
import { PrismaClient as PostgresClient } from '../generated/postgres/client.ts'
import { PrismaClient as SqliteClient } from '../generated/sqlite/client.ts'
import { migrationSql, projectRoot } from '../test/support/migrations.ts'

/**
 * Databases, data and connections of one benchmark run. Everything the run creates lives under
 * names it owns: the PostgreSQL database `ptc_bench_<pid>` (dropped at the end), the SQLite
 * file `.tmp/bench-<pid>.db`, and Redis keys under a prefix unique to this run (deleted at the end with
 * SCAN MATCH prefix*, never FLUSHDB: other processes share this Redis).
 */

export type Db = 'sqlite' | 'postgres'
/** Both generated clients have the same models; the benchmark is written once against SQLite's type. */
export type BasePrisma = InstanceType<typeof SqliteClient>

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'
/** Per process, so two runs at once (a quick scenario beside a full run) never drop each other's data. */
const BENCH_DB = `ptc_bench_${process.pid}`
const SQLITE_FILE = join(projectRoot, '.tmp', `bench-${process.pid}.db`)

/** Users in the data set (the Zipf workload draws from all of them). */
export const USERS = 10_000
/** Posts carrying Decimal, BigInt, Bytes, Json and DateTime. */
export const POSTS = 200
/** The record every single-row latency measurement reads. */
export const HOT_USER_ID = 42
export const HOT_POST_ID = 7

/** Lower-case, digits and `_` only: valid for tieredCache's prefix and unchanged by prisma-extension-redis's snake_case keys. */
export const RUN_PREFIX = `ptcbench_${process.pid}_${randomBytes(3).toString('hex')}`

function serverUrl(database: string): string {
  const url = new URL(DATABASE_URL)
  url.pathname = `/${database}`
  return url.toString()
}

async function createPostgres(): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl('postgres') })
  await admin.connect()
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${BENCH_DB}" WITH (FORCE)`)
    await admin.query(`CREATE DATABASE "${BENCH_DB}"`)
  } finally {
    await admin.end()
  }
  const url = serverUrl(BENCH_DB)
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query(migrationSql('postgres'))
  } finally {
    await client.end()
  }
  return url
}

function createSqlite(): string {
  mkdirSync(join(projectRoot, '.tmp'), { recursive: true })
  for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(`${SQLITE_FILE}${suffix}`, { force: true })
  const db = new Database(SQLITE_FILE)
  // WAL: readers and the writer of the mixed workload do not block each other, as in production setups.
  db.pragma('journal_mode = WAL')
  db.exec(migrationSql('sqlite'))
  db.close()
  return SQLITE_FILE
}

/** The rows every database gets: identical values, so payloads are the same size everywhere. */
function userRows() {
  const epoch = Date.UTC(2024, 0, 1)
  return Array.from({ length: USERS }, (_, i) => ({
    id: i + 1,
    email: `user${i + 1}@example.com`,
    name: `User number ${i + 1}`,
    createdAt: new Date(epoch + i * 60_000),
  }))
}

function postRows() {
  const epoch = Date.UTC(2024, 5, 1)
  return Array.from({ length: POSTS }, (_, i) => ({
    id: i + 1,
    title: `A post about caching, part ${i + 1}`,
    published: i % 2 === 0,
    views: 9_007_199_254_740_993n + BigInt(i),
    price: new Decimal(`1234567.${String(i).padStart(4, '0')}`),
    cover: new Uint8Array(Buffer.from(randomBytes(64))),
    meta: { lang: 'en', words: 1200 + i, tags: ['db', 'cache'] },
    createdAt: new Date(epoch + i * 3_600_000),
    authorId: (i % USERS) + 1,
  }))
}

export interface Bench {
  readonly prefix: string
  /** A plain client on `db` (uncached); `close()` disconnects every client made here. */
  client(db: Db): BasePrisma
  /**
   * A new ioredis connection, connected (tieredCache fails fast on a connection that is not ready
   * yet, which would turn the first reads into counted L2 errors), closed by `close()`.
   */
  redis(name?: string): Promise<Redis>
  /** Connection options for libraries that open their own connections (bentocache's bus). */
  readonly redisOptions: { host: string; port: number; db: number; password?: string; username?: string }
  readonly dbs: readonly Db[]
  close(): Promise<void>
}

/** Creates both databases, fills them, and hands out clients and connections. */
export async function setup(dbs: readonly Db[]): Promise<Bench> {
  const locations = new Map<Db, string>()
  if (dbs.includes('sqlite')) locations.set('sqlite', createSqlite())
  if (dbs.includes('postgres')) locations.set('postgres', await createPostgres())
  const clients: BasePrisma[] = []
  const connections: Redis[] = []

  const client = (db: Db): BasePrisma => {
    const location = locations.get(db)
    if (!location) throw new Error(`database ${db} was not set up`)
    const prisma =
      db === 'sqlite'
        ? new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: `file:${location}` }) })
        : (new PostgresClient({ adapter: new PrismaPg({ connectionString: location }) }) as unknown as BasePrisma)
    clients.push(prisma)
    return prisma
  }

  for (const db of dbs) {
    const prisma = client(db)
    const users = userRows()
    for (let i = 0; i < users.length; i += 2_000) await prisma.user.createMany({ data: users.slice(i, i + 2_000) })
    await prisma.post.createMany({ data: postRows() })
    if (db === 'postgres') {
      // Explicit ids leave the sequences behind; later creates would collide.
      await prisma.$executeRawUnsafe(`SELECT setval('"User_id_seq"', (SELECT MAX(id) FROM "User"))`)
      await prisma.$executeRawUnsafe(`SELECT setval('"Post_id_seq"', (SELECT MAX(id) FROM "Post"))`)
      await prisma.$executeRawUnsafe('ANALYZE')
    }
  }

  const url = new URL(REDIS_URL)
  const redisOptions = {
    host: url.hostname,
    port: Number(url.port || 6379),
    db: Number(url.pathname.slice(1) || 0),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
  }

  return {
    prefix: RUN_PREFIX,
    dbs,
    redisOptions,
    client,
    async redis(name?: string) {
      const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, ...(name ? { connectionName: name } : {}) })
      redis.on('error', () => {})
      connections.push(redis)
      await redis.ping()
      return redis
    },
    async close() {
      await deleteKeys(`${RUN_PREFIX}*`)
      for (const prisma of clients) await prisma.$disconnect().catch(() => {})
      for (const redis of connections) if (redis.status !== 'end') redis.disconnect()
      for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(`${SQLITE_FILE}${suffix}`, { force: true })
      if (locations.has('postgres') && process.env.BENCH_KEEP_DB !== '1') {
        const admin = new pg.Client({ connectionString: serverUrl('postgres') })
        await admin.connect()
        await admin.query(`DROP DATABASE IF EXISTS "${BENCH_DB}" WITH (FORCE)`).catch(() => {})
        await admin.end()
      }
    },
  }
}

/** Deletes the keys matching `pattern` (SCAN + UNLINK); returns how many. */
export async function deleteKeys(pattern: string): Promise<number> {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
  redis.on('error', () => {})
  let deleted = 0
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000)
      cursor = next
      if (keys.length > 0) deleted += await redis.unlink(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
  return deleted
}
