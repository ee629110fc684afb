import { Prisma } from '@prisma/client/extension'
import { CacheMetrics } from '../metrics/collector.ts'
import { splitMetricsOption } from '../metrics/options.ts'
import { type AnyClient, CachedReads } from './cached-reads.ts'
import { clientCache } from './client-cache.ts'
import { readMethods } from './model-methods.ts'
import { resolveOptions, type TieredCacheOptions } from './options.ts'
import { CachedPrismaPromise } from './prisma-promise.ts'
import { buildDataModel } from './schema/datamodel.ts'
import { buildTiers } from './tiers.ts'
import { TransactionScope, transactionOverride } from './transactions.ts'
import { type QueryParams, WriteHook } from './write-hook.ts'

/**
 * The Prisma extension: `new PrismaClient({ adapter }).$extends(tieredCache({ redis }))`.
 * Options are checked here; a bad one throws a `TypeError` naming it.
 */
export function tieredCache(options?: TieredCacheOptions) {
  const split = splitMetricsOption(options)
  const resolved = resolveOptions(split.options)
  return Prisma.defineExtension((client) => {
    const internals = client as unknown as AnyClient
    // Only with the `metrics` option: then it hears every event, and times every cached read.
    const metrics = split.metrics ? new CacheMetrics(split.metrics) : undefined
    const cache = buildTiers(resolved, metrics ? metrics.sink(resolved.events) : resolved.events)
    const dataModel = buildDataModel(
      internals._runtimeDataModel as Parameters<typeof buildDataModel>[0],
      (internals._engineConfig as { inlineSchema?: string } | undefined)?.inlineSchema,
    )
    const transactions = new TransactionScope()
    const hook = new WriteHook(cache, dataModel, transactions)
    const reads = new CachedReads({
      options: resolved,
      cache,
      dataModel,
      clientVersion: String(internals._clientVersion ?? ''),
    })

    // The query component sits under the model component: cached reads made by the model
    // methods, and every write, pass through it.
    const withHook = client.$extends({
      name: 'tieredCache:query',
      query: {
        $allOperations(params) {
          metrics?.query(params.model)
          return hook.onQuery(params as QueryParams)
        },
      },
    })

    function read(self: unknown, operation: string, args: unknown) {
      const context = Prisma.getExtensionContext(self) as unknown as { $name: string; $parent: AnyClient }
      const parent = context.$parent
      const result = reads.read(
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

    const { $cache, $accelerate } = clientCache({ options: resolved, cache, dataModel, metrics })
    return withHook.$extends({
      name: 'tieredCache',
      client: {
        $cache,
        $accelerate,
        ...transactionOverride(client, transactions, (tags) => cache.invalidateTags(tags)),
      },
      model: { $allModels: readMethods(read) },
    })
  })
}
