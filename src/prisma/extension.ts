import { Prisma } from '@prisma/client/extension'
import type { Operation } from '@prisma/client/runtime/client'
import type { CacheStats } from '../cache/types.ts'
import { CacheMetrics } from '../metrics/collector.ts'
import { splitMetricsOption } from '../metrics/options.ts'
import { renderCacheMetrics } from '../metrics/render.ts'
import { CacheRuntime, type InvalidateInput, type WrapOptions } from './client-cache.ts'
import { type CacheArgs, resolveOptions, type TieredCacheOptions } from './options.ts'
import { type AccelerateInfo, CachedPrismaPromise, requestId } from './prisma-promise.ts'

/** A read's arguments with the cache options; `Subset` makes a misspelt or unknown key a compile error. */
type ReadArgs<T, O extends Operation> = Prisma.Args<T, O> & CacheArgs
type Subset<T, U> = { [K in keyof T]: K extends keyof U ? T[K] : never }
type SelectSubset<T, U> = Subset<T, U> &
  (T extends { select: unknown; include: unknown }
    ? 'Please either choose `select` or `include`.'
    : T extends { select: unknown; omit: unknown }
      ? 'Please either choose `select` or `omit`.'
      : unknown)

/** What a read method returns: Prisma's promise, with Prisma Accelerate's `withAccelerateInfo()`. */
export type CachedPromise<T> = Prisma.PrismaPromise<T> & {
  /** The result with how the cache answered it (`cacheStatus` `ttl`, `swr`, `miss`, or `none` when not cached). */
  withAccelerateInfo(): Promise<{ data: T; info: AccelerateInfo }>
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
}

/** `prisma.$accelerate`, for code written against Prisma Accelerate. */
export interface AccelerateCompat {
  /** Invalidates the entries of these `cacheStrategy.tags`, everywhere. */
  invalidate(input: { readonly tags: readonly string[] }): Promise<{ requestId: string }>
  /** Removes every entry under this `prefix`. */
  invalidateAll(): Promise<{ requestId: string }>
}

/**
 * The Prisma extension: `new PrismaClient({ adapter }).$extends(tieredCache({ redis }))`.
 * Options are checked here; a bad one throws a `TypeError` naming it.
 */
export function tieredCache(options?: TieredCacheOptions) {
  const split = splitMetricsOption(options)
  const resolved = resolveOptions(split.options)
  return Prisma.defineExtension((client) => {
    // Only with the `metrics` option: then it hears every event, and times every cached read.
    const metrics = split.metrics && new CacheMetrics(split.metrics)
    const runtime = new CacheRuntime(
      client as never,
      metrics ? { ...resolved, events: metrics.sink(resolved.events) } : resolved,
    )
    const base = client as unknown as { _originalClient?: object }
    const baseTransaction = Object.getPrototypeOf(base._originalClient ?? client).$transaction as (
      this: unknown,
      ...args: unknown[]
    ) => Promise<unknown>

    // The query component sits under the model component: cached reads made by the model
    // methods, and every write, pass through it.
    const withHook = client.$extends({
      name: 'tieredCache:query',
      query: {
        $allOperations(params) {
          metrics?.query(params.model)
          return runtime.onQuery(params as Parameters<CacheRuntime['onQuery']>[0])
        },
      },
    })

    const $cache: CacheClient = {
      invalidate: (input) => runtime.invalidate(input),
      clear: () => runtime.cache.clear(),
      ready: () => runtime.ready(),
      stats: () => runtime.stats(),
      close: () => runtime.close(),
      metrics: () =>
        renderCacheMetrics(
          {
            stats: runtime.stats(),
            pendingInvalidations: runtime.cache.pendingInvalidations,
            l1Trusted: runtime.cache.l1Trusted,
          },
          metrics,
        ),
      wrap: (key, fn, wrapOptions) =>
        metrics
          ? metrics.measure('', 'wrap', () => runtime.wrap(key, metrics.loader(fn), wrapOptions))
          : runtime.wrap(key, fn, wrapOptions),
    }
    const $accelerate: AccelerateCompat = {
      invalidate: async (input) => {
        await runtime.invalidate({ tags: input?.tags })
        return { requestId: requestId() }
      },
      invalidateAll: async () => {
        await runtime.cache.clear()
        return { requestId: requestId() }
      },
    }
    // Not in the declared type, so Prisma's own typing of $transaction stays in force: this runs
    // the client's own $transaction on the extended client (so `tx` has every extension) and
    // invalidates what its writes changed once it has committed.
    const transactionOverride = {
      $transaction(this: unknown, ...args: unknown[]) {
        return runtime.transaction(() => baseTransaction.apply(this, args))
      },
    } as {}

    return withHook.$extends({
      name: 'tieredCache',
      client: { $cache, $accelerate, ...transactionOverride },
      model: {
        $allModels: {
          findUnique<T, const A extends ReadArgs<T, 'findUnique'>>(
            this: T,
            args: SelectSubset<A, ReadArgs<T, 'findUnique'>>,
          ) {
            return read(this, 'findUnique', args) as CachedPromise<Prisma.Result<T, A, 'findUnique'>>
          },
          findUniqueOrThrow<T, const A extends ReadArgs<T, 'findUniqueOrThrow'>>(
            this: T,
            args: SelectSubset<A, ReadArgs<T, 'findUniqueOrThrow'>>,
          ) {
            return read(this, 'findUniqueOrThrow', args) as CachedPromise<Prisma.Result<T, A, 'findUniqueOrThrow'>>
          },
          findFirst<T, const A extends ReadArgs<T, 'findFirst'>>(
            this: T,
            args?: SelectSubset<A, ReadArgs<T, 'findFirst'>>,
          ) {
            return read(this, 'findFirst', args) as CachedPromise<Prisma.Result<T, A, 'findFirst'>>
          },
          findFirstOrThrow<T, const A extends ReadArgs<T, 'findFirstOrThrow'>>(
            this: T,
            args?: SelectSubset<A, ReadArgs<T, 'findFirstOrThrow'>>,
          ) {
            return read(this, 'findFirstOrThrow', args) as CachedPromise<Prisma.Result<T, A, 'findFirstOrThrow'>>
          },
          findMany<T, const A extends ReadArgs<T, 'findMany'>>(
            this: T,
            args?: SelectSubset<A, ReadArgs<T, 'findMany'>>,
          ) {
            return read(this, 'findMany', args) as CachedPromise<Prisma.Result<T, A, 'findMany'>>
          },
          count<T, const A extends ReadArgs<T, 'count'>>(this: T, args?: Subset<A, ReadArgs<T, 'count'>>) {
            return read(this, 'count', args) as CachedPromise<Prisma.Result<T, A, 'count'>>
          },
          aggregate<T, const A extends ReadArgs<T, 'aggregate'>>(this: T, args: Subset<A, ReadArgs<T, 'aggregate'>>) {
            return read(this, 'aggregate', args) as CachedPromise<Prisma.Result<T, A, 'aggregate'>>
          },
          groupBy<T, const A extends ReadArgs<T, 'groupBy'>>(this: T, args: Subset<A, ReadArgs<T, 'groupBy'>>) {
            return read(this, 'groupBy', args) as CachedPromise<Prisma.Result<T, A, 'groupBy'>>
          },
        },
      },
    })

    function read(self: unknown, operation: string, args: unknown) {
      const context = Prisma.getExtensionContext(self) as unknown as { $name: string; $parent: Record<string, unknown> }
      const parent = context.$parent
      const result = runtime.read(
        parent,
        parent === (withHook as unknown),
        context.$name,
        operation,
        args as Record<string, unknown> | undefined,
      )
      if (metrics === undefined || !(result instanceof CachedPrismaPromise)) return result
      // Starts the read inside the measuring scope, passing its withAccelerateInfo() outcome on; a
      // batch $transaction still gets the real query.
      return new CachedPrismaPromise(
        (outcome) =>
          metrics.measure(context.$name, operation, () =>
            result.withAccelerateInfo().then(({ data, info }) => {
              outcome.status = info.cacheStatus as typeof outcome.status
              outcome.signature = info.signature
              return data
            }),
          ),
        () => result,
      )
    }
  })
}
