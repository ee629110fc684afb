import type { TieredCache } from '../cache/tiered/tiered-cache.ts'
import type { CacheStats } from '../cache/types.ts'
import type { InvalidationCause } from '../core/events.ts'
import { key as checkKey, tags as checkTags, fail, func, isPlainObject, seconds } from '../core/validate.ts'
import type { CacheMetrics } from '../metrics/collector.ts'
import { renderCacheMetrics } from '../metrics/render.ts'
import { type CacheExplanation, type ExplainQuery, type ExplainSetup, explainRead } from './explain.ts'
import type { ClientIdentity } from './identity.ts'
import type { ResolvedOptions } from './options.ts'
import { requestId } from './prisma-promise.ts'
import { type ClientKeyScope, explicitKey, wrapKey } from './query-keys.ts'
import type { DataModel } from './schema/datamodel.ts'
import { entityTag, modelTag, userTag } from './tags/vocabulary.ts'

/** What `$cache.invalidate()` takes. */
export interface InvalidateInput {
  /** Tags given in `cache.tags` / `cacheStrategy.tags` / `wrap()`. */
  readonly tags?: readonly string[]
  /** Every cached read of these models (and every read that reached them through a relation). */
  readonly models?: readonly string[]
  /** Keys given in `cache.key` or to `wrap()`. */
  readonly keys?: readonly string[]
}

/** Options of `$cache.wrap()`. */
export interface WrapOptions {
  /** Seconds the value stays fresh. @default the top-level `ttl` */
  readonly ttl?: number
  /** Seconds after `ttl` during which the stale value is served while one refresh runs. @default the top-level `swr` */
  readonly swr?: number
  /** Tags to invalidate it by; model names here are not linked to writes, use `models` for that. @default [] */
  readonly tags?: readonly string[]
  /** Models the value depends on: any write to them invalidates it (for a wrapped `$queryRaw`). @default [] */
  readonly models?: readonly string[]
}

/** `prisma.$cache`: the cache of this client. */
export interface CacheClient {
  /**
   * Removes from both tiers, on every instance, what depends on these tags, models or keys.
   * An invalidated entry is gone, not served stale even inside its `swr` window.
   */
  invalidate(input: InvalidateInput): Promise<void>
  /** Removes everything under this `prefix`, both tiers, every instance. */
  clear(): Promise<void>
  /**
   * Resolves once Redis and the invalidation bus are connected. Until then reads skip what is not
   * ready (L2, and L1 while the bus is down), so awaiting it is only needed for a warm start.
   */
  ready(): Promise<void>
  /**
   * Resolves once the L2 stores of values loaded so far have ended. A miss answers as soon as the
   * database has, stores in L1 at once and in L2 behind it, so another instance may still miss for
   * a moment: await this before looking there (tests, a warm-up script). Never rejects.
   */
  settled(): Promise<void>
  /** Counters since the client was extended. */
  stats(): CacheStats
  /** Ends the connections the extension opened itself (never yours); idempotent. */
  close(): Promise<void>
  /**
   * The counters in the Prometheus text format (serve it with `METRICS_CONTENT_TYPE`): totals per
   * tier from `stats()`, and with the `metrics` option counters by model and operation and a
   * latency histogram of cached reads by outcome.
   */
  metrics(): string
  /** Cache-aside for anything else (raw SQL, HTTP calls), with the same tiers, coalescing and tags. */
  wrap<T>(key: string, fn: () => Promise<T> | T, options?: WrapOptions): Promise<T>
  /**
   * For one read, as its model method would get it: its key, the tags it depends on (a write that
   * bumps one evicts it), and whether each tier holds it now. Changes nothing in either tier.
   * @example await prisma.$cache.explain({ model: 'User', operation: 'findUnique', args: { where: { id: 1 } } })
   */
  explain(query: ExplainQuery): Promise<CacheExplanation>
}

/** `prisma.$accelerate`, for code written against Prisma Accelerate. */
export interface AccelerateCompat {
  /** Invalidates the entries of these `cacheStrategy.tags`, everywhere. */
  invalidate(input: { readonly tags: readonly string[] }): Promise<{ requestId: string }>
  /** Removes every entry under this `prefix`. */
  invalidateAll(): Promise<{ requestId: string }>
}

/** What the client cache of one extended client works with. */
export interface ClientCacheSetup {
  readonly options: ResolvedOptions
  readonly cache: TieredCache
  /** The client's key scopes: explicit keys are the client's own. */
  readonly identity: ClientIdentity
  readonly dataModel: DataModel
  /** With the `metrics` option: hears every event and times `wrap()`. */
  readonly metrics: CacheMetrics | undefined
  /** Told of a clear made here (the `replicaLag` window). */
  readonly onClear?: () => void
  /** Change capture's listener: `ready()` waits for it, `close()` ends it. */
  readonly listener?: { start(): Promise<void>; close(): Promise<void> }
  /** Invalidates tags with their cause (the extension's: traced, with this instance's id). */
  readonly invalidateTags: (tags: readonly string[], cause: InvalidationCause) => Promise<void>
  /** What `explain()` reads. */
  readonly explain: ExplainSetup
  /** Called by `close()` (tracing stops asking for a tracer provider). */
  readonly onClose?: () => void
}

/** The cache layer under each `$cache`; internal, for tests that drive the lower layer directly. */
const cacheLayers = new WeakMap<CacheClient, TieredCache>()

/** The `TieredCache` of a client's `$cache` (not part of the public types). */
export function tieredCacheOf(client: { readonly $cache: CacheClient }): TieredCache {
  const cache = cacheLayers.get(client.$cache)
  if (!cache) throw new TypeError('not the $cache of a tieredCache client')
  return cache
}

/** `$cache` and `$accelerate` of one extended client. */
export function clientCache(setup: ClientCacheSetup): { $cache: CacheClient; $accelerate: AccelerateCompat } {
  const { options, cache, identity, dataModel, metrics } = setup
  /** wrap() values are not the database's: their keys are the prefix's alone. */
  const wrapScope: ClientKeyScope = { prefix: options.prefix, fingerprint: dataModel.fingerprint }

  /** The tags every read of these models depends on, and a write to them bumps (`name`: the argument). */
  const modelTags = (name: string, models: unknown): string[] =>
    checkTags(name, models).flatMap((model) => {
      if (!dataModel.model(model)) fail(name, 'names of models of this client', model)
      return [modelTag(model), entityTag(model)]
    })

  const invalidate = async (input: InvalidateInput = {}): Promise<void> => {
    if (!isPlainObject(input)) fail('invalidate', 'an object { tags?, models?, keys? }', input)
    const tags = [
      ...checkTags('invalidate.tags', input.tags).map(userTag),
      ...modelTags('invalidate.models', input.models),
    ]
    const given = input.keys ?? []
    if (!Array.isArray(given)) fail('invalidate.keys', 'an array of strings', given)
    for (const key of given) checkKey('invalidate.keys', key)
    // A read's own key is the client's: known once its database has said who it is (until then
    // nothing was stored under one).
    if (given.length > 0) await identity.known().catch(() => {})
    const scopes = [...new Set([identity.model, identity.hook])].filter((scope) => scope !== undefined)
    const entries = (given as string[]).flatMap((key) => [
      ...scopes.map((scope) => explicitKey(scope, key)),
      wrapKey(wrapScope, key),
    ])
    if (tags.length > 0) await setup.invalidateTags(tags, { operation: '$cache.invalidate', transaction: false })
    if (entries.length > 0) await cache.invalidateKeys(entries)
  }

  const wrap = <T>(key: string, fn: () => Promise<T> | T, wrapOptions: WrapOptions = {}): Promise<T> => {
    checkKey('wrap.key', key)
    func('wrap.fn', fn)
    if (!isPlainObject(wrapOptions)) fail('wrap.options', 'an object { ttl?, swr?, tags?, models? }', wrapOptions)
    const tags = [
      ...checkTags('wrap.tags', wrapOptions.tags).map(userTag),
      ...modelTags('wrap.models', wrapOptions.models),
    ]
    return cache.getOrSet(wrapKey(wrapScope, key), async () => fn(), {
      ttl: seconds('wrap.ttl', wrapOptions.ttl, options.ttl),
      swr: seconds('wrap.swr', wrapOptions.swr, options.swr),
      grace: options.grace,
      tags,
    }) as Promise<T>
  }

  const $cache: CacheClient = {
    invalidate,
    clear: () => {
      setup.onClear?.()
      return cache.clear()
    },
    ready: () => Promise.all([cache.ready(), identity.known().catch(() => {}), setup.listener?.start()]).then(() => {}),
    settled: () => cache.settled(),
    stats: () => cache.stats(),
    close: async () => {
      setup.onClose?.()
      await Promise.all([cache.close(), setup.listener?.close()])
    },
    metrics: () =>
      renderCacheMetrics(
        { stats: cache.stats(), pendingInvalidations: cache.pendingInvalidations, l1Trusted: cache.l1Trusted },
        metrics,
      ),
    wrap: (key, fn, wrapOptions) =>
      metrics
        ? metrics.measure('', 'wrap', () => wrap(key, metrics.loader(fn), wrapOptions))
        : wrap(key, fn, wrapOptions),
    explain: (query) => explainRead(setup.explain, query),
  }
  const $accelerate: AccelerateCompat = {
    invalidate: async (input) => {
      await invalidate({ tags: input?.tags })
      return { requestId: requestId() }
    },
    invalidateAll: async () => {
      await $cache.clear()
      return { requestId: requestId() }
    },
  }
  cacheLayers.set($cache, cache)
  return { $cache, $accelerate }
}
