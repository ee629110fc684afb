import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { DATABASE_URL } from '../../support/env.ts'

/**
 * A database of this test file's own (`cc_<random>`), with `setupSql` applied; `drop()` removes it
 * and ends every connection `connect()` opened.
 */
export async function changeCaptureDatabase(setupSql: string) {
  const name = `cc_${process.pid}_${randomBytes(4).toString('hex')}`
  const server = new URL(DATABASE_URL)
  const admin = new pg.Client({ connectionString: server.toString() })
  await admin.connect()
  await admin.query(`CREATE DATABASE "${name}"`)
  await admin.end()
  const url = new URL(server)
  url.pathname = `/${name}`
  const clients: pg.Client[] = []
  const connect = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: url.toString() })
    client.on('error', () => {})
    await client.connect()
    clients.push(client)
    return client
  }
  const setup = await connect()
  await setup.query(setupSql)
  return {
    name,
    url: url.toString(),
    connect,
    /** A connection of its own for one statement or script. */
    async run(sql: string): Promise<pg.QueryResult> {
      const client = await connect()
      try {
        return await client.query(sql)
      } finally {
        await client.end().catch(() => {})
      }
    },
    async drop(): Promise<void> {
      for (const client of clients.splice(0)) await client.end().catch(() => {})
      const dropper = new pg.Client({ connectionString: server.toString() })
      await dropper.connect()
      await dropper.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      await dropper.end()
    },
  }
}

/** Items in arrival order; `next()` waits (bounded) for the next one. */
export class Arrivals<T> {
  readonly #items: T[] = []
  readonly #waiters: Array<(item: T) => void> = []

  push = (item: T): void => {
    const waiter = this.#waiters.shift()
    if (waiter) waiter(item)
    else this.#items.push(item)
  }

  /** The next item; rejects after `ms` so that a missing delivery fails the test instead of hanging it. */
  next(ms = 5000): Promise<T> {
    const item = this.#items.shift()
    if (item !== undefined) return Promise.resolve(item)
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1)
        reject(new Error(`nothing arrived within ${ms} ms`))
      }, ms)
      const waiter = (value: T) => {
        clearTimeout(timer)
        resolve(value)
      }
      this.#waiters.push(waiter)
    })
  }

  /** The next `count` items. */
  async take(count: number, ms = 5000): Promise<T[]> {
    const items: T[] = []
    for (let i = 0; i < count; i++) items.push(await this.next(ms))
    return items
  }

  get pending(): number {
    return this.#items.length
  }
}

/** The payloads of notifications on `channel`, through a plain `pg` LISTEN (no listener of ours). */
export async function rawListener(connect: () => Promise<pg.Client>, channel: string): Promise<Arrivals<string>> {
  const client = await connect()
  const arrivals = new Arrivals<string>()
  client.on('notification', (message) => {
    if (message.channel === channel) arrivals.push(message.payload ?? '')
  })
  await client.query(`LISTEN "${channel}"`)
  return arrivals
}
