import { randomBytes } from 'node:crypto'
import { copyFileSync, rmSync } from 'node:fs'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import { Redis, type RedisOptions } from 'ioredis'
import pg from 'pg'
import { inject } from 'vitest'
import { PrismaClient as PostgresClient } from '../../generated/postgres/client.ts'
import { PrismaClient as SqliteClient } from '../../generated/sqlite/client.ts'
import { REDIS_URL } from './env.ts'

export type Provider = 'sqlite' | 'postgres'
export type SqlitePrisma = SqliteClient
export type PostgresPrisma = PostgresClient
/** Both generated clients have the same models; tests written once run on either. */
export type AnyPrisma = SqlitePrisma

export const providers: readonly Provider[] = ['sqlite', 'postgres']

let counter = 0
const uniq = () => `${process.pid}_${(counter++).toString(36)}_${randomBytes(3).toString('hex')}`

/**
 * Everything one test file needs, isolated from every other file running in parallel: its own
 * database (a copy of the migrated one), its own Redis key prefix, and connections that
 * `cleanup()` closes. Several clients from one testbed stand for several application instances.
 */
export class Testbed {
  readonly prefix = `t${uniq()}`
  readonly #closers: Array<() => Promise<unknown>> = []
  readonly #databases = new Map<Provider, string>()

  /** A fresh database for `provider`, migrated, shared by every client this testbed makes for it. */
  async database(provider: Provider): Promise<string> {
    const known = this.#databases.get(provider)
    if (known) return known
    let location: string
    if (provider === 'sqlite') {
      location = inject('sqliteFile').replace(/\.db$/, `_${uniq()}.db`)
      copyFileSync(inject('sqliteFile'), location)
      this.#closers.push(async () => {
        for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(`${location}${suffix}`, { force: true })
      })
    } else {
      const template = new URL(inject('postgresUrl'))
      const name = `${template.pathname.slice(1)}_${uniq()}`
      const admin = new pg.Client({ connectionString: template.toString().replace(template.pathname, '/postgres') })
      await admin.connect()
      await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template.pathname.slice(1)}"`)
      await admin.end()
      const url = new URL(template)
      url.pathname = `/${name}`
      location = url.toString()
      this.#closers.push(async () => {
        const dropper = new pg.Client({ connectionString: template.toString().replace(template.pathname, '/postgres') })
        await dropper.connect()
        await dropper.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
        await dropper.end()
      })
    }
    this.#databases.set(provider, location)
    return location
  }

  /** A plain PrismaClient on this testbed's database for `provider`. */
  async prisma(provider: Provider): Promise<AnyPrisma> {
    const location = await this.database(provider)
    const client =
      provider === 'sqlite'
        ? new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: `file:${location}` }) })
        : (new PostgresClient({ adapter: new PrismaPg({ connectionString: location }) }) as unknown as SqlitePrisma)
    this.#closers.unshift(() => client.$disconnect())
    return client
  }

  /** A new ioredis connection (to REDIS_URL unless `url` is given), closed by `cleanup()`. */
  redis(url: string = REDIS_URL, options: RedisOptions = {}): Redis {
    const redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1, ...options })
    redis.on('error', () => {})
    this.#closers.unshift(async () => {
      if (redis.status !== 'end') redis.disconnect()
    })
    return redis
  }

  /** Runs `fn` at cleanup, before the databases are dropped. */
  defer(fn: () => Promise<unknown> | unknown): void {
    this.#closers.unshift(async () => fn())
  }

  /** Deletes this testbed's Redis keys, closes its connections and drops its databases. */
  async cleanup(): Promise<void> {
    const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
    redis.on('error', () => {})
    try {
      let cursor = '0'
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 1000)
        cursor = next
        if (keys.length > 0) await redis.unlink(...keys)
      } while (cursor !== '0')
    } catch {
      // Redis may be down on purpose in a fault test; nothing of ours is left to delete then.
    } finally {
      redis.disconnect()
    }
    for (const close of this.#closers.splice(0)) await close().catch(() => {})
  }
}
