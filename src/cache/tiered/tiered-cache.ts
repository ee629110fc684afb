import { cloneValue } from '../../core/clone.ts'
import { CacheClosedError, CacheMissError, L2UnavailableError } from '../../core/errors.ts'
import { createEmitter, type Emitter, type InvalidationCause, type Tier } from '../../core/events.ts'
import { type CacheStats, StatsCounters } from '../../core/stats.ts'
import { cacheTags as checkTags, entryKey, positive } from '../../core/validate.ts'
import { KeyPattern } from '../keys.ts'
import { type Lifetime, lifetime } from '../lifetime.ts'
import type { MemoryHit } from '../memory.ts'
import { Bus } from '../redis/bus.ts'
import type { L2Capture } from '../redis/operations.ts'
import type { RedisCache } from '../redis/redis-cache.ts'
import { storedTags } from '../stored-tag.ts'
import type { GetOrSetOptions } from '../types.ts'
import { L1Tier } from './l1-tier.ts'
import { L2Guard } from './l2-guard.ts'
import { L2Tier } from './l2-tier.ts'
import { type Invalidation, InvalidationOutbox } from './outbox.ts'
import { SingleFlight } from './single-flight.ts'
import { Stampede } from './stampede.ts'
import {
  captureList,
  checkCallOptions,
  type ResolvedTieredOptions,
  resolveTieredOptions,
  type TieredCacheOptions,
  type TieredSetOptions,
} from './tiered-options.ts'

type Loader<T> = () => Promise<T> | T
type Meta = GetOrSetOptions['meta']
interface Fetched<T> {
  readonly value: T
  /** Served from L2 inside its stale window: the caller starts a refresh. */
  readonly stale: boolean
}

/** What both tiers store of a value besides the value. */
interface StoreEntry {
  readonly life: Lifetime
  readonly tags: readonly string[]
  readonly guards: readonly string[]
  readonly late: readonly string[]
  /** Whether the caller derives late tags (`lateTags`): its guards then stand for them alone. */
  readonly derived: boolean
}

/**
 * L1 over L2 over a loader: the read flow and its four policies, with single-flight loads,
 * stale-while-revalidate, grace, tag invalidation on both tiers and every instance, and failure
 * isolation (an optional tier that fails is skipped, counted and reported; invalidations that L2
 * missed are replayed in order). Why each piece is there: docs/design.md.
 */
export class TieredCache {
  readonly #options: ResolvedTieredOptions
  readonly #l1: L1Tier | undefined
  readonly #l2: L2Tier | undefined
  /** Where invalidations go and the bus subscribes: the `l2`, or the `bus` RedisCache. */
  readonly #redis: RedisCache | undefined
  readonly #bus: Bus | undefined
  readonly #stampede: Stampede | undefined
  readonly #outbox: InvalidationOutbox | undefined
  readonly #guard: L2Guard
  readonly #emitter: Emitter | undefined
  readonly #counters = new StatsCounters()
  readonly #flights = new SingleFlight<Fetched<unknown>>()
  /** L2 stores of loaded values, running behind the reads that loaded them (see `settled`), by key. */
  readonly #behind = new Map<string, Promise<void>>()
  #closed = false

  constructor(options: TieredCacheOptions = {}) {
    const resolved = resolveTieredOptions(options)
    this.#options = resolved
    this.#redis = resolved.redis
    this.#emitter = createEmitter(resolved.events)
    this.#guard = new L2Guard({
      ...resolved.breaker,
      required: resolved.l2Required,
      now: resolved.now,
      counters: this.#counters,
      emitter: this.#emitter,
    })
    const redis = this.#redis
    const { l2, lock } = resolved
    if (lock && l2) this.#stampede = new Stampede(lock, l2, this.#guard, this.#emitter)
    if (redis !== undefined && resolved.subscribe)
      this.#bus = new Bus({
        l2: redis,
        l1: resolved.l1!,
        emitter: this.#emitter,
        onUnlocked: (keys) => this.#stampede?.notify(keys),
        onApplied: (message) =>
          this.#flights.detach({
            ...message,
            pattern: message.pattern === undefined ? undefined : new KeyPattern(message.pattern),
          }),
      })
    const counters = this.#counters
    const emitter = this.#emitter
    if (resolved.l1) this.#l1 = new L1Tier(resolved.l1, resolved, { redis, bus: this.#bus, counters, emitter })
    if (redis) this.#outbox = new InvalidationOutbox(redis, this.#guard, this.#emitter)
    const context = { outbox: this.#outbox!, guard: this.#guard, stampede: this.#stampede, counters, emitter }
    if (l2) this.#l2 = new L2Tier(l2, resolved, context)
  }

  /**
   * Whether L1 is read and written now: not while the bus is down but Redis is up, since
   * invalidations may be missed then (docs/design.md, "L1 trust").
   */
  get l1Trusted(): boolean {
    return this.#l1?.trusted ?? false
  }

  /** Whether L2 may be asked now: there is one, its breaker is closed, and it is owed no invalidation. */
  get l2Usable(): boolean {
    return this.#l2 !== undefined && this.#guard.allows() && (this.#outbox?.pending ?? 0) === 0
  }

  /** Invalidations that L2 has not received yet. */
  get pendingInvalidations(): number {
    return this.#outbox?.pending ?? 0
  }

  /**
   * Resolves once L2 is connected and the bus is subscribed (at once without them). Rejects with
   * `L2UnavailableError` when that has not happened within `timeoutMs` (Redis down, say: reads
   * work meanwhile, skipping what is not ready), and with `CacheClosedError` after `close()` (at
   * once, or when `close()` is called while it waits). It never waits longer than `timeoutMs`.
   * @param options.timeoutMs milliseconds; default 10 000
   */
  async ready(options: { readonly timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = positive('timeoutMs', options.timeoutMs, 10_000)
    if (this.#closed) throw new CacheClosedError('ready')
    const deadline = Date.now() + timeoutMs
    await this.#redis?.ready(timeoutMs)
    const left = deadline - Date.now()
    if (this.#bus !== undefined && left <= 0 && !this.#bus.trusted)
      throw new L2UnavailableError('ready (bus subscription)', 'not subscribed')
    await this.#bus?.ready(Math.max(1, left))
  }

  /** A fresh cached value (a copy), or `undefined`. Does not load. */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    entryKey('key', key)
    const hit = this.#l1?.read<T>(key, undefined)
    if (hit?.fresh) return hit.value
    const seq = this.#l1?.capture()
    const read = await this.#l2?.read<T>(key, [], undefined, 'peek')
    if (read?.hit && read.fresh) {
      this.#l1?.fill(key, read, seq)
      return read.value
    }
    this.#miss(key, undefined)
    return undefined
  }

  /** Stores a value known to be current in both tiers (tag versions are read when storing). */
  async set(key: string, value: unknown, options: TieredSetOptions = {}): Promise<void> {
    entryKey('key', key)
    const checked = checkCallOptions(options)
    const seq = this.#l1?.capture()
    // Skipped while L2 is owed invalidations or the breaker is open: L1 only, as for a load.
    await this.#store(key, value, checked, seq, (await this.#l2?.reachable()) ? 'now' : undefined)
  }

  /** Removes one key from both tiers on every instance. */
  delete(key: string): Promise<void> {
    return this.invalidateKeys([key])
  }

  /**
   * Drops every entry carrying one of these tags, in both tiers and on every instance. L1 is done
   * before this returns its promise, so this instance never serves the old value after the call.
   * `cause` (the write behind it) goes, unread, to the `'invalidate'` event and the bus message.
   */
  async invalidateTags(given: readonly string[], cause?: InvalidationCause): Promise<void> {
    const tags = storedTags(checkTags('tags', given))
    if (tags.length === 0) return
    this.#counters.invalidations++
    this.#l1?.invalidate((l1) => l1.invalidateTags(tags))
    this.#flights.detach({ tags })
    this.#emitter?.emit('invalidate', cause ? { tags: given, cause } : { tags: given })
    await this.#send({ kind: 'tags', tags: [...tags], keys: [], cause })
  }

  /** Removes these keys from both tiers on every instance. */
  async invalidateKeys(keys: readonly string[]): Promise<void> {
    for (const key of keys) entryKey('key', key)
    if (keys.length === 0) return
    this.#counters.deletes += keys.length
    this.#l1?.invalidate((l1) => l1.delete(keys))
    this.#flights.detach({ keys })
    this.#emitter?.emit('invalidate', { tags: [], keys })
    await this.#send({ kind: 'tags', tags: [], keys: [...keys] })
  }

  /** Removes the keys matching a pattern (a glob over keys, or a KeyPattern) from both tiers on every instance. */
  async invalidatePattern(pattern: KeyPattern | string): Promise<void> {
    const matcher = typeof pattern === 'string' ? new KeyPattern(pattern) : pattern
    this.#counters.invalidations++
    this.#l1?.invalidate((l1) => l1.invalidatePattern(matcher))
    this.#flights.detach({ pattern: matcher })
    await this.#send({ kind: 'pattern', pattern: matcher })
  }

  /** Empties both tiers (only keys under the L2 prefix) on every instance. */
  async clear(): Promise<void> {
    this.#counters.invalidations++
    this.#l1?.invalidate((l1) => l1.clear())
    this.#flights.detach({ clear: true })
    await this.#send({ kind: 'clear' })
  }

  /**
   * The cached value for `key`, or the loader's, stored in both tiers. Concurrent calls for one key
   * share one load; each caller gets its own copy; a rejection is never cached.
   */
  async getOrSet<T>(key: string, loader: Loader<T>, options: GetOrSetOptions<T> = {}): Promise<T> {
    entryKey('key', key)
    const policy = options.policy ?? 'cache-first'
    if (policy === 'cache-first') {
      // The hit path checks nothing it does not use; the options are checked before a load.
      const hit = this.#l1?.read<T>(key, options.meta, true)
      if (hit !== undefined) {
        if (!hit.fresh) this.#refresh(key, loader, options)
        return hit.value
      }
    }
    const call = checkCallOptions(options)
    switch (policy) {
      case 'network-only':
        return this.#loadAndStore(key, loader, call)
      case 'network-first':
        try {
          return await this.#loadAndStore(key, loader, call)
        } catch (error) {
          const cached = await this.#readAny<T>(key, call.meta)
          if (cached !== undefined) return cached.value
          return this.#graceOrThrow(key, call, error)
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
        return this.#coalesced(key, loader, call)
    }
  }

  /**
   * A fresh L1 hit for `key`, synchronously, or `undefined` with nothing counted (the caller then
   * goes through `getOrSet`, which counts the miss). The hot path of a read whose tags and options
   * are only worth building on a miss; `key` must be one `getOrSet` would accept.
   */
  peek<T>(key: string, meta?: Meta): MemoryHit<T> | undefined {
    return this.#l1?.peek<T>(key, meta)
  }

  stats(): CacheStats {
    return this.#counters.snapshot({ entries: this.#l1?.entries ?? 0, bytes: this.#l1?.bytes ?? 0 })
  }

  resetStats(): void {
    this.#counters.reset()
  }

  /**
   * Resolves once every L2 store started so far has ended. A loaded value is stored in L1 before
   * the read returns and in L2 behind it, so a miss waits for no store: await this before looking
   * at L2 or another instance for a value just loaded here. Never rejects (a failed store is an
   * `error` event) and never waits longer than the stores' command timeouts.
   */
  async settled(): Promise<void> {
    while (this.#behind.size > 0) await Promise.allSettled([...this.#behind.values()])
  }

  /**
   * Ends the bus subscriber and the L2 connection if the RedisCache opened it, after the stores
   * still running (see `settled`). Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.settled()
    this.#outbox?.close()
    await this.#stampede?.close()
    await this.#bus?.close()
    await this.#redis?.close()
  }

  async #coalesced<T>(key: string, loader: Loader<T>, options: GetOrSetOptions<T>): Promise<T> {
    const pending = this.#flights.shared(key)
    if (pending !== undefined) return cloneValue((await pending).value as T)
    const result = await this.#flights.start(key, captureList(options), this.#fetch(key, loader, options, false))
    if (result.stale) this.#refresh(key, loader, options)
    return result.value as T
  }

  /** Starts one background refresh of `key` unless a load of it is already running. */
  #refresh<T>(key: string, loader: Loader<T>, options: GetOrSetOptions<T>): void {
    if (this.#flights.has(key)) return
    let call: GetOrSetOptions<T>
    try {
      // The hit path that served the stale value checked nothing: options are checked here.
      call = checkCallOptions(options)
    } catch {
      return
    }
    // The stale value was served; a failed refresh leaves it until its window ends and is retried.
    this.#flights.start(key, captureList(call), this.#fetch(key, loader, call, true)).catch(() => {})
  }

  /**
   * L2 (capturing tag versions in the same round trip, and taking the stampede lock on a miss),
   * else the loader; then store. A loader that fails falls back to a value inside its grace window.
   */
  async #fetch<T>(key: string, loader: Loader<T>, options: GetOrSetOptions<T>, refresh: boolean): Promise<Fetched<T>> {
    const before = this.#storeOf(key)
    if (before !== undefined) await before
    const seq = this.#l1?.capture()
    const capture = captureList(options)
    // A refresh has a value to serve already: it does not make other instances wait for it.
    const token = refresh ? undefined : this.#stampede?.token()
    let read = await this.#l2?.read<T>(key, capture, options.meta, token)
    if (read?.hit && (read.fresh || !refresh)) {
      this.#l1?.fill(key, read, seq)
      return { value: read.value, stale: !read.fresh }
    }
    if (read !== undefined && !read.hit && read.lock === 'busy') {
      read = await this.#stampede!.awaitHolder(key, capture, token!, read)
      if (read?.hit) {
        this.#l2!.hit(key, options.meta)
        this.#l1?.fill(key, read, seq)
        return { value: read.value, stale: !read.fresh }
      }
    }
    const held = read !== undefined && !read.hit && read.lock === 'acquired' ? token : undefined
    if (held !== undefined) this.#emitter?.emit('stampede:locked', { key })
    if (!refresh) this.#miss(key, options.meta)
    this.#counters.loads++
    let stored: Promise<void> | undefined
    try {
      let value: T
      try {
        value = await loader()
      } catch (error) {
        if (refresh) throw error
        return { value: await this.#graceOrThrow(key, options, error), stale: false }
      }
      stored = (await this.#storeLoaded(key, value, options, seq, read)).behind
      return { value, stale: false }
    } finally {
      // After the store, so a waiter woken by the release finds the value.
      if (held !== undefined) {
        const release = () => this.#stampede!.release(key, held)
        if (stored === undefined) release()
        else void stored.then(release)
      }
    }
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
   * the load is seen), from L1 (see `L1Tier.graceHit`) or L2, which validates tag versions as on
   * every read.
   */
  async #readGrace<T>(key: string): Promise<{ value: T; tier: Tier } | undefined> {
    const hit = this.#l1?.graceHit<T>(key)
    if (hit !== undefined) return { value: hit.value, tier: 'l1' }
    const kept = await this.#l2?.graceHit<T>(key)
    return kept && { value: kept.value, tier: 'l2' }
  }

  /** network-first / network-only: always load, capturing versions first so the store stays safe. */
  async #loadAndStore<T>(key: string, loader: Loader<T>, options: GetOrSetOptions<T>): Promise<T> {
    const before = this.#storeOf(key)
    if (before !== undefined) await before
    const seq = this.#l1?.capture()
    const versions = await this.#l2?.capture(captureList(options), key)
    this.#counters.loads++
    const value = await loader()
    await this.#storeLoaded(key, value, options, seq, versions)
    return value
  }

  /** Any cached value, stale or not (L1, then L2); `undefined` when none. */
  async #readAny<T>(key: string, meta: Meta): Promise<{ value: T } | undefined> {
    const hit = this.#l1?.read<T>(key, meta, true)
    if (hit !== undefined) return hit
    const seq = this.#l1?.capture()
    const read = await this.#l2?.read<T>(key, [], meta, 'peek')
    if (!read?.hit) return undefined
    this.#l1?.fill(key, read, seq)
    return read
  }

  /**
   * Stores a value `set` was given, in L2 and then in L1. `captured`: the tag versions (and server
   * epoch) read before loading; `'now'` for a value known to be current (versions read when
   * storing); `undefined` when L2 could not be read before loading, so L2 is not written (nothing
   * proves the value is not stale there) but L1 is. Each tier keeps the entry for min(ttl, its own
   * most): see lifetime.ts.
   */
  async #store<T>(
    key: string,
    value: T,
    options: GetOrSetOptions<T>,
    seq: number | undefined,
    captured: L2Capture | 'now' | undefined,
  ): Promise<void> {
    const entry = this.#entry(value, options)
    let stored = false
    if (this.#l2 !== undefined && captured !== undefined) {
      const l2 = await this.#l2.store(key, value, { ...entry, captured })
      if (l2 === undefined) return
      stored = l2.stored
    }
    if (this.#storeL1(key, value, entry, seq) || stored) this.#counters.sets++
  }

  /**
   * Stores a loaded value in L1 now and in L2 behind the read, so a miss waits for the database
   * and not for the store (the versions captured before the load still decide it in L2). Resolves
   * to the L2 store still running (`behind`), if any. When L2 refuses the value (a captured version
   * moved: it may predate a write another instance made), L1 keeps it only with a bus: that
   * write's message then bumps a tag the L1 entry carries (its late tags name the records it
   * holds, while L2 could only read their versions when storing). A required L2 is stored before
   * the read returns, as `set` does, so its failure is the caller's.
   */
  async #storeLoaded<T>(
    key: string,
    value: T,
    options: GetOrSetOptions<T>,
    seq: number | undefined,
    captured: L2Capture | undefined,
  ): Promise<{ readonly behind?: Promise<void> }> {
    if (this.#l2 === undefined || captured === undefined || this.#guard.required) {
      await this.#store(key, value, options, seq, captured)
      return {}
    }
    const entry = this.#entry(value, options)
    const inL1 = this.#storeL1(key, value, entry, seq)
    if (inL1) this.#counters.sets++
    // A copy, so L2 gets what was loaded whatever the caller does with the value (the one L1 just
    // took, when it took one, which nothing changes); serialized and sent on the next turn of the
    // event loop, so not even the socket write is on the read's path.
    const copy = (inL1 ? this.#l1?.held(key) : undefined) ?? cloneValue(value)
    const l2 = this.#l2
    const at = l2.now()
    const store = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => {
        const prepared = l2.prepare(key, copy)
        if (prepared.payload !== undefined) return l2.send(key, prepared, { ...entry, captured, at })
        // Too large goes nowhere; a value L2 cannot carry stays in L1.
        return prepared.result
      })
      .then(
        (stored) => {
          // Without a bus, L2's refusal is all this instance hears of another's write during the load.
          if (stored === undefined && inL1 && this.#bus === undefined) this.#l1?.invalidate((l1) => l1.delete(key))
          else if (stored?.stored && !inL1) this.#counters.sets++
        },
        // The guard reported it: a failed store costs a later miss, never the read.
        () => {},
      )
    this.#behind.set(key, store)
    void store.then(() => {
      if (this.#behind.get(key) === store) this.#behind.delete(key)
    })
    return { behind: store }
  }

  /**
   * The store of `key` still running behind an earlier read, if any: a load of the key waits for
   * it (rare: L1 answers in between), so it reads what that store left and never shares its load
   * fence with it (the first store to end removes the fence, which would refuse the other).
   */
  #storeOf(key: string): Promise<void> | undefined {
    return this.#behind.get(key)
  }

  /** What both tiers store of a value: its lifetime, tags, guards and the tags derived from it. */
  #entry<T>(value: T, options: GetOrSetOptions<T>): StoreEntry {
    return {
      life: lifetime(options.ttl ?? this.#options.defaultTtl, options.swr, options.grace),
      tags: options.tags ?? [],
      guards: options.guards ?? [],
      late: storedTags(checkTags('tags', options.lateTags?.(value) ?? [])),
      derived: options.lateTags !== undefined,
    }
  }

  /**
   * L1 checks the late tags themselves against its clock: a write that moved one during the load
   * (here, or on another instance and heard on the bus) bumped it after `seq`, and one heard later
   * evicts the entry. So the guards of a value with late tags, which stand in for them only where a
   * version cannot be ordered (in L2, a missing or an older release's version), are not checked
   * here: a write to another row during the load refuses nothing. Guards given without `lateTags`
   * are checked.
   */
  #storeL1(key: string, value: unknown, entry: StoreEntry, seq: number | undefined): boolean {
    const { life, tags, guards, late, derived } = entry
    const stored = this.#l1?.store(key, value, life, {
      tags: late.length > 0 ? [...tags, ...late] : tags,
      ...(!derived && { guards }),
      capturedSeq: seq,
    })
    if (stored) this.#emitter?.emit('set', { key, tier: 'l1' })
    return stored === true
  }

  /** Sends an invalidation to Redis through the outbox (nothing to send without Redis). */
  async #send(invalidation: Invalidation): Promise<void> {
    await this.#outbox?.send(invalidation)
  }

  #miss(key: string, meta: Meta): void {
    this.#counters.misses++
    this.#emitter?.emit('miss', { key, model: meta?.model, operation: meta?.operation })
  }
}
