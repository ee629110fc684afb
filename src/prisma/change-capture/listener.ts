/**
 * Listens for the changes the triggers of sql.ts publish, on a `pg` connection of its own
 * (`pg` is an optional peer dependency, loaded on `start()`).
 *
 * While the connection is down, changes are lost: NOTIFY is not queued for a session that is not
 * listening. So the listener says when it is deaf (`onLost`) and when it hears again
 * (`onRestored`, after LISTEN succeeded); a cache treats its L1 as untrusted in between and
 * empties it on `onRestored`. A dead peer that never closes the socket is found by a ping.
 *
 * Nothing here throws into the application: failures go to `events` as `'error'` and the
 * connection is retried with exponential backoff until `close()`. Every wait is bounded by `timeoutMs`.
 */

import type { CacheEventSink } from '../../core/events.ts'
import { fail, func, number, object } from '../../core/validate.ts'
import { ChangeCaptureError } from './errors.ts'
import { changeCaptureNames, quoteIdent } from './names.ts'
import { parseChange, type RowChange } from './notifications.ts'

/** Options of {@link ChangeCaptureListener}. */
export interface ChangeCaptureListenerOptions {
  /** A PostgreSQL connection string for a session of its own (not through a transaction-mode pooler: LISTEN needs a session). */
  readonly url: string
  /** Derives the channel name when `channel` is absent (see names.ts). @default 'ptc' */
  readonly prefix?: string
  /** The NOTIFY channel the triggers publish on. @default `${prefix}_changes` */
  readonly channel?: string
  /** Called with every committed change. A throw or rejection goes to `events` as `'error'`. */
  readonly onChange: (change: RowChange) => void | Promise<void>
  /** Called when a listening connection dropped: changes from now on are missed until `onRestored`. */
  readonly onLost?: () => void
  /**
   * Called each time LISTEN is in place, the first time included: changes committed before it
   * were not heard, so whatever was cached before may be stale.
   */
  readonly onRestored?: () => void
  /** Receives `'error'` (`{ source: 'change-capture', error }`), `'changes:down'` and `'changes:up'`. */
  readonly events?: CacheEventSink
  /** Bound of every wait: connecting, LISTEN, a ping, closing. @default 5000 */
  readonly timeoutMs?: number
  /** Reconnect delays: doubling from `minMs` up to `maxMs`, with jitter. @default { minMs: 100, maxMs: 5000 } */
  readonly retry?: { readonly minMs?: number; readonly maxMs?: number }
  /** How often an idle connection is checked with `SELECT 1`; `0` turns the check off. @default 10000 */
  readonly pingMs?: number
}

/** The part of a `pg` Client this uses. */
interface PgClient {
  connect(): Promise<unknown>
  query(text: string): Promise<unknown>
  end(): Promise<unknown>
  on(event: 'error', listener: (error: Error) => void): unknown
  on(event: 'end', listener: () => void): unknown
  on(event: 'notification', listener: (message: { channel: string; payload?: string }) => void): unknown
}

type PgClientClass = new (config: Record<string, unknown>) => PgClient

const OPTIONS: ReadonlySet<string> = new Set([
  'url',
  'prefix',
  'channel',
  'onChange',
  'onLost',
  'onRestored',
  'events',
  'timeoutMs',
  'retry',
  'pingMs',
])

/** Every session it opens carries this in `application_name`, so operators can find it in `pg_stat_activity`. */
export const APPLICATION_NAME = 'tiered-cache'

export class ChangeCaptureListener {
  readonly #url: string
  readonly #channel: string
  readonly #onChange: ChangeCaptureListenerOptions['onChange']
  readonly #onLost: (() => void) | undefined
  readonly #onRestored: (() => void) | undefined
  readonly #events: CacheEventSink | undefined
  readonly #timeoutMs: number
  readonly #minMs: number
  readonly #maxMs: number
  readonly #pingMs: number
  #client: PgClient | undefined
  #listening = false
  #closed = false
  #attempt = 0
  #retry: NodeJS.Timeout | undefined
  #ping: NodeJS.Timeout | undefined
  #started: Promise<void> | undefined
  #first: { resolve: () => void; reject: (error: unknown) => void } | undefined

  /** @throws CacheOptionError (`changeCapture.<option>`) on a bad option. */
  constructor(options: ChangeCaptureListenerOptions) {
    const o = object('changeCapture', options, OPTIONS)
    if (typeof o.url !== 'string' || o.url.length === 0)
      fail('changeCapture.url', 'a PostgreSQL connection string', o.url)
    this.#url = o.url
    this.#channel = changeCaptureNames(
      { prefix: o.prefix as string | undefined, channel: o.channel as string | undefined },
      'changeCapture',
    ).channel
    this.#onChange = func('changeCapture.onChange', o.onChange)
    this.#onLost = o.onLost === undefined ? undefined : func('changeCapture.onLost', o.onLost)
    this.#onRestored = o.onRestored === undefined ? undefined : func('changeCapture.onRestored', o.onRestored)
    if (
      o.events !== undefined &&
      (typeof o.events !== 'object' || typeof (o.events as CacheEventSink)?.emit !== 'function')
    ) {
      fail('changeCapture.events', 'an object with emit(name, payload)', o.events)
    }
    this.#events = o.events as CacheEventSink | undefined
    this.#timeoutMs = number('changeCapture.timeoutMs', o.timeoutMs, 5000, 1)
    const retry = o.retry === undefined ? {} : object('changeCapture.retry', o.retry, new Set(['minMs', 'maxMs']))
    this.#minMs = number('changeCapture.retry.minMs', retry.minMs, 100, 1)
    this.#maxMs = Math.max(this.#minMs, number('changeCapture.retry.maxMs', retry.maxMs, 5000, 1))
    this.#pingMs = number('changeCapture.pingMs', o.pingMs, 10_000)
  }

  /** The channel it listens on. */
  get channel(): string {
    return this.#channel
  }

  /** Whether LISTEN is in place now: every change committed since the last `onRestored` was delivered. */
  get listening(): boolean {
    return this.#listening
  }

  /**
   * Connects and LISTENs. Resolves once LISTEN is in place; rejects with the first failure (within
   * about twice `timeoutMs`) while the listener keeps retrying until `close()`. Calling it again
   * returns the same promise.
   */
  start(): Promise<void> {
    if (this.#closed) return Promise.reject(new ChangeCaptureError('the change-capture listener is closed'))
    this.#started ??= new Promise<void>((resolve, reject) => {
      this.#first = { resolve, reject }
      void this.#connect()
    })
    return this.#started
  }

  /** Ends the connection and every retry; no callback is called after it resolves. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#listening = false
    clearTimeout(this.#retry)
    clearTimeout(this.#ping)
    this.#settleFirst(new ChangeCaptureError('the change-capture listener was closed before it listened'))
    const client = this.#client
    this.#client = undefined
    if (client) await this.#end(client)
  }

  async #connect(): Promise<void> {
    this.#retry = undefined
    if (this.#closed) return
    let Client: PgClientClass
    try {
      Client = await loadPg()
    } catch (error) {
      // Not installed: no retry can help.
      const missing = new ChangeCaptureError('change capture needs the pg package (npm install pg)', { cause: error })
      this.#error(missing)
      this.#settleFirst(missing)
      return
    }
    if (this.#closed) return
    const client = new Client({
      connectionString: this.#url,
      application_name: `${APPLICATION_NAME}:${this.#channel}`.slice(0, 63),
      connectionTimeoutMillis: this.#timeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    })
    this.#client = client
    client.on('error', (error) => {
      if (this.#client !== client) return
      this.#error(error)
      this.#drop(client)
    })
    client.on('end', () => this.#drop(client))
    client.on('notification', (message) => {
      if (this.#client === client && message.channel === this.#channel) this.#receive(message.payload ?? '')
    })
    try {
      await bounded(client.connect(), this.#timeoutMs, 'connecting to PostgreSQL')
      await bounded(client.query(`LISTEN ${quoteIdent(this.#channel)}`), this.#timeoutMs, 'LISTEN')
    } catch (error) {
      if (this.#client === client) {
        this.#error(error)
        this.#drop(client)
      }
      this.#settleFirst(error)
      return
    }
    if (this.#client !== client) return
    this.#listening = true
    this.#attempt = 0
    this.#emit('changes:up', {})
    this.#call(this.#onRestored)
    this.#settleFirst()
    this.#schedulePing(client)
  }

  /** `client` is gone (an error, its end, a failed ping): deaf until a new one listens. */
  #drop(client: PgClient): void {
    if (this.#client !== client) return
    this.#client = undefined
    clearTimeout(this.#ping)
    void this.#end(client)
    if (this.#listening) {
      this.#listening = false
      this.#emit('changes:down', {})
      this.#call(this.#onLost)
    }
    if (this.#closed || this.#retry !== undefined) return
    const delay = Math.min(this.#maxMs, this.#minMs * 2 ** this.#attempt++)
    this.#retry = setTimeout(() => void this.#connect(), delay * (0.5 + Math.random() / 2))
    this.#retry.unref?.()
  }

  #schedulePing(client: PgClient): void {
    if (this.#pingMs === 0) return
    this.#ping = setTimeout(() => {
      bounded(client.query('SELECT 1'), this.#timeoutMs, 'a ping').then(
        () => {
          if (this.#client === client) this.#schedulePing(client)
        },
        (error) => {
          if (this.#client !== client) return
          this.#error(error)
          this.#drop(client)
        },
      )
    }, this.#pingMs)
    this.#ping.unref?.()
  }

  #receive(payload: string): void {
    let change: RowChange
    try {
      change = parseChange(payload)
    } catch (error) {
      this.#error(error)
      return
    }
    try {
      const done = this.#onChange(change)
      if (done instanceof Promise) done.catch((error: unknown) => this.#error(error))
    } catch (error) {
      this.#error(error)
    }
  }

  async #end(client: PgClient): Promise<void> {
    await bounded(client.end(), this.#timeoutMs, 'closing the connection').catch(() => {})
  }

  #settleFirst(error?: unknown): void {
    const first = this.#first
    this.#first = undefined
    if (!first) return
    if (error === undefined) first.resolve()
    else first.reject(error)
  }

  #call(callback: (() => void) | undefined): void {
    try {
      callback?.()
    } catch (error) {
      this.#error(error)
    }
  }

  #error(error: unknown): void {
    if (this.#events?.listenerCount?.('error') === 0) return
    this.#emit('error', { source: 'change-capture', error })
  }

  #emit(name: string, payload: unknown): void {
    try {
      this.#events?.emit(name, payload)
    } catch {
      // A listener's failure is the listener's problem.
    }
  }
}

let pgClient: Promise<PgClientClass> | undefined

/** `pg`'s Client, imported once, on first use (an optional peer dependency). */
function loadPg(): Promise<PgClientClass> {
  pgClient ??= import('pg').then((mod: { default?: { Client?: unknown }; Client?: unknown }) => {
    const Client = mod.default?.Client ?? mod.Client
    if (typeof Client !== 'function') throw new TypeError('the pg module has no Client')
    return Client as PgClientClass
  })
  pgClient.catch(() => {
    pgClient = undefined
  })
  return pgClient
}

/** `promise`, or a rejection once `ms` passed. */
function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ChangeCaptureError(`${what} did not finish within ${ms} ms`)), ms)
    timer.unref?.()
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
