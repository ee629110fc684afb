import { isRedisConnection, type RedisConnection } from '../cache/redis/connection.ts'
import { checkDurable, type Durable, type DurableOption } from '../cache/redis/durable.ts'
import type { CachePolicy } from '../cache/types.ts'
import type { CacheEventSink } from '../core/events.ts'
import {
  bool,
  key as checkKey,
  tags as checkTags,
  fail,
  isPlainObject,
  object,
  onlyKeys,
  positive,
  integer as positiveInteger,
  seconds,
} from '../core/validate.ts'
import type { MetricsOption } from '../metrics/options.ts'
import type { ChangeCaptureOptions } from './change-capture/link.ts'
import { type DebugLogger, debugFromEnvironment } from './debug.ts'

/** Caching of one model's reads. Giving one turns caching on for that model's reads. */
export interface ModelPolicy {
  /** Seconds a cached read of this model stays fresh. @default the top-level `ttl` */
  readonly ttl?: number
  /** Stale-while-revalidate window of this model's reads, seconds. @default the top-level `swr` */
  readonly swr?: number
  /** Grace window of this model's reads, seconds (see the top-level `grace`). @default the top-level `grace` */
  readonly grace?: number
  /** Tags added to every cached read of this model. @default [] */
  readonly tags?: readonly string[]
}

/** L1, the in-process tier. */
export interface L1Options {
  /** Most entries kept; the least recently used go first. @default 10_000 */
  readonly max?: number
  /**
   * Most bytes kept: what L1's entries cost on the V8 heap, estimated as each is stored (the copy
   * of the value, its key, its tags and its bookkeeping; within 2x of the real heap, see the
   * benchmark). The least recently used go first; a larger entry is not kept. @default unlimited
   */
  readonly maxBytes?: number
  /** Longest life of an L1 entry, seconds; an entry lives min(query ttl, this). @default 60 */
  readonly ttl?: number
}

/** L2, the shared Redis tier. */
export interface L2Options {
  /** Longest life of an L2 entry, seconds; an entry lives min(query ttl, this) (+ its swr). @default 300 */
  readonly ttl?: number
  /**
   * A Redis command that takes longer fails over to L1 and the database (or fails the query,
   * with `required.l2`). @default 200
   */
  readonly timeoutMs?: number
  /**
   * Wait, after every invalidation, until this many replicas of each Redis master written to have
   * it (`WAIT`), bounded by `timeoutMs`: a failover then cannot bring back what a write removed.
   * Fewer acknowledgements in time keep the invalidation queued and replayed (and this instance off
   * L2 meanwhile); the write itself still succeeds. Costs about 0.2 ms per write on loopback.
   * @example { l2: { durable: { replicas: 1, timeoutMs: 500 } } }
   * @default false
   */
  readonly durable?: DurableOption
}

/** Options of `tieredCache()`. Every duration is in seconds, as in Prisma Accelerate's `cacheStrategy`. */
export interface TieredCacheOptions extends MetricsOption {
  /**
   * An ioredis `Redis` or `Cluster`, or a URL for a connection the extension opens (and closes in
   * `$cache.close()`). Absent or `null`: L1 only, suitable for a single instance.
   * @default undefined
   */
  readonly redis?: RedisConnection | string | null
  /** Namespace of every Redis key and of the invalidation channel. @default 'ptc' */
  readonly prefix?: string
  /** Seconds a cached read stays fresh when the query does not say. @default 60 */
  readonly ttl?: number
  /** Seconds after `ttl` during which a stale value is served while one refresh runs. @default 0 */
  readonly swr?: number
  /**
   * Seconds an entry is kept after `ttl + swr`, to be served only when the database fails: the
   * read then returns that value instead of the error, and a `'grace'` event carries the error.
   * An invalidated entry is never served this way (a write removes it from L1 on every instance,
   * and L2 checks its tag versions). L1 serves grace values only while its bus is connected (it
   * cannot know what it missed otherwise); L2 serves them while Redis answers.
   * Entries occupy both tiers this much longer.
   * @example { ttl: 60, grace: 3600 } // an hour of old data rather than errors during an outage
   * @default 0
   */
  readonly grace?: number
  /** The in-process tier, or `false` for none. @default { max: 10_000, ttl: 60 } */
  readonly l1?: L1Options | false
  /**
   * The Redis tier, or `false` for none. With `false` and a `redis`, Redis only carries
   * invalidations: no entry is stored in or read from it, but writes still reach every
   * instance's L1 over the bus (and are queued and replayed if Redis is down).
   * @default { ttl: 300, timeoutMs: 200 }
   */
  readonly l2?: L2Options | false
  /** Cache every read, without a per-query option. `cache: false` still bypasses. @default false */
  readonly auto?: boolean
  /**
   * Per-model policy. A policy turns caching on for that model's reads; `false` keeps a model out
   * of the cache under `auto` (a per-query `cache` option still wins).
   * @example { User: { ttl: 30 }, AuditLog: false }
   * @default {}
   */
  readonly models?: Readonly<Record<string, ModelPolicy | boolean>>
  /**
   * Mixed into every derived key: a tenant, a role, a locale. Called on every cached read, so keep it cheap.
   * @default undefined
   */
  readonly context?: () => string | undefined
  /** A failure of a required tier fails the query instead of falling back. @default { l1: false, l2: false } */
  readonly required?: { readonly l1?: boolean; readonly l2?: boolean }
  /** Receives 'hit', 'miss', 'set', 'invalidate', 'error', 'bus' events. @default undefined */
  readonly events?: CacheEventSink
  /** A result larger than this (serialized, bytes) is returned but not cached. @default 1_048_576 */
  readonly maxEntryBytes?: number
  /**
   * Concurrent misses of one key in one process always share one database query. `lock: true`
   * shares it across instances too: on an L2 miss one instance takes a lock in Redis
   * (`SET NX PX waitMs`, in the same round trip as the read) and loads; the others wait for its
   * value, woken by a bus message when it is stored (or by polling L2 with a short backoff), and
   * read it as an ordinary, validated L2 hit. After `waitMs` they load themselves, so a holder
   * that dies blocks nobody for longer. Needs `redis` and an `l2` (`l2: false` with `lock: true`
   * is an error). Costs nothing on a hit; a miss that waits costs its wait.
   * @default { lock: false, waitMs: 2000 }
   */
  readonly stampede?: StampedeOptions
  /**
   * Seconds a read replica may lag behind the primary (with `@prisma/extension-read-replicas`):
   * for this long after a write, on every instance, a read that depends on what the write changed
   * is answered but not stored, so a replica that has not caught up cannot leave its old rows in
   * the cache. Other reads are cached as usual.
   * @example { replicaLag: 2 }
   * @default 0
   */
  readonly replicaLag?: number
  /**
   * Mixed into every key, beside what the cache derives itself (the schema, global `omit`, result
   * extensions under the cache, the database it reads): clients that should never share entries
   * under one `prefix` can say so.
   * @default undefined
   */
  readonly namespace?: string
  /**
   * PostgreSQL change capture: every committed change, through this client or not (raw SQL,
   * another service, a migration), invalidates as the same write through the client would.
   * Install the triggers first with `changeCaptureSql(prisma)` (or `npx tiered-cache
   * change-capture-sql`). While its listening session is down, reads of this instance bypass the
   * cache. Needs the `pg` package.
   * @example { changeCapture: { url: process.env.DATABASE_URL } }
   * @default undefined
   */
  readonly changeCapture?: ChangeCaptureOptions
  /**
   * Logs one line per hit, miss, store refused (`set:skipped`, with its reason), invalidation
   * (with the write that caused it), bus message and tier error, each starting `tiered-cache `,
   * keys shown as their hash. `true` writes to `console.error`; a function receives each line;
   * `false` stays quiet even under `DEBUG`. For development: it costs a line per read.
   * @example { debug: (line) => logger.debug(line) }
   * @default false, or `true` when the `DEBUG` environment variable names `tiered-cache` (when `tieredCache()` is called)
   */
  readonly debug?: boolean | DebugLogger
  /**
   * OpenTelemetry spans (`tiered_cache.read`, `tiered_cache.invalidate`, `tiered_cache.bus`), made
   * when `@opentelemetry/api` is installed and a tracer provider is registered; `false` for none.
   * @default true
   */
  readonly tracing?: boolean
}

/** Sharing one database query per key across instances. */
export interface StampedeOptions {
  /** Take a Redis lock on an L2 miss so one instance loads while the others wait. @default false */
  readonly lock?: boolean
  /** Longest wait for another instance's value, and the lock's expiry, milliseconds. @default 2000 */
  readonly waitMs?: number
}

/** Per-query `cache` option. */
export interface QueryCacheOptions {
  /** Seconds the result stays fresh. @default the model policy's, else the top-level `ttl` */
  readonly ttl?: number
  /** Seconds after `ttl` during which the stale result is served while one refresh runs. @default top-level `swr` */
  readonly swr?: number
  /** Tags to invalidate this result by, with `$cache.invalidate({ tags })`. @default [] */
  readonly tags?: readonly string[]
  /** An explicit cache key, to invalidate with `$cache.invalidate({ keys })`. Not mixed with `context`. @default derived */
  readonly key?: string
  /** @default 'cache-first' */
  readonly policy?: CachePolicy
}

/** Prisma Accelerate's per-query option, accepted with Accelerate's meaning. */
export interface AccelerateCacheStrategy {
  /** Seconds the result is fresh. @default the top-level `ttl` */
  readonly ttl?: number
  /** Seconds after `ttl` the stale result may be served while it is refreshed. @default the top-level `swr` */
  readonly swr?: number
  /** Tags for `$accelerate.invalidate({ tags })`. @default [] */
  readonly tags?: readonly string[]
}

/** The per-query options every read method accepts. */
export interface CacheArgs {
  /** `true`: cache with the defaults; `false`: bypass even under `auto` or a model policy. */
  readonly cache?: boolean | QueryCacheOptions
  /** Prisma Accelerate's option, for code moving off Accelerate unchanged. */
  readonly cacheStrategy?: AccelerateCacheStrategy
}

/** A model's caching after defaults: whether its reads are cached without a `cache` argument, and how. */
export interface ModelDefaults {
  readonly enabled: boolean
  readonly ttl: number
  readonly swr: number
  readonly grace: number
  readonly tags: readonly string[]
}

/** The options of `tieredCache()` after checks and defaults. */
export interface ResolvedOptions {
  readonly redis: RedisConnection | string | null
  readonly prefix: string
  readonly ttl: number
  readonly swr: number
  readonly grace: number
  readonly l1: { readonly max: number; readonly maxBytes: number | undefined; readonly ttl: number } | false
  readonly l2: { readonly ttl: number; readonly timeoutMs: number; readonly durable: Durable | undefined } | false
  readonly auto: boolean
  readonly models: ReadonlyMap<string, ModelDefaults>
  readonly context: (() => string | undefined) | undefined
  readonly required: { readonly l1: boolean; readonly l2: boolean }
  readonly events: CacheEventSink | undefined
  readonly maxEntryBytes: number
  readonly stampede: { readonly lock: boolean; readonly waitMs: number }
  readonly replicaLag: number
  readonly namespace: string | undefined
  readonly changeCapture: ChangeCaptureOptions | undefined
  /** Where debug lines go; `undefined`: not logged. */
  readonly debug: DebugLogger | undefined
  readonly tracing: boolean
}

const TOP_LEVEL = new Set([
  'redis',
  'prefix',
  'ttl',
  'swr',
  'grace',
  'l1',
  'l2',
  'auto',
  'models',
  'context',
  'required',
  'events',
  'maxEntryBytes',
  'stampede',
  'replicaLag',
  'namespace',
  'changeCapture',
  'debug',
  'tracing',
  // Taken apart by tieredCache() before this runs (metrics.ts checks it); allowed here for callers of resolveOptions.
  'metrics',
])

/** Checks and completes the options of `tieredCache()`; a bad one throws a TypeError naming it. */
export function resolveOptions(options: TieredCacheOptions = {}): ResolvedOptions {
  if (!isPlainObject(options as unknown)) fail('options', 'an object', options)
  onlyKeys('options', options as Record<string, unknown>, TOP_LEVEL)
  const { redis = null } = options
  if (redis !== null && typeof redis !== 'string' && !isRedisConnection(redis)) {
    fail('redis', 'an ioredis Redis or Cluster instance, a redis:// URL, or null', redis)
  }
  if (typeof redis === 'string' && !/^rediss?:\/\//.test(redis)) fail('redis', 'a redis:// or rediss:// URL', redis)

  const prefix = options.prefix ?? 'ptc'
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)) {
    fail('prefix', '1 to 64 characters of A-Z a-z 0-9 _ . -', prefix)
  }
  const ttl = seconds('ttl', options.ttl, 60)
  const swr = seconds('swr', options.swr, 0)
  const grace = seconds('grace', options.grace, 0)

  let l1: ResolvedOptions['l1'] = false
  if (options.l1 !== false) {
    const raw = options.l1 ?? {}
    if (!isPlainObject(raw)) fail('l1', 'an object or false', raw)
    onlyKeys('l1', raw as Record<string, unknown>, new Set(['max', 'maxBytes', 'ttl']))
    l1 = {
      max: positiveInteger('l1.max', raw.max, 10_000),
      maxBytes: raw.maxBytes === undefined ? undefined : positiveInteger('l1.maxBytes', raw.maxBytes, 0),
      ttl: positive('l1.ttl', raw.ttl, 60),
    }
  }

  let l2: ResolvedOptions['l2'] = false
  if (options.l2 !== false) {
    const raw = options.l2 ?? {}
    if (!isPlainObject(raw)) fail('l2', 'an object or false', raw)
    onlyKeys('l2', raw as Record<string, unknown>, new Set(['ttl', 'timeoutMs', 'durable']))
    l2 = {
      ttl: positive('l2.ttl', raw.ttl, 300),
      timeoutMs: positiveInteger('l2.timeoutMs', raw.timeoutMs, 200),
      durable: checkDurable(raw.durable, 'l2.durable'),
    }
  }

  const models = new Map<string, ModelDefaults>()
  if (options.models !== undefined) {
    if (!isPlainObject(options.models)) fail('models', 'an object of model name to policy', options.models)
    for (const [model, policy] of Object.entries(options.models)) {
      const name = `models.${model}`
      if (typeof policy === 'boolean') {
        models.set(model, { enabled: policy, ttl, swr, grace, tags: [] })
        continue
      }
      if (!isPlainObject(policy)) fail(name, 'an object, true or false', policy)
      onlyKeys(name, policy as Record<string, unknown>, new Set(['ttl', 'swr', 'grace', 'tags']))
      models.set(model, {
        enabled: true,
        ttl: seconds(`${name}.ttl`, policy.ttl, ttl),
        swr: seconds(`${name}.swr`, policy.swr, swr),
        grace: seconds(`${name}.grace`, policy.grace, grace),
        tags: checkTags(`${name}.tags`, policy.tags),
      })
    }
  }

  if (options.context !== undefined && typeof options.context !== 'function') {
    fail('context', 'a function returning a string or undefined', options.context)
  }
  const required = options.required ?? {}
  if (!isPlainObject(required)) fail('required', 'an object', required)
  onlyKeys('required', required as Record<string, unknown>, new Set(['l1', 'l2']))
  if (options.events !== undefined && typeof (options.events as { emit?: unknown })?.emit !== 'function') {
    fail('events', 'an object with an emit(name, payload) method', options.events)
  }
  const stampede = options.stampede ?? {}
  if (!isPlainObject(stampede)) fail('stampede', 'an object', stampede)
  onlyKeys('stampede', stampede as Record<string, unknown>, new Set(['lock', 'waitMs']))
  const lock = bool('stampede.lock', stampede.lock, false)
  if (lock && l2 === false) fail('stampede.lock', 'false with l2: false (waiters read the value from L2)', lock)

  return {
    redis,
    prefix,
    ttl,
    swr,
    grace,
    l1,
    l2,
    auto: bool('auto', options.auto, false),
    models,
    context: options.context,
    required: { l1: bool('required.l1', required.l1, false), l2: bool('required.l2', required.l2, false) },
    events: options.events,
    maxEntryBytes: positiveInteger('maxEntryBytes', options.maxEntryBytes, 1_048_576),
    stampede: {
      lock,
      waitMs: positiveInteger('stampede.waitMs', stampede.waitMs, 2_000),
    },
    replicaLag: seconds('replicaLag', options.replicaLag, 0),
    namespace: options.namespace === undefined ? undefined : checkKey('namespace', options.namespace),
    changeCapture: changeCaptureOption(options.changeCapture),
    debug: debugOption(options.debug),
    tracing: bool('tracing', options.tracing, true),
  }
}

function debugOption(value: unknown): DebugLogger | undefined {
  if (typeof value === 'function') return value as DebugLogger
  if (value !== undefined && typeof value !== 'boolean')
    fail('debug', 'true, false or a function (line) => void', value)
  const on = value ?? debugFromEnvironment(process.env.DEBUG)
  // Looked up at each line, so a test or a tool that replaces console.error sees them.
  return on ? (line) => console.error(line) : undefined
}

const CHANGE_CAPTURE_KEYS: ReadonlySet<string> = new Set(['url', 'prefix', 'channel', 'timeoutMs'])

function changeCaptureOption(value: unknown): ChangeCaptureOptions | undefined {
  if (value === undefined) return undefined
  const given = object('changeCapture', value, CHANGE_CAPTURE_KEYS, 'an object { url, prefix?, channel?, timeoutMs? }')
  if (typeof given.url !== 'string' || !/^postgres(ql)?:\/\//.test(given.url)) {
    fail('changeCapture.url', 'a postgres:// or postgresql:// connection string', given.url)
  }
  return given as unknown as ChangeCaptureOptions
}

/**
 * The `models` option against the client's models, when the client is extended (`tieredCache()`
 * cannot know them): a misspelt name (`user` for `User`) is an error naming the closest model.
 */
export function checkModelNames(models: ReadonlyMap<string, unknown>, known: readonly string[]): void {
  for (const name of models.keys()) {
    if (known.includes(name)) continue
    const closest = [...known].sort((a, b) => distance(name, a) - distance(name, b))[0]
    fail(
      `models.${name}`,
      closest === undefined
        ? 'a model of this client'
        : `a model of this client (did you mean ${JSON.stringify(closest)}?)`,
      name,
    )
  }
}

/** Edit distance, case counted as half an edit (so `user` is closest to `User`). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      const x = a[i - 1]!
      const y = b[j - 1]!
      const cost = x === y ? 0 : x.toLowerCase() === y.toLowerCase() ? 0.5 : 1
      row.push(Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost))
    }
    previous = row
  }
  return previous[b.length]!
}
