import type { Redis } from 'ioredis'
import { CacheClosedError, L2UnavailableError } from '../../core/errors.ts'
import type { Emitter } from '../../core/events.ts'
import { KeyPattern } from '../keys.ts'
import type { MemoryCache } from '../memory.ts'
import { type BusMessage, ownMessagePrefix, parseBusMessage } from './bus-message.ts'
import { endConnection } from './connection.ts'
import { Readiness } from './readiness.ts'
import type { RedisCache } from './redis-cache.ts'

/** Options of {@link Bus}. */
export interface BusOptions {
  /** Where to subscribe: the bus opens its own connection with `l2.subscriber()`. */
  readonly l2: RedisCache
  /** The L1 that received invalidations are applied to. */
  readonly l1: MemoryCache
  readonly emitter?: Emitter | undefined
  /** Called with the keys of another instance's released stampede lock (see lock.ts). */
  readonly onUnlocked?: ((keys: readonly string[]) => void) | undefined
  /**
   * Called after an invalidation was applied to the L1, with what it invalidated (`clear` also
   * when the L1 was emptied because the subscription came back).
   */
  readonly onApplied?: ((invalidation: Omit<BusMessage, 'from' | 'unlocked'>) => void) | undefined
}

/**
 * Receives other instances' invalidations and applies them to this instance's L1. The L1 is
 * `trusted` only while the subscription is live, and emptied before trust returns
 * (docs/design.md, "L1 trust").
 */
export class Bus {
  readonly #l1: MemoryCache
  readonly #emitter: Emitter | undefined
  readonly #self: string
  readonly #own: string
  readonly #channel: string
  readonly #l2: RedisCache
  readonly #name: string
  #subscriber: Redis | undefined
  #reconnect: NodeJS.Timeout | undefined
  readonly #onUnlocked: ((keys: readonly string[]) => void) | undefined
  readonly #onApplied: BusOptions['onApplied']
  #trusted = false
  /** Bumped on every disconnect, so a subscribe that completes after one does not restore trust. */
  #generation = 0
  #closed = false
  readonly #readiness = new Readiness()

  constructor(options: BusOptions) {
    this.#l1 = options.l1
    this.#emitter = options.emitter
    this.#onUnlocked = options.onUnlocked
    this.#onApplied = options.onApplied
    this.#self = options.l2.instanceId
    this.#own = ownMessagePrefix(this.#self)
    this.#channel = options.l2.channel
    this.#l2 = options.l2
    this.#name = `${options.l2.prefix}:bus:${this.#self}`
    this.#connect()
  }

  #connect(): void {
    this.#reconnect = undefined
    if (this.#closed) return
    const subscriber = this.#l2.subscriber(this.#name)
    this.#subscriber = subscriber
    if (subscriber === undefined) {
      // A cluster that knows no node yet.
      this.#retry()
      return
    }
    subscriber.on('error', () => {})
    // Subscribing again on every 'ready' (SUBSCRIBE is idempotent) tells us when trust can return.
    subscriber.on('ready', () => this.#subscribe(subscriber))
    subscriber.on('close', () => this.#down())
    // A connection that gave up (a cluster node that went away): subscribe somewhere else.
    subscriber.once('end', () => {
      if (this.#subscriber === subscriber) this.#retry()
    })
    subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.#channel) this.#receive(text)
    })
    if (subscriber.status === 'ready') this.#subscribe(subscriber)
    else if (subscriber.status === 'wait') subscriber.connect().catch(() => {})
  }

  #retry(): void {
    if (this.#closed || this.#reconnect !== undefined) return
    this.#reconnect = setTimeout(() => this.#connect(), 100)
    this.#reconnect.unref?.()
  }

  /** Whether every invalidation sent since the L1 was last emptied has been received. */
  get trusted(): boolean {
    return this.#trusted
  }

  /**
   * Resolves when the bus is next trusted (at once if it is). Rejects with `L2UnavailableError`
   * when that does not happen within `timeoutMs`, and with `CacheClosedError` after `close()`.
   */
  ready(timeoutMs: number): Promise<void> {
    if (this.#closed) return Promise.reject(new CacheClosedError('ready'))
    if (this.#trusted) return Promise.resolve()
    return this.#readiness.wait(
      timeoutMs,
      () => new L2UnavailableError('ready (bus subscription)', this.#subscriber?.status ?? 'none'),
    )
  }

  /** Unsubscribes and ends the subscriber connection (see `endConnection`). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#trusted = false
    clearTimeout(this.#reconnect)
    this.#readiness.closed()
    if (this.#subscriber) await endConnection(this.#subscriber)
  }

  #subscribe(subscriber: Redis): void {
    const generation = this.#generation
    subscriber.subscribe(this.#channel).then(
      () => {
        if (generation !== this.#generation || this.#closed || subscriber !== this.#subscriber) return
        // Whatever was published while we were not subscribed is lost: forget everything.
        this.#l1.clear()
        this.#onApplied?.({ clear: true })
        this.#trusted = true
        this.#emitter?.emit('bus:up', {})
        this.#readiness.arrived()
      },
      () => {
        // The connection dropped while subscribing; 'ready' will call again.
      },
    )
  }

  #down(): void {
    this.#generation++
    if (!this.#trusted) return
    this.#trusted = false
    this.#emitter?.emit('bus:down', {})
  }

  #receive(text: string): void {
    if (text.startsWith(this.#own)) return
    const message = parseBusMessage(text)
    if (message === undefined || message.from === this.#self) return
    if (message.unlocked) {
      this.#onUnlocked?.(message.unlocked)
      // A lock notice alone invalidates nothing: no 'bus' event for it.
      if (!(message.clear || message.tags?.length || message.keys?.length || message.pattern)) return
    }
    if (message.clear) this.#l1.clear()
    if (message.tags?.length) this.#l1.invalidateTags(message.tags)
    if (message.keys?.length) this.#l1.delete(message.keys)
    if (message.pattern) this.#l1.invalidatePattern(new KeyPattern(message.pattern))
    const { from: _from, unlocked: _unlocked, ...applied } = message
    this.#onApplied?.(applied)
    this.#emitter?.emit('bus', message)
  }
}
