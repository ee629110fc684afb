import type { Tier } from './cache/types.ts'

/** What a received bus message asked for (another instance's invalidation). */
export interface BusEvent {
  /** Instance id of the sender. */
  readonly from: string
  readonly tags?: readonly string[]
  readonly keys?: readonly string[]
  /** Globs of a key pattern. */
  readonly pattern?: readonly string[]
  readonly clear?: boolean
}

/** Payload of every event, by name. */
export interface CacheEventMap {
  hit: { readonly key: string; readonly tier: Tier; readonly model?: string; readonly operation?: string }
  miss: { readonly key: string; readonly model?: string; readonly operation?: string }
  set: { readonly key: string; readonly tier?: Tier }
  invalidate: { readonly tags: readonly string[]; readonly keys?: readonly string[] }
  error: { readonly tier: Tier; readonly error: unknown }
  /** An invalidation from another instance was received and applied to L1. */
  bus: BusEvent
  /** The bus subscriber lost its connection: L1 is not trusted until it is back. */
  'bus:down': Record<string, never>
  /** The bus subscriber is (again) subscribed and L1 was emptied: L1 is trusted. */
  'bus:up': Record<string, never>
  /** Too many consecutive L2 failures: L2 is skipped until `until` (ms, the cache's clock). */
  'breaker:open': { readonly failures: number; readonly until: number }
  /** L2 answered again after the breaker opened. */
  'breaker:close': Record<string, never>
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
