import type { Emitter } from '../../core/events.ts'
import type { StatsCounters } from '../../core/stats.ts'
import { capL2Lifetime, inSeconds, type Lifetime } from '../lifetime.ts'
import type { L2Capture, L2Read } from '../redis/operations.ts'
import type { RedisCache } from '../redis/redis-cache.ts'
import type { GetOrSetOptions } from '../types.ts'
import type { L2Guard } from './l2-guard.ts'
import type { InvalidationOutbox } from './outbox.ts'
import type { Stampede } from './stampede.ts'
import type { ResolvedTieredOptions } from './tiered-options.ts'

type Meta = GetOrSetOptions['meta']

/** What {@link L2Tier} takes from the options of its `TieredCache`. */
export type L2TierOptions = Pick<ResolvedTieredOptions, 'l2TtlMs' | 'maxEntryBytes' | 'writeThroughL2'>

/** What {@link L2Tier} shares with its `TieredCache`. */
export interface L2TierContext {
  readonly guard: L2Guard
  /** The invalidations owed to this Redis: while there are some, L2 is not read. */
  readonly outbox: InvalidationOutbox
  readonly stampede: Stampede | undefined
  readonly counters: StatsCounters
  readonly emitter: Emitter | undefined
}

/** What to store of a loaded value (see {@link L2Tier.store}). */
export interface L2Store {
  readonly life: Lifetime
  readonly tags: readonly string[]
  readonly guards: readonly string[]
  /** Tags derived from the value: their versions are read when storing. */
  readonly late: readonly string[]
  /** The versions read before loading, or `'now'` for a value known to be current. */
  readonly captured: L2Capture | 'now'
  /**
   * The caller derives `late` from the value (`lateTags`), so its guards stand for them alone: L2
   * checks them only for a late tag whose version is not ordered. Otherwise every guard is checked.
   */
  readonly derived?: boolean
  /** When the value was loaded (see {@link L2Tier.now}); defaults to when it is sent. */
  readonly at?: number
}

/** A value made ready for L2 by {@link L2Tier.prepare}: its payload, or the store's result already. */
export type Prepared =
  | { readonly payload: string; readonly bytes: number; readonly result?: undefined }
  | {
      readonly payload?: undefined
      readonly result: { readonly stored: boolean; readonly bytes: number | undefined } | undefined
    }

/**
 * The L2 as the read flow uses it: used only while it is owed no invalidation and the guard lets
 * it (an L2 that missed an invalidation could answer with what it dropped); its failures go to the
 * guard; each entry kept for min(its life, `l2Ttl`).
 */
export class L2Tier {
  readonly #l2: RedisCache
  readonly #guard: L2Guard
  readonly #outbox: InvalidationOutbox
  readonly #options: L2TierOptions
  readonly #context: L2TierContext

  constructor(l2: RedisCache, options: L2TierOptions, context: L2TierContext) {
    this.#l2 = l2
    this.#guard = context.guard
    this.#outbox = context.outbox
    this.#options = options
    this.#context = context
  }

  /** L2's clock: what a store sent later passes as `at`. */
  now(): number {
    return this.#l2.now()
  }

  /** Whether L2 may be used now: breaker closed, and no invalidation still owed to it (sent first). */
  async reachable(): Promise<boolean> {
    if (this.#outbox.pending > 0) await this.#outbox.replay()
    if (this.#outbox.pending > 0) {
      if (this.#guard.required) throw this.#guard.unavailable('read', 'invalidations pending')
      return false
    }
    return this.#guard.allows()
  }

  /**
   * `key` with the current versions of `capture` (on a miss or a stale hit); `undefined` when L2 is
   * skipped or failed open. With a `lockToken`, a miss also tries to take the stampede lock;
   * `'peek'` when no load follows (nothing captured).
   */
  async read<T>(
    key: string,
    capture: readonly string[],
    meta: Meta,
    lockToken?: string | 'peek',
  ): Promise<L2Read<T> | undefined> {
    if (!(await this.reachable())) return undefined
    let read: L2Read<T>
    try {
      const lock =
        lockToken === undefined || lockToken === 'peek' ? undefined : this.#context.stampede!.lockOption(lockToken)
      read = await this.#l2.get<T>(key, capture, lockToken === 'peek' ? { peek: true } : lock && { lock })
      this.#guard.succeeded()
    } catch (error) {
      this.#guard.failed(error)
      return undefined
    }
    if (read.hit) this.hit(key, meta)
    else this.#context.counters.l2Misses++
    return read
  }

  /** Counts and reports an L2 hit (one found by a stampede waiter too). */
  hit(key: string, meta: Meta): void {
    this.#context.counters.l2Hits++
    this.#context.emitter?.emit('hit', { key, tier: 'l2', model: meta?.model, operation: meta?.operation })
  }

  /** The current versions of `tags` in the group of `key`, read before a load; `undefined` when L2 is not used. */
  async capture(tags: readonly string[], key: string): Promise<L2Capture | undefined> {
    if (!(await this.reachable())) return undefined
    try {
      const versions = await this.#l2.capture(tags, key)
      this.#guard.succeeded()
      return versions
    } catch (error) {
      this.#guard.failed(error)
      return undefined
    }
  }

  /** A value kept for grace (tag versions validated as on every read), or `undefined`. */
  async graceHit<T>(key: string): Promise<{ readonly value: T } | undefined> {
    if (this.#outbox.pending > 0 || !this.#guard.allows()) return undefined
    try {
      const read = await this.#l2.get<T>(key, [], { grace: true, peek: true })
      this.#guard.succeeded()
      if (read.hit) return read
    } catch (error) {
      this.#guard.failed(error, false)
    }
    return undefined
  }

  /**
   * Stores a loaded value unless a captured version moved meanwhile. Returns `undefined` when the
   * value must go nowhere (too large, or a tag moved: it may predate a write); otherwise whether L2
   * stored it and its serialized size in bytes. A value the L2 format cannot carry exactly is not
   * an error: it is left to L1, with a `set:skipped` event.
   */
  async store(
    key: string,
    value: unknown,
    entry: L2Store,
  ): Promise<{ readonly stored: boolean; readonly bytes: number | undefined } | undefined> {
    const prepared = this.prepare(key, value)
    return prepared.payload === undefined ? prepared.result : this.send(key, prepared, entry)
  }

  /**
   * The synchronous half of {@link store}: the value serialized now (so what L2 gets is what was
   * loaded, whatever the caller does to it next), or the result when it goes no further.
   */
  prepare(key: string, value: unknown): Prepared {
    if (!this.#options.writeThroughL2) return { result: { stored: false, bytes: undefined } }
    let payload: string
    try {
      const inexact = this.#l2.inexact(value)
      if (inexact !== undefined) return { result: this.#skipped(key, 'unserializable', inexact) }
      payload = this.#l2.serialize(value)
    } catch (error) {
      // A serializer that refuses what its check let through (or that has no check).
      const detail = error instanceof Error ? error.message : String(error)
      return { result: this.#skipped(key, 'unserializable', detail) }
    }
    const bytes = Buffer.byteLength(payload)
    if (bytes > this.#options.maxEntryBytes) {
      this.#skipped(key, 'too-large', `${bytes} bytes > maxEntryBytes ${this.#options.maxEntryBytes}`)
      return { result: undefined }
    }
    return { payload, bytes }
  }

  /** The asynchronous half of {@link store}: one round trip, refused when a captured version moved. */
  async send(
    key: string,
    prepared: Extract<Prepared, { payload: string }>,
    entry: L2Store,
  ): Promise<{ readonly stored: boolean; readonly bytes: number } | undefined> {
    const { payload, bytes } = prepared
    const { captured, tags, guards, late } = entry
    const pick = (names: readonly string[]) =>
      captured === 'now' ? undefined : new Map(names.map((tag) => [tag, captured.versions.get(tag) ?? ''] as const))
    try {
      const ok = await this.#l2.set(key, undefined, {
        ...inSeconds(capL2Lifetime(entry.life, this.#options.l2TtlMs)),
        captured: pick(tags),
        guards: pick(guards),
        epoch: captured === 'now' ? undefined : captured.epoch,
        fence: captured === 'now' ? undefined : captured.fence,
        seq: captured !== 'now' && entry.derived === true ? captured.seq : undefined,
        tags: captured === 'now' ? [...tags, ...late] : late,
        payload,
        ...(entry.at !== undefined && { at: entry.at }),
      })
      this.#guard.succeeded()
      if (!ok) return undefined
      this.#context.emitter?.emit('set', { key, tier: 'l2' })
      return { stored: true, bytes }
    } catch (error) {
      this.#guard.failed(error)
      return { stored: false, bytes }
    }
  }

  #skipped(key: string, reason: 'unserializable' | 'too-large', detail: string) {
    this.#context.emitter?.emit('set:skipped', { key, tier: 'l2', reason, detail })
    return { stored: false, bytes: undefined }
  }
}
