import type { CacheEventSink } from '../../core/events.ts'
import { bool, cacheTags, fail, func, integer, number, object, positive, seconds } from '../../core/validate.ts'
import { StampedeLock, type StampedeLockOptions } from '../lock.ts'
import { MemoryCache } from '../memory.ts'
import { RedisCache } from '../redis/redis-cache.ts'
import { storedTags } from '../stored-tag.ts'
import type { GetOrSetOptions } from '../types.ts'

/** Options of `TieredCache`. Durations in seconds. */
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
   * Most seconds an entry stays fresh in L2: L2 TTL = min(entry ttl, l2Ttl). Also the TTL of an
   * entry when the call gives none (L1-only caches use `l1Ttl` for that).
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
   * the others wait up to `waitMs` for its value (see stampede.ts). `true` takes the defaults.
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
   * A value larger than this many bytes (its serialized UTF-8 size, or an estimate without L2) is
   * returned, not cached (a `set:skipped` event says so).
   * @default 1_048_576
   */
  readonly maxEntryBytes?: number
  /**
   * After `threshold` consecutive L2 failures, L2 is skipped for `coolDownMs`.
   * @default { threshold: 5, coolDownMs: 1000 }
   */
  readonly breaker?: { readonly threshold?: number; readonly coolDownMs?: number }
}

/** Options of `TieredCache.set`. Durations in seconds. */
export interface TieredSetOptions {
  readonly ttl?: number
  readonly swr?: number
  /** Seconds the entry is kept after `ttl + swr`, as a fallback when a loader fails. @default 0 */
  readonly grace?: number
  readonly tags?: readonly string[]
}

/** The options of a `TieredCache`, checked, with their defaults. */
export interface ResolvedTieredOptions {
  readonly l1: MemoryCache | undefined
  /** Where entries are read and stored; absent with `l2: false`. */
  readonly l2: RedisCache | undefined
  /** Where invalidations go and the bus subscribes: the `l2`, or the `bus` RedisCache. */
  readonly redis: RedisCache | undefined
  /** Whether to subscribe to other instances' invalidations (needs an L1 and a `redis`). */
  readonly subscribe: boolean
  readonly lock: StampedeLock | undefined
  readonly writeThroughL1: boolean
  readonly writeThroughL2: boolean
  readonly l1TtlMs: number
  readonly l2TtlMs: number
  /** Seconds of an entry whose call gives no `ttl`: `l2Ttl` with an L2, else `l1Ttl`. */
  readonly defaultTtl: number
  readonly l1Required: boolean
  readonly l2Required: boolean
  readonly maxEntryBytes: number
  readonly now: () => number
  readonly events: CacheEventSink | undefined
  readonly breaker: { readonly threshold: number; readonly coolDownMs: number }
}

const BREAKER_KEYS: ReadonlySet<string> = new Set(['threshold', 'coolDownMs'])

/** Checks the options of a `TieredCache` (a `CacheOptionError` naming the bad one) and fills in the defaults. */
export function resolveTieredOptions(options: TieredCacheOptions): ResolvedTieredOptions {
  object('options', options, undefined)
  const now = func<() => number>('now', options.now ?? Date.now, 'a function returning milliseconds')
  if (options.l1 !== undefined && options.l1 !== false && !(options.l1 instanceof MemoryCache))
    fail('l1', 'a MemoryCache or false', options.l1)
  if (options.l2 !== undefined && options.l2 !== false && !(options.l2 instanceof RedisCache))
    fail('l2', 'a RedisCache or false', options.l2)
  if (options.bus !== undefined && typeof options.bus !== 'boolean' && !(options.bus instanceof RedisCache))
    fail('bus', 'a boolean or a RedisCache', options.bus)
  const l2 = options.l2 || undefined
  if (options.bus instanceof RedisCache && l2)
    fail('bus', 'a boolean when there is an l2 (the bus then uses its connection)', options.bus)
  if (options.lock && !l2) fail('lock', "false without an l2 (waiters read the holder's value there)", options.lock)
  // A tier's TTL is only checked when the tier exists (callers pass 0 for a disabled one).
  const l1Ttl = options.l1 === false ? (options.l1Ttl ?? 60) : positive('l1Ttl', options.l1Ttl, 60)
  const l2Ttl = l2 ? positive('l2Ttl', options.l2Ttl, 300) : (options.l2Ttl ?? 300)
  const breaker = options.breaker === undefined ? {} : object('breaker', options.breaker, BREAKER_KEYS)
  if (options.events !== undefined) func('events.emit', object('events', options.events, undefined).emit)
  const l1 = options.l1 === false ? undefined : (options.l1 ?? new MemoryCache({ ttl: l1Ttl, now }))
  const redis = l2 ?? (options.bus instanceof RedisCache ? options.bus : undefined)
  return {
    l1,
    l2,
    redis,
    subscribe: l1 !== undefined && redis !== undefined && options.bus !== false,
    lock: options.lock ? new StampedeLock(options.lock === true ? {} : options.lock) : undefined,
    writeThroughL1: bool('writeThroughL1', options.writeThroughL1, true),
    writeThroughL2: bool('writeThroughL2', options.writeThroughL2, true),
    l1TtlMs: l1Ttl * 1000,
    l2TtlMs: l2Ttl * 1000,
    defaultTtl: l2 ? l2Ttl : l1Ttl,
    l1Required: bool('l1Required', options.l1Required, false),
    l2Required: bool('l2Required', options.l2Required, false),
    maxEntryBytes: positive('maxEntryBytes', options.maxEntryBytes, 1_048_576),
    now,
    events: options.events,
    breaker: {
      threshold: integer('breaker.threshold', breaker.threshold, 5),
      coolDownMs: number('breaker.coolDownMs', breaker.coolDownMs, 1000),
    },
  }
}

/**
 * Checks the options of one call, before it loads, and returns them with their tags and guards in
 * their stored form (stored-tag.ts; the same object when none changes). `ttl` 0 is allowed: the
 * value is returned, not cached (unless `swr` keeps it as stale).
 */
export function checkCallOptions<T>(options: GetOrSetOptions<T>): GetOrSetOptions<T> {
  seconds('ttl', options.ttl, 0)
  seconds('swr', options.swr, 0)
  const tags = options.tags && storedTags(cacheTags('tags', options.tags))
  const guards = options.guards && storedTags(cacheTags('guards', options.guards))
  return tags === options.tags && guards === options.guards ? options : { ...options, tags, guards }
}

/** The tags a load captures before it runs: its tags and its guards. */
export function captureList(options: GetOrSetOptions<never>): readonly string[] {
  const { tags = [], guards = [] } = options
  if (guards.length === 0) return tags
  return [...new Set([...tags, ...guards])]
}
