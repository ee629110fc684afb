import { EventEmitter } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CacheOptionError } from '../../../src/core/errors.ts'
import { ChangeCaptureError } from '../../../src/prisma/change-capture/errors.ts'
import { ChangeCaptureListener } from '../../../src/prisma/change-capture/listener.ts'
import type { RowChange } from '../../../src/prisma/change-capture/notifications.ts'
import { changeCaptureSql } from '../../../src/prisma/change-capture/sql.ts'
import { migrationSql, projectRoot } from '../../support/migrations.ts'
import { Arrivals, changeCaptureDatabase } from './support.ts'

const schema = readFileSync(join(projectRoot, 'prisma', 'postgres.prisma'), 'utf8')

let db: Awaited<ReturnType<typeof changeCaptureDatabase>>
const listeners: ChangeCaptureListener[] = []

beforeAll(async () => {
  db = await changeCaptureDatabase(`${migrationSql('postgres')}\n${changeCaptureSql({ schema }, { prefix: 'lt' })}`)
})

afterAll(async () => {
  for (const listener of listeners) await listener.close()
  await db?.drop()
})

/** A started listener on channel `lt_changes` whose changes, losses, restores and errors are recorded. */
async function listen(options: { url?: string; timeoutMs?: number } = {}) {
  const changes = new Arrivals<RowChange>()
  const lifecycle = new Arrivals<'lost' | 'restored'>()
  const errors = new Arrivals<unknown>()
  const events = new EventEmitter()
  events.on('error', (event: { error: unknown }) => errors.push(event.error))
  const listener = new ChangeCaptureListener({
    url: options.url ?? db.url,
    prefix: 'lt',
    onChange: changes.push,
    onLost: () => lifecycle.push('lost'),
    onRestored: () => lifecycle.push('restored'),
    events,
    retry: { minMs: 10, maxMs: 50 },
    timeoutMs: options.timeoutMs ?? 5000,
  })
  listeners.push(listener)
  return { listener, changes, lifecycle, errors, events }
}

/** Runs `sql` and returns its first row's `id`. */
const insert = async (sql: string): Promise<number> => (await db.run(sql)).rows[0].id as number

describe('ChangeCaptureListener', () => {
  it('delivers committed changes to two listeners, from a session named tiered-cache', async () => {
    const a = await listen()
    const b = await listen()
    await Promise.all([a.listener.start(), b.listener.start()])
    expect([await a.lifecycle.next(), await b.lifecycle.next()]).toEqual(['restored', 'restored'])
    expect(a.listener.listening).toBe(true)
    const id = await insert(`INSERT INTO "Tag" (name) VALUES ('two') RETURNING id`)
    const expected = { schema: 'public', table: 'Tag', operation: 'insert', key: [String(id)] }
    expect(await a.changes.next()).toEqual(expected)
    expect(await b.changes.next()).toEqual(expected)
    const sessions = await db.run(
      `SELECT application_name FROM pg_stat_activity WHERE datname = '${db.name}' AND application_name LIKE '%tiered-cache%'`,
    )
    expect(sessions.rows).toEqual([
      { application_name: 'tiered-cache:lt_changes' },
      { application_name: 'tiered-cache:lt_changes' },
    ])
    await Promise.all([a.listener.close(), b.listener.close()])
  })

  it('calls onLost when its session is terminated, onRestored once it listens again, then delivers again', async () => {
    const { listener, changes, lifecycle, errors } = await listen()
    await listener.start()
    expect(await lifecycle.next()).toBe('restored')
    const killed = await db.run(
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE datname = '${db.name}' AND application_name LIKE '%tiered-cache%'`,
    )
    expect(killed.rows).toEqual([{ killed: true }])
    expect(await lifecycle.next()).toBe('lost')
    expect(await errors.next()).toMatchObject({ code: '57P01' })
    expect(listener.listening).toBe(false)
    expect(await lifecycle.next()).toBe('restored')
    expect(listener.listening).toBe(true)
    const id = await insert(`INSERT INTO "Tag" (name) VALUES ('after kill') RETURNING id`)
    expect(await changes.next()).toMatchObject({ table: 'Tag', key: [String(id)] })
    await listener.close()
  })

  it('ignores a malformed notification with an error event and keeps delivering', async () => {
    const { listener, changes, errors } = await listen()
    await listener.start()
    await db.run(`SELECT pg_notify('lt_changes', 'not json'), pg_notify('lt_changes', '{"v":2}')`)
    const id = await insert(`INSERT INTO "Tag" (name) VALUES ('after junk') RETURNING id`)
    const [first, second] = await errors.take(2)
    expect(first).toBeInstanceOf(ChangeCaptureError)
    expect((first as Error).message).toContain('not JSON')
    expect((second as Error).message).toContain('unknown version 2')
    expect(await changes.next()).toMatchObject({ table: 'Tag', key: [String(id)] })
    await listener.close()
  })

  it('sends a throwing or rejecting onChange to the error event and keeps delivering', async () => {
    const errors = new Arrivals<unknown>()
    const seen = new Arrivals<RowChange>()
    const events = new EventEmitter().on('error', (e: { error: unknown }) => errors.push(e.error))
    let calls = 0
    const listener = new ChangeCaptureListener({
      url: db.url,
      prefix: 'lt',
      events,
      onChange: (change) => {
        seen.push(change)
        calls++
        if (calls === 1) throw new Error('sync failure')
        if (calls === 2) return Promise.reject(new Error('async failure'))
      },
    })
    listeners.push(listener)
    await listener.start()
    await db.run(`INSERT INTO "Tag" (name) VALUES ('e1'), ('e2'), ('e3')`)
    expect((await seen.take(3)).map((c) => c.operation)).toEqual(['insert', 'insert', 'insert'])
    expect((await errors.take(2)).map((e) => (e as Error).message).sort()).toEqual(['async failure', 'sync failure'])
    await listener.close()
  })

  it('cannot connect: start() rejects within its bound, errors go to events, it retries until close()', async () => {
    const port = await freePort()
    const { listener, errors, lifecycle } = await listen({
      url: `postgresql://postgres@127.0.0.1:${port}/none`,
      timeoutMs: 500,
    })
    await expect(listener.start()).rejects.toThrow(/ECONNREFUSED|connect/)
    expect(await errors.next()).toBeInstanceOf(Error)
    await errors.next() // a retry failed too
    expect(listener.listening).toBe(false)
    await listener.close()
    expect(lifecycle.pending).toBe(0)
    await expect(listener.start()).rejects.toThrow(/closed/)
  })

  it('start() against a server that never answers rejects after timeoutMs', async () => {
    const silent = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as { port: number }
    try {
      const { listener } = await listen({ url: `postgresql://postgres@127.0.0.1:${port}/none`, timeoutMs: 300 })
      await expect(listener.start()).rejects.toThrow(/timeout|did not finish/)
      await listener.close()
    } finally {
      silent.close()
    }
  })

  it('rejects bad options with a CacheOptionError naming them', () => {
    const onChange = () => {}
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ onChange }, 'changeCapture.url'],
      [{ url: db.url }, 'changeCapture.onChange'],
      [{ url: db.url, onChange, timeoutMs: 0 }, 'changeCapture.timeoutMs'],
      [{ url: db.url, onChange, retry: { minMs: -1 } }, 'changeCapture.retry.minMs'],
      [{ url: db.url, onChange, channel: 'x'.repeat(64) }, 'changeCapture.channel'],
      [{ url: db.url, onChange, prefix: 'bad prefix' }, 'changeCapture.prefix'],
      [{ url: db.url, onChange, events: {} }, 'changeCapture.events'],
      [{ url: db.url, onChange, what: 1 }, 'changeCapture.what'],
    ]
    for (const [options, option] of cases) {
      expect(() => new ChangeCaptureListener(options as never), option).toThrow(
        expect.objectContaining({ constructor: CacheOptionError, option }),
      )
    }
  })
})

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}
