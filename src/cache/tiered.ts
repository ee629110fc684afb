import { cloneValue } from '../clone.ts'
import { CacheMissError, CacheOptionError, L1Error, L2UnavailableError } from '../errors.ts'
import { type CacheEventSink, createEmitter, type Emitter } from '../events.ts'
import { StatsCounters } from '../stats.ts'
import { CircuitBreaker } from './breaker.ts'
import { Bus } from './bus.ts'
import { KeyPattern } from './keys.ts'
import { estimateBytes, MemoryCache, type MemoryHit } from './memory.ts'
import { assertKey, assertTags, type L2Read, RedisCache } from './redis.ts'
import type { CacheStats, GetOrSetOptions } from './types.ts'

/** Options of {@link TieredCache}. Durations in seconds. */
export interface TieredCacheOptions {
  /**
   * The in-process tier, or `false` for none.
   * @default a new MemoryCache with this cache's clock
   */
  readonly l1?: MemoryCache | false
  /**
   * The shared tier, or `false`/absent for none. The cache does not own it beyond `close()`, which
   * ends only the connection the RedisCache opened itself. One RedisCache per TieredCache: its
   * instance id is how the bus recognises this instance's own messages.
   * @default false
   */
  readonly l2?: RedisCache | false
  /**
   * Store values in L1: loaded ones, and those read from L2 (an L2 hit fills L1).
   * @default true
   */
  readonly writeThroughL1?: boolean
  /**
   * Store loaded and `set` values in L2.
   * @default true
   */
  readonly writeThroughL2?: boolean
  /**
   * Most seconds an entry stays fresh in L1: L1 TTL = min(entry ttl, l1Ttl). Bounds how long an
   * instance that missed a bus message can serve an old value.
   * @default 60
   */
  readonly l1Ttl?: number
  /**
   * TTL of an entry when the call gives none (L1-only caches use `l1Ttl`).
   * @default 300
   */
  readonly l2Ttl?: number
  /**
   * A failing L1 fails the call, instead of being skipped and counted.
   * @default false
   */
  readonly l1Required?: boolean
  /**
   * A failing L2 fails the call, instead of being skipped and counted (the circuit breaker is then off).
   * @default false
   */
  readonly l2Required?: boolean
  /**
   * Subscribe to other instances' invalidations (needs `l2`). Without it an instance may serve a
   * value another instance invalidated for up to `l1Ttl`.
   * @default true when there is an l2
   */
  readonly bus?: boolean
  /** Receives the events of events.ts; nothing is built for events when absent. */
  readonly events?: CacheEventSink
  /**
   * The clock, in milliseconds.
   * @default Date.now
   */
  readonly now?: () => number
  /**
   * A value larger than this (serialized length, or an estimate without L2) is returned, not cached.
   * @default 1_048_576
   */
  readonly maxEntryBytes?: number
  /**
   * After `threshold` consecutive L2 failures, L2 is skipped for `coolDownMs`.
   * @default { threshold: 5, coolDownMs: 1000 }
   */
  readonly breaker?: { readonly threshold?: number; readonly coolDownMs?: number }
}

/** Options of {@link TieredCache.set}. Durations in seconds. */
export interface TieredSetOptions {
  readonly ttl?: number
  readonly swr?: number
  readonly tags?: readonly string[]
}

type Loader<T> = () => Promise<T> | T
type Meta = GetOrSetOptions['meta']
type Invalidation =
  | { readonly kind: 'tags'; readonly tags: readonly string[]; readonly keys: readonly string[] }
  | { readonly kind: 'pattern'; readonly pattern: KeyPattern }
  | { readonly kind: 'clear' }
interface Fetched<T> {
  readonly value: T
  /** Served from L2 inside its stale window: the caller starts a refresh. */
  readonly stale: boolean
}

/** Past this many pending invalidations, they are replaced by one `clear` (conservative, bounded). */
const MAX_PENDING = 1000

/**
 * L1 over L2 over a loader, with single-flight loads, stale-while-revalidate, tag invalidation on
 * both tiers and every instance, and failure isolation (an optional tier that fails is skipped,
 * counted and reported; invalidations that L2 missed are replayed, in order, when it answers again).
 *
 * No stale set: a load captures the L1 version clock and the L2 tag versions before it runs; if an
 * invalidation lands meanwhile the value is returned but stored in neither tier.
 */
export class TieredCache {
  readonly #l1: MemoryCache | undefined
  readonly #l2: RedisCache | undefined
  readonly #bus: Bus | undefined
  readonly #writeThroughL1: boolean
  readonly #writeThroughL2: boolean
  readonly #l1TtlMs: number
  readonly #defaultTtl: number
  readonly #l1Required: boolean
  readonly #l2Required: boolean
  readonly #maxEntryBytes: number
  readonly #now: () => number
  readonly #emitter: Emitter | undefined
  readonly #counters = new StatsCounters()
  readonly #breaker: CircuitBreaker
  readonly #inflight = new Map<string, Promise<Fetched<unknown>>>()
  #queue: Invalidation[] = []
  #replaying: Promise<void> | undefined
  #lastL2Error: unknown
  readonly #stopReplayOnReady: (() => void) | undefined
  #closed = false

  constructor(options: TieredCacheOptions = {}) {
    const { writeThroughL1 = true, writeThroughL2 = true, l1Ttl = 60, l2Ttl = 300 } = options
    const { l1Required = false, l2Required = false, now = Date.now, maxEntryBytes = 1_048_576 } = options
    if (typeof now !== 'function') throw new CacheOptionError('now', 'must be a function returning milliseconds')
    // A tier's TTL is only checked when the tier exists (callers pass 0 for a disabled one).
    if (options.l1 !== false) positive('l1Ttl', l1Ttl)
    if (options.l2) positive('l2Ttl', l2Ttl)
    positive('maxEntryBytes', maxEntryBytes)
    if (options.l1 !== undefined && options.l1 !== false && !(options.l1 instanceof MemoryCache))
      throw new CacheOptionError('l1', 'must be a MemoryCache or false')
    if (options.l2 !== undefined && options.l2 !== false && !(options.l2 instanceof RedisCache))
      throw new CacheOptionError('l2', 'must be a RedisCache or false')
    this.#now = now
    this.#l1 = options.l1 === false ? undefined : (options.l1 ?? new MemoryCache({ ttl: l1Ttl, now }))
    this.#l2 = options.l2 || undefined
    this.#writeThroughL1 = writeThroughL1
    this.#writeThroughL2 = writeThroughL2
    this.#l1TtlMs = l1Ttl * 1000
    this.#defaultTtl = this.#l2 ? l2Ttl : l1Ttl
    this.#l1Required = l1Required
    this.#l2Required = l2Required
    this.#maxEntryBytes = maxEntryBytes
    this.#emitter = createEmitter(options.events)
    this.#breaker = new CircuitBreaker({
      threshold: options.breaker?.threshold ?? 5,
      coolDownMs: options.breaker?.coolDownMs ?? 1000,
      now,
      onOpen: (failures, until) => this.#emitter?.emit('breaker:open', { failures, until }),
      onClose: () => this.#emitter?.emit('breaker:close', {}),
    })
    if (this.#l2) {
      if (this.#l1 && options.bus !== false) this.#bus = new Bus({ l2: this.#l2, l1: this.#l1, emitter: this.#emitter })
      // Redis is back: try the queue even if the breaker is open (the first call is the probe).
      this.#stopReplayOnReady = this.#l2.onReady(() => void this.#replay(true))
    }
  }

  /** Whether L1 is read and written now: not while the bus is down but Redis is up (messages may be missed). */
  get l1Trusted(): boolean {
    return this.#l1Usable()
  }

  /** Invalidations that L2 has not received yet. */
  get pendingInvalidations(): number {
    return this.#queue.length
  }

  /** Resolves once L2 is connected and the bus is subscribed (at once without them). */
  async ready(): Promise<void> {
    await this.#l2?.ready()
    await this.#bus?.ready()
  }

  /** A fresh cached value (a copy), or `undefined`. Does not load. */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    assertKey(key)
    const hit = this.#readL1<T>(key, undefined)
    if (hit?.fresh) return hit.value
    const seq = this.#l1?.capture()
    const read = await this.#readL2<T>(key, [], undefined)
    if (read?.hit && read.fresh) {
      this.#fillL1(key, read, seq)
      return read.value
    }
    this.#miss(key, undefined)
    return undefined
  }

  /** Stores a value known to be current in both tiers (tag versions are read when storing). */
  async set(key: string, value: unknown, options: TieredSetOptions = {}): Promise<void> {
    assertKey(key)
    checkCallOptions(options)
    const seq = this.#l1?.capture()
    // Skipped while L2 is owed invalidations or the breaker is open: L1 only, as for a load.
    await this.#store(key, value, options, seq, (await this.#l2Reachable()) ? 'now' : undefined)
  }

  /** Removes one key from both tiers on every instance. */
  delete(key: string): Promise<void> {
    return this.invalidateKeys([key])
  }

  /**
   * Drops every entry carrying one of these tags, in both tiers and on every instance. L1 is done
   * before this returns its promise, so this instance never serves the old value after the call.
   */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    assertTags(tags)
    if (tags.length === 0) return
    this.#counters.invalidations++
    this.#l1Invalidate(() => this.#l1?.invalidateTags(tags))
    this.#emitter?.emit('invalidate', { tags })
    await this.#sendL2({ kind: 'tags', tags: [...tags], keys: [] })
  }

  /** Removes these keys from both tiers on every instance. */
  async invalidateKeys(keys: readonly string[]): Promise<void> {
    for (const key of keys) assertKey(key)
    if (keys.length === 0) return
    this.#counters.deletes += keys.length
    this.#l1Invalidate(() => this.#l1?.delete(keys))
    this.#emitter?.emit('invalidate', { tags: [], keys })
    await this.#sendL2({ kind: 'tags', tags: [], keys: [...keys] })
  }

  /** Removes the keys matching a pattern (a glob over keys, or a KeyPattern) from both tiers on every instance. */
  async invalidatePattern(pattern: KeyPattern | string): Promise<void> {
    const matcher = typeof pattern === 'string' ? new KeyPattern(pattern) : pattern
    this.#counters.invalidations++
    this.#l1Invalidate(() => this.#l1?.invalidatePattern(matcher))
    await this.#sendL2({ kind: 'pattern', pattern: matcher })
  }

  /** Empties both tiers (only keys under the L2 prefix) on every instance. */
  async clear(): Promise<void> {
    this.#counters.invalidations++
    this.#l1Invalidate(() => this.#l1?.clear())
    await this.#sendL2({ kind: 'clear' })
  }

  /**
   * The cached value for `key`, or the loader's, stored in both tiers. Concurrent calls for one key
   * share one load; each caller gets its own copy; a rejection is never cached.
   */
  async getOrSet<T>(key: string, loader: Loader<T>, options: GetOrSetOptions<T> = {}): Promise<T> {
    assertKey(key)
    const policy = options.policy ?? 'cache-first'
    if (policy === 'cache-first') {
      // The hit path checks nothing it does not use; the options are checked before a load.
      const hit = this.#readL1<T>(key, options.meta, true)
      if (hit !== undefined) {
        if (!hit.fresh) this.#refresh(key, loader, options)
        return hit.value
      }
    }
    checkCallOptions(options)
    switch (policy) {
      case 'network-only':
        return this.#loadAndStore(key, loader, options)
      case 'network-first':
        try {
          return await this.#loadAndStore(key, loader, options)
        } catch (error) {
          const cached = await this.#readAny<T>(key, options.meta)
          if (cached !== undefined) return cached.value
          throw error
        }
      case 'cache-only': {
        const cached = await this.#readAny<T>(key, options.meta)
        if (cached === undefined) {
          this.#miss(key, options.meta)
          throw new CacheMissError(key)
        }
        return cached.value
      }
      default:
        return this.#coalesced(key, loader, options)
    }
  }

  /**
   * A fresh L1 hit for `key`, synchronously, or `undefined` with nothing counted (the caller then
   * goes through `getOrSet`, which counts the miss). The hot path of a read whose tags and options
   * are only worth building on a miss; `key` must be one `getOrSet` would accept.
   */
  peek<T>(key: string, meta?: Meta): MemoryHit<T> | undefined {
    if (!this.#l1Usable()) return undefined
    let hit: MemoryHit<T> | undefined
    try {
      hit = this.#l1!.get<T>(key)
    } catch {
      return undefined
    }
    if (hit === undefined || !hit.fresh) return undefined
    this.#counters.l1Hits++
    this.#emitter?.emit('hit', { key, tier: 'l1', model: meta?.model, operation: meta?.operation })
    return hit
  }

  stats(): CacheStats {
    return this.#counters.snapshot({ entries: this.#l1?.size ?? 0, bytes: this.#l1?.bytes ?? 0 })
  }

  resetStats(): void {
    this.#counters.reset()
  }

  /** Ends the bus subscriber and the L2 connection if the RedisCache opened it. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#stopReplayOnReady?.()
    await this.#bus?.close()
    await this.#l2?.close()
  }

  async #coalesced<T>(key: string, loader: Loader<T>, options: GetOrSetOptions<T>): Promise<T> {
    const pending = this.#inflight.get(key) as Promise<Fetched<T>> | undefined
    if (pending !== undefined) return cloneValue((await pending).value)
    const flight = this.#fetch(key, loader, options, false)
    this.#inflight.set(key, flight)
    let result: Fetched<T>
    try {
      result = await flight
    } finally {
      if (this.#inflight.get(key) === flight) this.#inflight.delete(key)
    }
    if (result.stale) this.#refresh(key, loader, options)
    return result.value
  }

  /** Starts one background refresh of `key` unless a load of it is already running. */
  #refresh<T>(key: string, loader: Loader<T>, options: GetOrSetOptions<T>): void {
    if (this.#inflight.has(key)) return
    const flight = this.#fetch(key, loader, options, true)
    this.#inflight.set(key, flight)
    // The stale value was served; a failed refresh leaves it until its window ends and is retried.
    flight
      .catch(() => {})
      .finally(() => {
        if (this.#inflight.get(key) === flight) this.#inflight.delete(key)
      })
  }

  /** L2 (capturing tag versions in the same round trip), else the loader; then store. */
  async #fetch<T>(key: string, loader: Loader<T>, options: GetOrSetOptions<T>, refresh: boolean): Promise<Fetched<T>> {
    const seq = this.#l1?.capture()
    const read = await this.#readL2<T>(key, captureList(options), options.meta)
    if (read?.hit && (read.fresh || !refresh)) {
      this.#fillL1(key, read, seq)
      return { value: read.value, stale: !read.fresh }
    }
    if (!refresh) this.#miss(key, options.meta)
    this.#counters.loads++
    const value = await loader()
    await this.#store(key, value, options, seq, read?.versions)
    return { value, stale: false }
  }

  /** network-first / network-only: always load, capturing versions first so the store stays safe. */
  async #loadAndStore<T>(key: string, loader: Loader<T>, options: GetOrSetOptions<T>): Promise<T> {
    const seq = this.#l1?.capture()
    let versions: ReadonlyMap<string, string> | undefined
    if (await this.#l2Reachable()) {
      try {
        versions = await this.#l2!.capture(captureList(options))
        this.#l2Succeeded()
      } catch (error) {
        this.#l2Failed(error)
      }
    }
    this.#counters.loads++
    const value = await loader()
    await this.#store(key, value, options, seq, versions)
    return value
  }

  /** Any cached value, stale or not (L1, then L2); `undefined` when none. */
  async #readAny<T>(key: string, meta: Meta): Promise<{ value: T } | undefined> {
    const hit = this.#readL1<T>(key, meta, true)
    if (hit !== undefined) return hit
    const seq = this.#l1?.capture()
    const read = await this.#readL2<T>(key, [], meta)
    if (!read?.hit) return undefined
    this.#fillL1(key, read, seq)
    return read
  }

  #readL1<T>(key: string, meta: Meta, allowStale = false): MemoryHit<T> | undefined {
    if (!this.#l1Usable()) return undefined
    let hit: MemoryHit<T> | undefined
    try {
      hit = this.#l1!.get<T>(key)
    } catch (error) {
      this.#l1Failed('read', error)
      return undefined
    }
    if (hit === undefined || (!hit.fresh && !allowStale)) {
      this.#counters.l1Misses++
      return undefined
    }
    this.#counters.l1Hits++
    this.#emitter?.emit('hit', { key, tier: 'l1', model: meta?.model, operation: meta?.operation })
    return hit
  }

  /** `undefined` when L2 is absent, skipped (breaker, pending invalidations) or failed open. */
  async #readL2<T>(key: string, capture: readonly string[], meta: Meta): Promise<L2Read<T> | undefined> {
    if (!(await this.#l2Reachable())) return undefined
    let read: L2Read<T>
    try {
      read = await this.#l2!.get<T>(key, capture)
      this.#l2Succeeded()
    } catch (error) {
      this.#l2Failed(error)
      return undefined
    }
    if (read.hit) {
      this.#counters.l2Hits++
      this.#emitter?.emit('hit', { key, tier: 'l2', model: meta?.model, operation: meta?.operation })
    } else this.#counters.l2Misses++
    return read
  }

  /** Whether L2 may be used now: present, breaker closed, and no invalidation still owed to it. */
  async #l2Reachable(): Promise<boolean> {
    if (this.#l2 === undefined) return false
    if (this.#queue.length > 0) await this.#replay()
    if (this.#queue.length > 0) {
      if (this.#l2Required) throw this.#lastL2Error ?? new L2UnavailableError('read', 'invalidations pending')
      return false
    }
    return this.#l2Required || this.#breaker.allows()
  }

  /** An L2 hit fills L1 for min(remaining L2 life, l1Ttl), unless an invalidation landed since `seq`. */
  #fillL1(key: string, read: Extract<L2Read<unknown>, { hit: true }>, seq: number | undefined): void {
    if (!this.#writeThroughL1 || !this.#l1Usable()) return
    this.#setL1(key, read.value, read.freshUntil, read.staleUntil, {
      tags: read.tags,
      capturedSeq: seq,
      bytes: read.bytes,
    })
  }

  /**
   * Stores a loaded value. `captured`: the tag versions read before loading; `'now'` for a value
   * known to be current (versions read when storing); `undefined` when L2 could not be read before
   * loading, so L2 is not written (nothing proves the value is not stale there) but L1 is.
   */
  async #store<T>(
    key: string,
    value: T,
    options: GetOrSetOptions<T>,
    seq: number | undefined,
    captured: ReadonlyMap<string, string> | 'now' | undefined,
  ): Promise<void> {
    const ttl = options.ttl ?? this.#defaultTtl
    const swr = options.swr ?? 0
    const tags = options.tags ?? []
    const guards = options.guards ?? []
    const late = options.lateTags?.(value) ?? []
    assertTags(late)
    let payload: string | undefined
    if (this.#l2 !== undefined && this.#writeThroughL2 && captured !== undefined) {
      try {
        payload = this.#l2.serialize(value)
      } catch (error) {
        // Not a Redis failure: the breaker stays as it is, but the error is counted and reported.
        this.#counters.l2Errors++
        this.#emitter?.emit('error', { tier: 'l2', error })
        if (this.#l2Required) throw error
      }
      if (payload !== undefined && payload.length > this.#maxEntryBytes) return
    }
    let stored = false
    if (payload !== undefined) {
      const pick = (names: readonly string[]) =>
        captured === 'now' ? undefined : new Map(names.map((tag) => [tag, captured!.get(tag) ?? ''] as const))
      try {
        const ok = await this.#l2!.set(key, value, {
          ttl,
          swr,
          captured: pick(tags),
          guards: pick(guards),
          tags: captured === 'now' ? [...tags, ...late] : late,
          payload,
        })
        this.#l2Succeeded()
        // A tag moved while loading: the value may predate a write, so it goes nowhere.
        if (!ok) return
        stored = true
        this.#emitter?.emit('set', { key, tier: 'l2' })
      } catch (error) {
        this.#l2Failed(error)
      }
    }
    if (this.#writeThroughL1 && this.#l1Usable()) {
      const freshUntil = this.#now() + ttl * 1000
      const l1Stored = this.#setL1(key, value, freshUntil, freshUntil + swr * 1000, {
        tags: late.length > 0 ? [...tags, ...late] : tags,
        guards,
        capturedSeq: seq,
        bytes: payload?.length,
      })
      if (l1Stored) this.#emitter?.emit('set', { key, tier: 'l1' })
      stored ||= l1Stored
    }
    if (stored) this.#counters.sets++
  }

  /** L1 TTL = min(value's remaining fresh life, l1Ttl); the stale window only when L1 did not cut it short. */
  #setL1(
    key: string,
    value: unknown,
    freshUntil: number,
    staleUntil: number,
    options: {
      tags: readonly string[]
      guards?: readonly string[]
      capturedSeq: number | undefined
      bytes: number | undefined
    },
  ): boolean {
    const now = this.#now()
    const l1FreshUntil = Math.min(freshUntil, now + this.#l1TtlMs)
    const l1StaleUntil = l1FreshUntil < freshUntil ? l1FreshUntil : staleUntil
    if (l1FreshUntil <= now) return false
    try {
      const bytes = options.bytes ?? estimateBytes(value)
      if (bytes > this.#maxEntryBytes) return false
      return this.#l1!.set(key, value, {
        ...options,
        bytes,
        ttl: (l1FreshUntil - now) / 1000,
        swr: (l1StaleUntil - l1FreshUntil) / 1000,
      })
    } catch (error) {
      this.#l1Failed('write', error)
      return false
    }
  }

  #l1Usable(): boolean {
    return this.#l1 !== undefined && (this.#bus === undefined || this.#bus.trusted || !this.#l2!.available)
  }

  /** L1 invalidation is applied whether or not L1 is trusted: it must never keep what was invalidated. */
  #l1Invalidate(run: () => unknown): void {
    try {
      run()
    } catch (error) {
      this.#l1Failed('invalidate', error)
    }
  }

  /** Queues the invalidation and sends the queue in order; throws only for a required L2. */
  async #sendL2(invalidation: Invalidation): Promise<void> {
    if (this.#l2 === undefined) return
    this.#queue.push(invalidation)
    if (this.#queue.length > MAX_PENDING) this.#queue = [{ kind: 'clear' }]
    await this.#replay()
    if (this.#l2Required && this.#queue.length > 0)
      throw this.#lastL2Error ?? new L2UnavailableError('invalidate', this.#l2.status)
  }

  async #replay(probe = false): Promise<void> {
    while (this.#replaying) await this.#replaying
    if (this.#queue.length === 0 || this.#l2 === undefined) return
    this.#replaying = this.#drain(probe).finally(() => {
      this.#replaying = undefined
    })
    await this.#replaying
  }

  async #drain(probe: boolean): Promise<void> {
    const l2 = this.#l2!
    while (this.#queue.length > 0) {
      if (!probe && !this.#l2Required && !this.#breaker.allows()) return
      const next = this.#queue[0]!
      try {
        if (next.kind === 'tags') await l2.invalidate(next.tags, next.keys)
        else if (next.kind === 'pattern') await l2.invalidatePattern(next.pattern)
        else await l2.clear()
      } catch (error) {
        this.#l2Failed(error, false)
        return
      }
      this.#l2Succeeded()
      if (this.#queue[0] === next) this.#queue.shift()
    }
  }

  #miss(key: string, meta: Meta): void {
    this.#counters.misses++
    this.#emitter?.emit('miss', { key, model: meta?.model, operation: meta?.operation })
  }

  #l1Failed(operation: string, error: unknown): void {
    this.#counters.l1Errors++
    const wrapped = error instanceof L1Error ? error : new L1Error(operation, error)
    this.#emitter?.emit('error', { tier: 'l1', error: wrapped })
    if (this.#l1Required) throw wrapped
  }

  #l2Succeeded(): void {
    this.#breaker.success()
  }

  #l2Failed(error: unknown, rethrow = true): void {
    this.#counters.l2Errors++
    this.#lastL2Error = error
    this.#breaker.failure()
    this.#emitter?.emit('error', { tier: 'l2', error })
    if (rethrow && this.#l2Required) throw error
  }
}

function captureList(options: GetOrSetOptions<never>): readonly string[] {
  const { tags = [], guards = [] } = options
  if (guards.length === 0) return tags
  return [...new Set([...tags, ...guards])]
}

function positive(name: string, value: number): void {
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0))
    throw new CacheOptionError(name, `must be a positive number, got ${String(value)}`)
}

function checkCallOptions(options: GetOrSetOptions<never>): void {
  // ttl 0 is allowed: the value is returned and not cached (unless swr keeps it as stale).
  nonNegative('ttl', options.ttl)
  nonNegative('swr', options.swr)
  if (options.tags) assertTags(options.tags)
  if (options.guards) assertTags(options.guards)
}

function nonNegative(name: string, value: number | undefined): void {
  if (value !== undefined && !(typeof value === 'number' && Number.isFinite(value) && value >= 0))
    throw new CacheOptionError(name, `must be a number >= 0, got ${String(value)}`)
}
