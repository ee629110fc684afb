/** Which tier an event or error concerns. */
export type Tier = 'l1' | 'l2'

/**
 * The write behind an invalidation, carried by the `'invalidate'` event and the bus message, so an
 * entry's eviction can be traced to it ("why was this evicted?"). Given by the layer above
 * (`TieredCache.invalidateTags(tags, cause)`); the cache layer passes it on unread.
 */
export interface InvalidationCause {
  /** The model written; absent for raw SQL and for the writes of a `$transaction` taken together. */
  readonly model?: string
  /**
   * What invalidated: a write (`update`, `deleteMany`, `$executeRaw`, ...), `$transaction` (its
   * writes, after commit), `$cache.invalidate`, or `changeCapture`.
   */
  readonly operation: string
  /** Whether the write ran inside a `$transaction` (and was invalidated once it committed). */
  readonly transaction: boolean
  /** The instance that invalidated (its RedisCache `instanceId`, the bus message's `from`). */
  readonly instance?: string
}

/** Another instance's invalidation, as received on the bus (lock releases are not events). */
export interface BusEvent {
  /** Instance id of the sender. */
  readonly from: string
  readonly tags?: readonly string[]
  readonly keys?: readonly string[]
  /** Globs of a `KeyPattern`. */
  readonly pattern?: readonly string[]
  readonly clear?: boolean
  /** The write behind a tag invalidation, when the sender gave one. */
  readonly cause?: InvalidationCause
}

/** Payload of every event, by name. */
export interface CacheEventMap {
  hit: { readonly key: string; readonly tier: Tier; readonly model?: string; readonly operation?: string }
  miss: { readonly key: string; readonly model?: string; readonly operation?: string }
  set: { readonly key: string; readonly tier?: Tier }
  invalidate: {
    readonly tags: readonly string[]
    readonly keys?: readonly string[]
    /** The write behind it, when the caller of `invalidateTags` gave one. */
    readonly cause?: InvalidationCause
  }
  error: { readonly tier: Tier; readonly error: unknown }
  /**
   * A value was returned but not stored in `tier`, and nothing failed: `'unserializable'`, the L2
   * format cannot carry it exactly (a function, a class instance, an Error, a key superjson
   * refuses such as `constructor`: `detail` says which and where), so it is kept in L1 only;
   * `'too-large'`, its serialized size in bytes is over `maxEntryBytes`, so no tier keeps it.
   */
  'set:skipped': {
    readonly key: string
    readonly tier: Tier
    readonly reason: 'unserializable' | 'too-large'
    readonly detail: string
  }
  /** An invalidation from another instance was received and applied to L1 (not sent for lock releases). */
  bus: BusEvent
  /** The bus subscriber lost its connection: L1 is not trusted until it is back. */
  'bus:down': Record<string, never>
  /** The bus subscriber is (again) subscribed and L1 was emptied: L1 is trusted. */
  'bus:up': Record<string, never>
  /** Too many consecutive L2 failures: L2 is skipped until `until` (ms, the cache's clock). */
  'breaker:open': { readonly failures: number; readonly until: number }
  /** L2 answered again after the breaker opened. */
  'breaker:close': Record<string, never>
  /** Invalidations that L2 had missed were delivered (in order) once it answered again. */
  replay: { readonly count: number }
  /** This instance took the stampede lock of `key`: it loads, the other instances wait for its value. */
  'stampede:locked': { readonly key: string }
  /** Another instance holds the stampede lock of `key`: this one waits for its value. */
  'stampede:waiting': { readonly key: string }
  /**
   * A wait for another instance's value ended: `filled` (read from L2), `acquired` (the lock was
   * free again: this instance loads), `timeout` (`waitMs` passed: it loads without the lock),
   * `failed` (L2 failed: it loads without the lock).
   */
  'stampede:waited': {
    readonly key: string
    readonly outcome: 'filled' | 'acquired' | 'timeout' | 'failed'
    readonly waitedMs: number
  }
  /** The loader failed and a value inside its grace window was served instead of the error. */
  grace: {
    readonly key: string
    readonly tier: Tier
    readonly error: unknown
    readonly model?: string
    readonly operation?: string
  }
}

export type CacheEventName = keyof CacheEventMap

/**
 * Anything with `emit(name, payload)`, such as a Node `EventEmitter`. Optional `listenerCount`
 * lets the cache skip `'error'` when nobody listens: an `EventEmitter` throws on an unheard `'error'`.
 */
export interface CacheEventSink {
  emit(name: string, payload: unknown): unknown
  listenerCount?(name: string): number
}

/**
 * Delivers events to the sink. Never throws: a failing listener must not fail a read.
 * Callers check `emitter` for `undefined` before building a payload, so nothing is allocated on
 * the hot path when no sink was given.
 */
export class Emitter {
  readonly #sink: CacheEventSink

  constructor(sink: CacheEventSink) {
    this.#sink = sink
  }

  emit<K extends CacheEventName>(name: K, payload: CacheEventMap[K]): void {
    try {
      if (name === 'error' && this.#sink.listenerCount?.('error') === 0) return
      this.#sink.emit(name, payload)
    } catch {
      // A listener's failure is the listener's problem; the cache keeps answering.
    }
  }
}

/** `undefined` when there is no sink, so `emitter?.emit(...)` costs nothing then. */
export function createEmitter(sink: CacheEventSink | undefined): Emitter | undefined {
  return sink ? new Emitter(sink) : undefined
}
