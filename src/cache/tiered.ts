import { cloneValue } from '../core/clone.ts'
import { CacheMissError, CacheOptionError, L1Error, L2UnavailableError } from '../core/errors.ts'
import { type CacheEventSink, createEmitter, type Emitter } from '../core/events.ts'
import { StatsCounters } from '../core/stats.ts'
import { CircuitBreaker } from './breaker.ts'
import { Bus } from './bus.ts'
import { KeyPattern } from './keys.ts'
import { StampedeLock, type StampedeLockOptions } from './lock.ts'
import { estimateBytes, MemoryCache, type MemoryHit } from './memory.ts'
import { assertKey, assertTags, type L2Capture, type L2Read, RedisCache } from './redis.ts'
import type { CacheStats, GetOrSetOptions, Tier } from './types.ts'

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
   * How this instance learns of other instances' invalidations and tells them of its own.
   * - `true`: subscribe on the `l2` connection's channel (needs an `l2`).
   * - `false`: do not subscribe: an instance may then serve a value another instance invalidated
   *   for up to `l1Ttl`.
   * - a `RedisCache`, with `l2: false`: Redis only carries invalidations. No entry is read from or
   *   stored in it; invalidations go through it (queued and replayed like an L2's) and other
   *   instances' arrive on its channel.
   * @default true when there is an l2
   */
  readonly bus?: boolean | RedisCache
  /**
   * A distributed stampede lock over L2 (needs an `l2`): on an L2 miss, one instance loads while
   * the others wait up to `waitMs` for its value (see lock.ts). `true` takes the defaults.
   * Within one process concurrent misses share one load with or without it.
   * @default false
   */
  readonly lock?: boolean | StampedeLockOptions
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
  /** Seconds the entry is kept after `ttl + swr`, as a fallback when a loader fails. @default 0 */
  readonly grace?: number
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
/** A load in progress that later callers for its key may share. */
interface Flight {
  readonly promise: Promise<Fetched<unknown>>
  /** Tags and guards captured before it loaded: an invalidation of one of them detaches it. */
  readonly depends: readonly string[]
}

/** Past this many pending invalidations, they are replaced by one `clear` (conservative, bounded). */
const MAX_PENDING = 1000
/** Most invalidations sent in one round trip. */
const MAX_BATCH = 64
/** Bounds of the delay before an unsent invalidation is retried without a caller (ms). */
const RETRY_MIN_MS = 50
const RETRY_MAX_MS = 2_000

/**
 * L1 over L2 over a loader, with single-flight loads, stale-while-revalidate, tag invalidation on
 * both tiers and every instance, and failure isolation (an optional tier that fails is skipped,
 * counted and reported; invalidations that L2 missed are replayed, in order, when it answers again).
 *
 * No stale set: a load captures the L1 version clock and the L2 tag versions before it runs; if an
 * invalidation lands meanwhile the value is returned but stored in neither tier, and callers that
 * arrive after the invalidation do not share that load.
 *
 * Bad days: with `lock`, one instance loads a missing key while the others wait for its value in
 * L2; with a call's `grace`, a value kept past its stale window answers when the loader fails;
 * invalidations that Redis missed are retried by themselves until it answers.
 */
export class TieredCache {
  readonly #l1: MemoryCache | undefined
  /** Where entries are read and stored; absent with `l2: false`. */
  readonly #l2: RedisCache | undefined
  /** Where invalidations go and the bus subscribes: the `l2`, or the `bus` RedisCache. */
  readonly #redis: RedisCache | undefined
  readonly #bus: Bus | undefined
  readonly #lock: StampedeLock | undefined
  readonly #releases = new Set<Promise<void>>()
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
  /**
   * Loads that a caller arriving now may share. An invalidation removes the loads it concerns
   * (they may have read the database before the write): their callers keep their answer, which a
   * read that started before the write may give, but a read that starts after it loads afresh.
   */
  readonly #inflight = new Map<string, Flight>()
  #queue: Invalidation[] = []
  /** Set when an invalidation failed; the replay that empties the queue reports how many it sent. */
  #replayOwed = false
  #replayed = 0
  #replaying: Promise<void> | undefined
  /**
   * Retries the queue by itself: a Redis that timed out comes back without a 'ready' event, and an
   * instance answering from L1 may not touch L2 again for a long time.
   */
  #retryTimer: NodeJS.Timeout | undefined
  #retryDelayMs = RETRY_MIN_MS
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
    if (options.bus !== undefined && typeof options.bus !== 'boolean' && !(options.bus instanceof RedisCache))
      throw new CacheOptionError('bus', 'must be a boolean or a RedisCache')
    if (options.bus instanceof RedisCache && options.l2)
      throw new CacheOptionError('bus', 'a RedisCache is for l2: false; with an l2 the bus uses its connection')
    if (options.lock && !options.l2)
      throw new CacheOptionError('lock', "needs an l2: waiters read the holder's value there")
    this.#now = now
    this.#l1 = options.l1 === false ? undefined : (options.l1 ?? new MemoryCache({ ttl: l1Ttl, now }))
    this.#l2 = options.l2 || undefined
    this.#redis = this.#l2 ?? (options.bus instanceof RedisCache ? options.bus : undefined)
    this.#lock = options.lock ? new StampedeLock(options.lock === true ? {} : options.lock) : undefined
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
    if (this.#redis) {
      if (this.#l1 && options.bus !== false)
        this.#bus = new Bus({
          l2: this.#redis,
          l1: this.#l1,
          emitter: this.#emitter,
          onUnlocked: (keys) => this.#lock?.notify(keys),
          onApplied: (message) =>
            this.#detach({
              ...message,
              pattern: message.pattern === undefined ? undefined : new KeyPattern(message.pattern),
            }),
        })
      // Redis is back: try the queue even if the breaker is open (the first call is the probe).
      this.#stopReplayOnReady = this.#redis.onReady(() => void this.#replay(true))
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
    await this.#redis?.ready()
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
    this.#detach({ tags })
    this.#emitter?.emit('invalidate', { tags })
    await this.#sendL2({ kind: 'tags', tags: [...tags], keys: [] })
  }

  /** Removes these keys from both tiers on every instance. */
  async invalidateKeys(keys: readonly string[]): Promise<void> {
    for (const key of keys) assertKey(key)
    if (keys.length === 0) return
    this.#counters.deletes += keys.length
    this.#l1Invalidate(() => this.#l1?.delete(keys))
    this.#detach({ keys })
    this.#emitter?.emit('invalidate', { tags: [], keys })
    await this.#sendL2({ kind: 'tags', tags: [], keys: [...keys] })
  }

  /** Removes the keys matching a pattern (a glob over keys, or a KeyPattern) from both tiers on every instance. */
  async invalidatePattern(pattern: KeyPattern | string): Promise<void> {
    const matcher = typeof pattern === 'string' ? new KeyPattern(pattern) : pattern
    this.#counters.invalidations++
    this.#l1Invalidate(() => this.#l1?.invalidatePattern(matcher))
    this.#detach({ pattern: matcher })
    await this.#sendL2({ kind: 'pattern', pattern: matcher })
  }

  /** Empties both tiers (only keys under the L2 prefix) on every instance. */
  async clear(): Promise<void> {
    this.#counters.invalidations++
    this.#l1Invalidate(() => this.#l1?.clear())
    this.#detach({ clear: true })
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
          return this.#graceOrThrow(key, options, error)
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
    clearTimeout(this.#retryTimer)
    await Promise.all(this.#releases)
    await this.#bus?.close()
    await this.#redis?.close()
  }

  async #coalesced<T>(key: string, loader: Loader<T>, options: GetOrSetOptions<T>): Promise<T> {
    const pending = this.#inflight.get(key)
    if (pending !== undefined) return cloneValue((await pending.promise).value as T)
    const flight: Flight = { promise: this.#fetch(key, loader, options, false), depends: captureList(options) }
    this.#inflight.set(key, flight)
    let result: Fetched<unknown>
    try {
      result = await flight.promise
    } finally {
      if (this.#inflight.get(key) === flight) this.#inflight.delete(key)
    }
    if (result.stale) this.#refresh(key, loader, options)
    return result.value as T
  }

  /** Starts one background refresh of `key` unless a load of it is already running. */
  #refresh<T>(key: string, loader: Loader<T>, options: GetOrSetOptions<T>): void {
    if (this.#inflight.has(key)) return
    const flight: Flight = { promise: this.#fetch(key, loader, options, true), depends: captureList(options) }
    this.#inflight.set(key, flight)
    // The stale value was served; a failed refresh leaves it until its window ends and is retried.
    flight.promise
      .catch(() => {})
      .finally(() => {
        if (this.#inflight.get(key) === flight) this.#inflight.delete(key)
      })
  }

  /** Stops later callers from sharing the loads an invalidation concerns (see `#inflight`). */
  #detach(what: { tags?: readonly string[]; keys?: readonly string[]; pattern?: KeyPattern; clear?: boolean }): void {
    if (this.#inflight.size === 0) return
    if (what.clear) {
      this.#inflight.clear()
      return
    }
    const tags = what.tags?.length ? new Set(what.tags) : undefined
    for (const [key, flight] of this.#inflight)
      if (
        what.keys?.includes(key) ||
        what.pattern?.matches(key) ||
        (tags !== undefined && flight.depends.some((tag) => tags.has(tag)))
      )
        this.#inflight.delete(key)
  }

  /**
   * L2 (capturing tag versions in the same round trip, and taking the stampede lock on a miss),
   * else the loader; then store. A loader that fails falls back to a value inside its grace window.
   */
  async #fetch<T>(key: string, loader: Loader<T>, options: GetOrSetOptions<T>, refresh: boolean): Promise<Fetched<T>> {
    const seq = this.#l1?.capture()
    const capture = captureList(options)
    // A refresh has a value to serve already: it does not make other instances wait for it.
    const token = refresh ? undefined : this.#lock?.token()
    let read = await this.#readL2<T>(key, capture, options.meta, token)
    if (read?.hit && (read.fresh || !refresh)) {
      this.#fillL1(key, read, seq)
      return { value: read.value, stale: !read.fresh }
    }
    if (read !== undefined && !read.hit && read.lock === 'busy') {
      read = await this.#awaitHolder(key, capture, options.meta, token!, read)
      if (read?.hit) {
        this.#fillL1(key, read, seq)
        return { value: read.value, stale: !read.fresh }
      }
    }
    const held = read !== undefined && !read.hit && read.lock === 'acquired' ? token : undefined
    if (held !== undefined) this.#emitter?.emit('stampede:locked', { key })
    if (!refresh) this.#miss(key, options.meta)
    this.#counters.loads++
    try {
      let value: T
      try {
        value = await loader()
      } catch (error) {
        if (refresh) throw error
        return { value: await this.#graceOrThrow(key, options, error), stale: false }
      }
      await this.#store(key, value, options, seq, read)
      return { value, stale: false }
    } finally {
      // After the store, so a waiter woken by the release finds the value.
      if (held !== undefined) this.#release(key, held)
    }
  }

  /**
   * Another instance holds the stampede lock: re-read L2 until its value is there (a validated L2
   * hit, like any other), the lock is free again (taken here: this instance loads), or `waitMs`
   * passed. Returns the last read, whose captured versions predate any load that follows;
   * `undefined` when L2 failed meanwhile (the load then stores in L1 only).
   */
  async #awaitHolder<T>(
    key: string,
    capture: readonly string[],
    meta: Meta,
    token: string,
    first: L2Read<T>,
  ): Promise<L2Read<T> | undefined> {
    const lock = this.#lock!
    this.#emitter?.emit('stampede:waiting', { key })
    let last: L2Read<T> | undefined = first
    const { result, waitedMs } = await lock.wait<L2Read<T> | 'failed'>(key, async () => {
      if (!this.#l2Required && !this.#breaker.allows()) return 'failed'
      try {
        last = await this.#l2!.get<T>(key, capture, { lock: { token, ttlMs: lock.waitMs } })
        this.#l2Succeeded()
      } catch (error) {
        last = undefined
        this.#l2Failed(error)
        return 'failed'
      }
      return last.hit || last.lock === 'acquired' ? last : undefined
    })
    const outcome =
      result === undefined ? 'timeout' : result === 'failed' ? 'failed' : result.hit ? 'filled' : 'acquired'
    this.#emitter?.emit('stampede:waited', { key, outcome, waitedMs })
    if (outcome === 'timeout' && last !== undefined && !last.hit) {
      // Load without the lock; the versions captured by the last read still guard the store.
      const { lock: _busy, ...unlocked } = last
      last = unlocked
    }
    if (last?.hit) {
      this.#counters.l2Hits++
      this.#emitter?.emit('hit', { key, tier: 'l2', model: meta?.model, operation: meta?.operation })
    }
    return last
  }

  /** Releases a held stampede lock without making the caller wait; `close()` waits for it. */
  #release(key: string, token: string): void {
    const release = this.#l2!.unlock(key, token).then(
      () => this.#l2Succeeded(),
      // The lock expires by itself within waitMs; nobody is blocked for longer.
      (error) => this.#l2Failed(error, false),
    )
    this.#releases.add(release)
    void release.finally(() => this.#releases.delete(release))
  }

  /** The loader failed: a value inside its grace window, or the loader's error. */
  async #graceOrThrow<T>(key: string, options: GetOrSetOptions<T>, error: unknown): Promise<T> {
    if (!((options.grace ?? 0) > 0)) throw error
    const kept = await this.#readGrace<T>(key)
    if (kept === undefined) throw error
    const meta = options.meta
    this.#emitter?.emit('grace', { key, tier: kept.tier, error, model: meta?.model, operation: meta?.operation })
    return kept.value
  }

  /**
   * A value kept for grace, read now (after the failure, so an invalidation that landed during
   * the load is seen). L1 only while it receives every invalidation (bus live, or no Redis at
   * all): an entry still there was not invalidated. L2 validates tag versions as on every read.
   */
  async #readGrace<T>(key: string): Promise<{ value: T; tier: Tier } | undefined> {
    if (this.#l1 !== undefined && (this.#redis === undefined || this.#bus?.trusted)) {
      try {
        const hit = this.#l1.get<T>(key, { grace: true })
        if (hit !== undefined) return { value: hit.value, tier: 'l1' }
      } catch (error) {
        this.#l1Failed('read', error)
      }
    }
    if (this.#l2 === undefined || this.#queue.length > 0 || !(this.#l2Required || this.#breaker.allows()))
      return undefined
    try {
      const read = await this.#l2.get<T>(key, [], { grace: true })
      this.#l2Succeeded()
      if (read.hit) return { value: read.value, tier: 'l2' }
    } catch (error) {
      this.#l2Failed(error, false)
    }
    return undefined
  }

  /** network-first / network-only: always load, capturing versions first so the store stays safe. */
  async #loadAndStore<T>(key: string, loader: Loader<T>, options: GetOrSetOptions<T>): Promise<T> {
    const seq = this.#l1?.capture()
    let versions: L2Capture | undefined
    if (await this.#l2Reachable()) {
      try {
        versions = await this.#l2!.capture(captureList(options), key)
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

  /**
   * `undefined` when L2 is absent, skipped (breaker, pending invalidations) or failed open. With a
   * `lockToken`, a miss also tries to take the stampede lock.
   */
  async #readL2<T>(
    key: string,
    capture: readonly string[],
    meta: Meta,
    lockToken?: string,
  ): Promise<L2Read<T> | undefined> {
    if (!(await this.#l2Reachable())) return undefined
    let read: L2Read<T>
    try {
      const lock = lockToken === undefined ? undefined : { token: lockToken, ttlMs: this.#lock!.waitMs }
      read = await this.#l2!.get<T>(key, capture, lock && { lock })
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
    this.#setL1(key, read.value, read.freshUntil, read.staleUntil, read.graceUntil, {
      tags: read.tags,
      capturedSeq: seq,
      bytes: read.bytes,
    })
  }

  /**
   * Stores a loaded value. `captured`: the tag versions (and epoch) read before loading; `'now'`
   * for a value known to be current (versions read when storing); `undefined` when L2 could not be
   * read before loading, so L2 is not written (nothing proves the value is not stale there) but L1 is.
   */
  async #store<T>(
    key: string,
    value: T,
    options: GetOrSetOptions<T>,
    seq: number | undefined,
    captured: L2Capture | 'now' | undefined,
  ): Promise<void> {
    const ttl = options.ttl ?? this.#defaultTtl
    const swr = options.swr ?? 0
    const grace = options.grace ?? 0
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
        captured === 'now' ? undefined : new Map(names.map((tag) => [tag, captured!.versions.get(tag) ?? ''] as const))
      try {
        const ok = await this.#l2!.set(key, value, {
          ttl,
          swr,
          grace,
          captured: pick(tags),
          guards: pick(guards),
          epoch: captured === 'now' ? undefined : captured!.epoch,
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
      const staleUntil = freshUntil + swr * 1000
      const l1Stored = this.#setL1(key, value, freshUntil, staleUntil, staleUntil + grace * 1000, {
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

  /**
   * L1 TTL = min(value's remaining fresh life, l1Ttl); the stale window only when L1 did not cut it
   * short; the grace window (its length) after whichever stale end L1 keeps.
   */
  #setL1(
    key: string,
    value: unknown,
    freshUntil: number,
    staleUntil: number,
    graceUntil: number,
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
        grace: Math.max(0, graceUntil - staleUntil) / 1000,
      })
    } catch (error) {
      this.#l1Failed('write', error)
      return false
    }
  }

  #l1Usable(): boolean {
    return this.#l1 !== undefined && (this.#bus === undefined || this.#bus.trusted || !this.#redis!.available)
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
    if (this.#redis === undefined) return
    this.#queue.push(invalidation)
    if (this.#queue.length > MAX_PENDING) this.#queue = [{ kind: 'clear' }]
    await this.#replay()
    if (this.#l2Required && this.#queue.length > 0)
      throw this.#lastL2Error ?? new L2UnavailableError('invalidate', this.#redis.status)
  }

  async #replay(probe = false): Promise<void> {
    while (this.#replaying) await this.#replaying
    if (this.#queue.length === 0 || this.#redis === undefined) return
    this.#replaying = this.#drain(probe).finally(() => {
      this.#replaying = undefined
    })
    await this.#replaying
  }

  async #drain(probe: boolean): Promise<void> {
    const redis = this.#redis!
    while (this.#queue.length > 0) {
      if (!probe && !this.#l2Required && !this.#breaker.allows()) return this.#retryLater()
      // Consecutive tag invalidations are one script call each: sent together on one connection
      // they run in queue order, in one round trip instead of one each. A pattern or a clear
      // (several commands) goes alone.
      const batch: Invalidation[] = []
      for (const next of this.#queue) {
        if (batch.length > 0 && (next.kind !== 'tags' || batch.length >= MAX_BATCH)) break
        batch.push(next)
        if (next.kind !== 'tags') break
      }
      const sent = await Promise.allSettled(
        batch.map((next) =>
          next.kind === 'tags'
            ? redis.invalidate(next.tags, next.keys)
            : next.kind === 'pattern'
              ? redis.invalidatePattern(next.pattern)
              : redis.clear(),
        ),
      )
      for (const [i, outcome] of sent.entries()) {
        if (outcome.status === 'rejected') {
          // The rest stays queued, in order (one that went through anyway is sent again: harmless).
          this.#replayOwed = true
          this.#l2Failed(outcome.reason, false)
          return this.#retryLater()
        }
        this.#l2Succeeded()
        if (this.#queue[0] === batch[i]) this.#queue.shift()
        if (this.#replayOwed) this.#replayed++
      }
    }
    this.#retryDelayMs = RETRY_MIN_MS
    if (this.#replayOwed) {
      this.#emitter?.emit('replay', { count: this.#replayed })
      this.#replayOwed = false
      this.#replayed = 0
    }
  }

  /** One retry of the queue after a doubling delay; unref'd, so it never keeps a process alive. */
  #retryLater(): void {
    if (this.#retryTimer !== undefined || this.#closed) return
    const delay = this.#retryDelayMs
    this.#retryDelayMs = Math.min(delay * 2, RETRY_MAX_MS)
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined
      void this.#replay(true)
    }, delay)
    this.#retryTimer.unref?.()
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
