/**
 * What the examples share: a fresh SQLite database in `.tmp/`, a Prisma client on it, and Redis
 * from REDIS_URL when it answers. Not an example itself.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import Database from 'better-sqlite3'
import { Redis } from 'ioredis'
import type { PrismaClient } from '../generated/sqlite/client.ts'
import { migrationSql, projectRoot } from '../test/support/migrations.ts'

// The generated client is not committed: make it (a no-op when it is up to date) before loading it,
// so that every example runs with one command after `npm install`.
execFileSync(process.execPath, [join(projectRoot, 'scripts', 'generate.mjs')], { stdio: 'inherit' })
const generated = await import('../generated/sqlite/client.ts')

export const { Prisma } = generated
export type { PrismaClient }

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'

/** A key prefix no other run shares, so that examples running at once do not see each other. */
export const uniquePrefix = (name: string) => `${name}-${process.pid}-${randomBytes(3).toString('hex')}`

/** Creates `.tmp/<name>.db` afresh with the committed migrations; returns its path. */
export function createDatabase(name: string): string {
  const dir = join(projectRoot, '.tmp')
  mkdirSync(dir, { recursive: true })
  const file = join(dir, `${name}.db`)
  removeDatabase(file)
  const db = new Database(file)
  db.exec(migrationSql('sqlite'))
  db.close()
  return file
}

/** `createDatabase(name)` with two users: Ada (id 1) and Alan (id 2). */
export async function seededDatabase(name: string): Promise<string> {
  const file = createDatabase(name)
  const seeder = sqliteClient(file)
  await seeder.user.createMany({
    data: [
      { email: 'ada@example.com', name: 'Ada' },
      { email: 'alan@example.com', name: 'Alan' },
    ],
  })
  await seeder.$disconnect()
  return file
}

export function removeDatabase(file: string): void {
  for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true })
}

/** A plain PrismaClient on a SQLite file. */
export function sqliteClient(file: string): PrismaClient {
  return new generated.PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) })
}

/** Whether Redis at `url` answers a PING within half a second. */
export async function redisAnswers(url: string = REDIS_URL): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  })
  probe.on('error', () => {})
  try {
    await probe.connect()
    return (await probe.ping()) === 'PONG'
  } catch {
    return false
  } finally {
    probe.disconnect()
  }
}

/** Whether Redis answers; when it does not, says so in one line: the example then runs with L1 only. */
export async function redisOrNotice(url: string = REDIS_URL): Promise<boolean> {
  const up = await redisAnswers(url)
  if (!up) console.log(`Redis at ${url} is not answering: running with the in-process L1 only.`)
  return up
}

/**
 * Deletes every Redis key under `prefix`. `$cache.clear()` removes the cached entries; this also
 * removes the cache's bookkeeping (tag versions), which only a throwaway prefix can do without.
 */
export async function dropPrefix(prefix: string, url: string = REDIS_URL): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 })
  redis.on('error', () => {})
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await redis.unlink(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}
