import { Prisma } from '@prisma/client/extension'
import { versionWitness } from '../cache/tiered/version-witness.ts'
import type { InvalidationCause } from '../core/events.ts'
import { CacheMetrics } from '../metrics/collector.ts'
import { splitMetricsOption } from '../metrics/options.ts'
import { type AnyClient, CachedReads } from './cached-reads.ts'
import { ChainReads, ChainRegistry, type ChainState } from './chain.ts'
import { ChangeCaptureLink } from './change-capture/link.ts'
import { captureTables } from './change-capture/tables.ts'
import { clientCache } from './client-cache.ts'
import { debugSink } from './debug.ts'
import { withFluent } from './fluent.ts'
import { ClientIdentity, clientShape, databaseIdentity } from './identity.ts'
import { readMethods } from './model-methods.ts'
import { delegateName, READ_OPERATIONS } from './operations.ts'
import { checkModelNames, resolveOptions, type TieredCacheOptions } from './options.ts'
import { CachedPrismaPromise, type ReadOutcome } from './prisma-promise.ts'
import { QueryHooks } from './query-hook.ts'
import { ReplicaLag } from './replica-lag.ts'
import { buildDataModel } from './schema/datamodel.ts'
import { entityTag, modelTag } from './tags/vocabulary.ts'
import { buildTiers } from './tiers.ts'
import { Tracing } from './tracing.ts'
import { isTransactionClient, TransactionScope, transactionOverride } from './transactions.ts'

type Extends = (this: unknown, extension: unknown) => unknown
type Method = (this: unknown, ...args: unknown[]) => unknown
/** The delegate a read method was called on, as the read needs it (see `viewOf`). */
interface DelegateView {
  readonly parent: AnyClient
  readonly model: string
  readonly chain: ChainState | undefined
}

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
    const lag = resolved.replicaLag > 0 ? new ReplicaLag(resolved.replicaLag) : undefined
    // Only with `@opentelemetry/api` installed (and not `tracing: false`).
    const tracing = resolved.tracing ? Tracing.create() : undefined
    let events = resolved.debug ? debugSink(resolved.debug, resolved.events) : resolved.events
    if (tracing) events = tracing.sink(events)
    if (metrics) events = metrics.sink(events)
    const { cache, l1, l2, instance } = buildTiers(resolved, lag ? lag.sink(events) : events)
    const invalidate = (tags: readonly string[], given: InvalidationCause): Promise<void> => {
      const cause = instance === undefined ? given : { ...given, instance }
      return tracing?.on
        ? tracing.invalidation(tags, cause, () => cache.invalidateTags(tags, cause))
        : cache.invalidateTags(tags, cause)
    }
    const dataModel = buildDataModel(
      internals._runtimeDataModel as Parameters<typeof buildDataModel>[0],
      (internals._engineConfig as { inlineSchema?: string } | undefined)?.inlineSchema,
    )
    const models = dataModel.models
    checkModelNames(resolved.models, models)
    const changes =
      resolved.changeCapture &&
      new ChangeCaptureLink(
        resolved.changeCapture,
        captureTables(client),
        cache,
        l1,
        models.flatMap((model) => [modelTag(model), entityTag(model)]),
        events,
      )
    const identity = new ClientIdentity(
      resolved.prefix,
      dataModel.fingerprint,
      clientShape(client, models),
      resolved.namespace,
      // The base client: no extension under the cache sees (or counts) the question.
      () => databaseIdentity(internals._originalClient ?? client),
    )
    const transactions = new TransactionScope()
    const chainReads = new ChainReads()
    const reads = new CachedReads({
      options: resolved,
      cache,
      dataModel,
      clientVersion: String(internals._clientVersion ?? ''),
      chainReads,
      identity,
      lag,
      ...(changes && { usable: () => changes.listening }),
    })
    // A write's lookups go through the chain under the cache, on its primary when read replicas are
    // under the cache (`$primary()`): a replica behind the write would name values the records
    // no longer hold, and what they changed would stay cached.
    const primary = internals.$primary as (() => AnyClient) | undefined
    const lookup = (model: string, operation: 'findMany' | 'findUnique', args: unknown) => {
      const on = typeof primary === 'function' ? primary.call(internals) : internals
      return (on[delegateName(model)] as Record<typeof operation, (args: unknown) => Promise<unknown>>)[operation](args)
    }
    const witness = versionWitness(l1, l2, instance !== undefined, () => cache.l2Usable)
    const hooks = new QueryHooks({
      invalidate,
      dataModel,
      transactions,
      reads,
      chainReads,
      lookup,
      ...(witness && { witness }),
    })
    const onQuery = metrics ? (model: string | undefined) => metrics.query(model) : undefined
    const realExtends = (internals._originalClient as { $extends: Extends }).$extends

    /**
     * What a read needs of the delegate it was called on: its model, the chain under it and how that
     * chain reads (none for a transaction's client: its reads pass through). Prisma's clients are
     * immutable and a chain's state is set before any client is built on it, so this is kept per
     * delegate: a read then pays one WeakMap look-up instead of three of Prisma's proxy look-ups.
     */
    const views = new WeakMap<object, DelegateView>()
    function viewOf(self: unknown): DelegateView {
      const keyed = typeof self === 'object' && self !== null
      let view = keyed ? views.get(self) : undefined
      if (view === undefined) {
        const context = Prisma.getExtensionContext(self) as unknown as { $name: string; $parent: AnyClient }
        const parent = context.$parent
        const chain = isTransactionClient(parent) ? undefined : chains.state(parent)
        view = { parent, model: context.$name, chain }
        if (keyed) views.set(self, view)
      }
      return view
    }

    function read(self: unknown, operation: string, args: unknown): unknown {
      const view = viewOf(self)
      const result = reads.read(
        view.parent,
        view.chain,
        view.model,
        operation,
        args as Record<string, unknown> | undefined,
      )
      if (metrics === undefined && tracing?.on !== true) return result
      return instrumented(self, view.model, operation, args, result)
    }

    /** A read with `metrics` or tracing on: measured (and traced) around its cached read. */
    function instrumented(self: unknown, model: string, operation: string, args: unknown, result: unknown): unknown {
      const traced = tracing?.on === true
      if (!(result instanceof CachedPrismaPromise)) return result
      // Starts the read inside the measuring (and tracing) scope, passing its withAccelerateInfo()
      // outcome on; a batch $transaction still gets the real query.
      let run = (outcome: ReadOutcome) =>
        result.withAccelerateInfo().then(({ data, info }) => {
          outcome.status = info.cacheStatus as typeof outcome.status
          outcome.signature = info.signature
          return data
        })
      if (metrics !== undefined) {
        const inner = run
        run = (outcome) => metrics.measure(model, operation, () => inner(outcome))
      }
      if (traced) {
        const inner = run
        run = (outcome) => tracing!.read(model, operation, outcome, () => inner(outcome))
      }
      const measured = new CachedPrismaPromise(run, () => result)
      // The fluent relation methods, measured too: each re-issues this read through `read`.
      return withFluent(measured, dataModel, model, operation, args as Record<string, unknown> | undefined, (again) =>
        read(self, operation, again),
      )
    }

    /**
     * The read methods of each model, set on the delegates of a client of ours: a method then knows
     * its client without `this`, so `const { findUnique } = prisma.user` works as on a plain client.
     */
    function bind(extended: object): object {
      for (const model of models) {
        const delegate = (extended as Record<string, Record<string, Method>>)[delegateName(model)]
        if (delegate === undefined) continue
        for (const operation of READ_OPERATIONS)
          delegate[operation] = (args: unknown) => read(delegate, operation, args)
      }
      return extended
    }

    const { $cache, $accelerate } = clientCache({
      options: resolved,
      cache,
      invalidateTags: invalidate,
      explain: { options: resolved, dataModel, identity, cache, l1, l2 },
      ...(tracing && { onClose: () => tracing.close() }),
      ...(changes && { listener: changes }),
      identity,
      dataModel,
      metrics,
      ...(lag && { onClear: () => lag.clear() }),
    })
    const below = internals as { $primary?: Method }
    const primaries = new WeakMap<object, object>()

    /** Our client and model components, stacked on a chain of ours (see chain.ts). */
    function stackTop(chain: object): object {
      return bind(
        realExtends.call(chain, {
          name: 'tieredCache',
          client: {
            $cache,
            $accelerate,
            $extends: extender,
            ...transactionOverride(client, transactions, (tags) =>
              invalidate(tags, { operation: '$transaction', transaction: true }),
            ),
            // Scripts that only call $disconnect() exit: the connections the cache opened itself are
            // closed with the client (a read after it goes to the database, uncached).
            async $disconnect(this: { $parent: { $disconnect(): Promise<void> } }) {
              await $cache.close()
              return this.$parent.$disconnect()
            },
            // @prisma/extension-read-replicas applied before the cache: its $primary() is the client
            // under it; the cache goes on top of that client too, so reads there are cached and
            // writes there invalidate.
            ...(typeof below.$primary === 'function' && {
              $primary(this: unknown) {
                const primary = below.$primary!.call(this) as object
                let view = primaries.get(primary)
                if (view === undefined) {
                  view = stackOnBase(primary)
                  primaries.set(primary, view)
                }
                return view
              },
            }),
          } as {},
          model: { $allModels: readMethods(read) },
        }) as object,
      )
    }

    /** The whole extension over a client: our first query hook, then our top. */
    function stackOnBase(base: object): object {
      const withHook = realExtends.call(base, hooks.extension(0, onQuery)) as object
      chains.register(withHook)
      return stackTop(withHook)
    }

    changes?.start()
    const chains = new ChainRegistry()
    const extender = chains.extender(realExtends, (hook) => hooks.extension(hook, onQuery), stackTop)
    // The declared type: what Prisma infers for our components (the others are untyped on purpose,
    // so Prisma's own typing of $transaction, $extends and $disconnect stays); never called.
    const declared = () =>
      client.$extends({
        name: 'tieredCache',
        client: { $cache, $accelerate },
        model: { $allModels: readMethods(read) },
      })
    return stackOnBase(client) as ReturnType<typeof declared>
  })
}
