import { L1Error } from '../../core/errors.ts'
import type { Emitter } from '../../core/events.ts'
import { estimateBytes } from '../../core/size.ts'
import type { StatsCounters } from '../../core/stats.ts'
import { capL1Lifetime, inSeconds, type Lifetime, remainingAt } from '../lifetime.ts'
import { HELD, type MemoryCache, type MemoryHit, type MemorySetOptions } from '../memory.ts'
import type { Bus } from '../redis/bus.ts'
import type { L2Read } from '../redis/operations.ts'
import type { RedisCache } from '../redis/redis-cache.ts'
import type { GetOrSetOptions } from '../types.ts'
import type { ResolvedTieredOptions } from './tiered-options.ts'

type Meta = GetOrSetOptions['meta']

/** What {@link L1Tier} takes from the options of its `TieredCache`. */
export type L1TierOptions = Pick<
  ResolvedTieredOptions,
  'l1TtlMs' | 'maxEntryBytes' | 'writeThroughL1' | 'l1Required' | 'now'
>

/** What {@link L1Tier} shares with its `TieredCache`. */
export interface L1TierContext {
  /** Where invalidations come from; with a bus, L1 is trusted only while the bus is (see `trusted`). */
  readonly redis: RedisCache | undefined
  readonly bus: Bus | undefined
  readonly counters: StatsCounters
  readonly emitter: Emitter | undefined
}

/**
 * The L1 as the read flow uses it: read and written only while trusted, each entry kept for
 * min(its life, `l1Ttl`), and its failures isolated (skipped, counted and reported, or thrown
 * when L1 is required).
 */
export class L1Tier {
  readonly #l1: MemoryCache
  readonly #redis: RedisCache | undefined
  readonly #bus: Bus | undefined
  readonly #options: L1TierOptions
  readonly #counters: StatsCounters
  readonly #emitter: Emitter | undefined

  constructor(l1: MemoryCache, options: L1TierOptions, context: L1TierContext) {
    this.#l1 = l1
    this.#redis = context.redis
    this.#bus = context.bus
    this.#options = options
    this.#counters = context.counters
    this.#emitter = context.emitter
  }

  /**
   * Whether L1 is read and written now: not while the bus is down but Redis is up, since
   * invalidations may be missed then (docs/design.md, "L1 trust").
   */
  get trusted(): boolean {
    return this.#bus === undefined || this.#bus.trusted || !this.#redis!.available
  }

  get entries(): number {
    return this.#l1.size
  }

  get bytes(): number {
    return this.#l1.bytes
  }

  /** The L1 version clock, captured before a load (see `MemoryCache.capture`). */
  capture(): number {
    return this.#l1.capture()
  }

  /** A hit (counted and reported), stale ones too with `allowStale`; `undefined` otherwise. */
  read<T>(key: string, meta: Meta, allowStale = false): MemoryHit<T> | undefined {
    if (!this.trusted) return undefined
    let hit: MemoryHit<T> | undefined
    try {
      hit = this.#l1.get<T>(key)
    } catch (error) {
      this.#failed('read', error)
      return undefined
    }
    if (hit === undefined || (!hit.fresh && !allowStale)) {
      this.#counters.l1Misses++
      return undefined
    }
    this.#hit(key, meta)
    return hit
  }

  /** A fresh hit, or `undefined` with nothing counted (see `TieredCache.peek`). */
  peek<T>(key: string, meta: Meta): MemoryHit<T> | undefined {
    if (!this.trusted) return undefined
    let hit: MemoryHit<T> | undefined
    try {
      hit = this.#l1.get<T>(key)
    } catch {
      return undefined
    }
    if (hit === undefined || !hit.fresh) return undefined
    this.#hit(key, meta)
    return hit
  }

  /**
   * A value kept for grace. Only while L1 receives every invalidation (bus live, or no Redis at
   * all): an entry still there was not invalidated.
   */
  graceHit<T>(key: string): MemoryHit<T> | undefined {
    if (!(this.#redis === undefined || this.#bus?.trusted)) return undefined
    try {
      return this.#l1.get<T>(key, { grace: true })
    } catch (error) {
      this.#failed('read', error)
      return undefined
    }
  }

  /** An L2 hit fills L1 for what is left of its L2 life (within `l1Ttl`), unless an invalidation landed since `seq`. */
  fill(key: string, read: Extract<L2Read<unknown>, { hit: true }>, seq: number | undefined): void {
    this.store(key, read.value, remainingAt(this.#options.now(), read), {
      tags: read.tags,
      capturedSeq: seq,
      bytes: read.bytes,
    })
  }

  /** Stores for min(`life`, `l1Ttl`) (see `capL1Lifetime`); false when it was not stored. */
  store(
    key: string,
    value: unknown,
    life: Lifetime,
    options: Pick<MemorySetOptions, 'tags' | 'guards' | 'capturedSeq' | 'bytes'>,
  ): boolean {
    if (!this.#options.writeThroughL1 || !this.trusted) return false
    const kept = capL1Lifetime(life, this.#options.l1TtlMs)
    if (!(kept.ttlMs > 0)) return false
    try {
      const bytes = options.bytes ?? estimateBytes(value)
      if (bytes > this.#options.maxEntryBytes) {
        this.#emitter?.emit('set:skipped', {
          key,
          tier: 'l1',
          reason: 'too-large',
          detail: `about ${bytes} bytes > maxEntryBytes ${this.#options.maxEntryBytes}`,
        })
        return false
      }
      // `bytes` (the serialized length, when known) only decides `maxEntryBytes`: L1 counts what
      // its copy holds on the heap, which is what `l1.maxBytes` bounds.
      const { tags, guards, capturedSeq } = options
      return this.#l1.set(key, value, { tags, guards, capturedSeq, ...inSeconds(kept) })
    } catch (error) {
      this.#failed('write', error)
      return false
    }
  }

  /** The value L1 holds for `key` itself (MemoryCache.held): never to be changed or handed out. */
  held(key: string): unknown {
    return this.#l1[HELD](key)
  }

  /** Applied whether or not L1 is trusted: it must never keep what was invalidated. */
  invalidate(run: (l1: MemoryCache) => unknown): void {
    try {
      run(this.#l1)
    } catch (error) {
      this.#failed('invalidate', error)
    }
  }

  #hit(key: string, meta: Meta): void {
    this.#counters.l1Hits++
    this.#emitter?.emit('hit', { key, tier: 'l1', model: meta?.model, operation: meta?.operation })
  }

  #failed(operation: string, error: unknown): void {
    this.#counters.l1Errors++
    const wrapped = error instanceof L1Error ? error : new L1Error(operation, error)
    this.#emitter?.emit('error', { tier: 'l1', error: wrapped })
    if (this.#options.l1Required) throw wrapped
  }
}
