import { PrismaClientKnownRequestError } from '@prisma/client/runtime/client'
import { Redis } from 'ioredis'
import { MemoryCache } from '../cache/memory.ts'
import { RedisCache } from '../cache/redis.ts'
import { TieredCache } from '../cache/tiered.ts'
import type { CacheStats, GetOrSetOptions } from '../cache/types.ts'
import { tags as checkTags } from '../core/validate.ts'
import { planRead, type ReadPlan, type ResolvedOptions } from './options.ts'
import { CachedPrismaPromise, type ReadOutcome, withNoCacheInfo } from './prisma-promise.ts'
import { explicitKey, queryKey, wrapKey } from './query-keys.ts'
import { buildDataModel, type DataModel } from './schema/datamodel.ts'
import {
  allRecordsTag,
  modelTag,
  RAW_WRITE_OPERATIONS,
  READ_OPERATIONS,
  rawInvalidations,
  readDependencies,
  recordTags,
  userTag,
  WRITE_OPERATIONS,
  writeInvalidations,
} from './tags.ts'
import { isTransactionClient, TransactionScope, transactionKind } from './transactions.ts'

type AnyDelegate = Record<string, (args?: unknown) => unknown>
type AnyClient = Record<string | symbol, unknown>

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

const ORTHROW_SUFFIX = 'OrThrow'

/** The error Prisma raises when an OrThrow read finds nothing, for a cached empty result. */
function notFound(model: string, operation: string, clientVersion: string): Error {
  return new PrismaClientKnownRequestError(
    `\nInvalid \`prisma.${lowerFirst(model)}.${operation}()\` invocation:\n\n\nAn operation failed because it depends on one or more records that were required but not found. No record was found for a query.`,
    { code: 'P2025', clientVersion, meta: { modelName: model, operation: 'a query' } },
  )
}

/** The arguments Prisma gets: all but `cache` and `cacheStrategy` (a loop: cheaper than an object rest). */
function withoutCacheArgs(args: Record<string, unknown>): Record<string, unknown> {
  const rest: Record<string, unknown> = {}
  for (const key of Object.keys(args)) {
    if (key === 'cache' || key === 'cacheStrategy') continue
    // An own `__proto__` (JSON.parse makes them) must stay a property, as an object rest keeps it.
    if (key === '__proto__')
      Object.defineProperty(rest, key, { value: args[key], enumerable: true, writable: true, configurable: true })
    else rest[key] = args[key]
  }
  return rest
}

const lowerFirst = (name: string) => name.charAt(0).toLowerCase() + name.slice(1)

/**
 * The cache of one extended client: the tiers, the client's data model, and what reads and
 * writes do. The Prisma components in extension.ts only forward to it.
 */
export class CacheRuntime {
  readonly options: ResolvedOptions
  readonly cache: TieredCache
  readonly dataModel: DataModel
  readonly transactions = new TransactionScope()
  readonly #ownedRedis: Redis | undefined
  readonly #clientVersion: string
  readonly #explicitPlans = new Map<string, ReadPlan | undefined>()
  readonly #implicitPlans = new Map<string, ReadPlan | undefined>()
  #closed = false

  constructor(client: AnyClient, options: ResolvedOptions) {
    this.options = options
    this.#clientVersion = String(client._clientVersion ?? '')
    this.dataModel = buildDataModel(
      client._runtimeDataModel as Parameters<typeof buildDataModel>[0],
      (client._engineConfig as { inlineSchema?: string } | undefined)?.inlineSchema,
    )
    let redis = options.redis
    if (typeof redis === 'string') {
      this.#ownedRedis = new Redis(redis, { maxRetriesPerRequest: 1 })
      this.#ownedRedis.on('error', () => {})
      redis = this.#ownedRedis
    }
    // With `l2: false` Redis still carries invalidations, so other instances' L1s hear of writes.
    const shared = redis
      ? new RedisCache({
          redis,
          prefix: options.prefix,
          ...(options.l2 && { ttl: options.l2.ttl, timeoutMs: options.l2.timeoutMs }),
        })
      : undefined
    this.cache = new TieredCache({
      l1: options.l1
        ? new MemoryCache({ max: options.l1.max, maxBytes: options.l1.maxBytes, ttl: options.l1.ttl })
        : false,
      l2: options.l2 ? (shared ?? false) : false,
      ...(!options.l2 && shared && { bus: shared }),
      lock: shared !== undefined &&
        options.l2 !== false &&
        options.stampede.lock && { waitMs: options.stampede.waitMs },
      l1Ttl: options.l1 ? options.l1.ttl : 0,
      l2Ttl: options.l2 ? options.l2.ttl : 0,
      l1Required: options.required.l1,
      l2Required: options.required.l2,
      events: options.events,
      maxEntryBytes: options.maxEntryBytes,
    })
  }

  /**
   * A read method of the model layer. Outside a transaction, with caching asked for, it answers
   * from the cache; otherwise it returns the parent client's own promise untouched.
   * `topLevel` is the parent of the extended client itself: any other parent is a transaction's.
   */
  read(
    parentClient: AnyClient,
    topLevel: boolean,
    model: string,
    operation: string,
    args: Record<string, unknown> | undefined,
  ) {
    let queryArgs = args
    let cache: unknown
    let strategy: unknown
    if (args && (args.cache !== undefined || args.cacheStrategy !== undefined)) {
      cache = args.cache
      strategy = args.cacheStrategy
      queryArgs = withoutCacheArgs(args)
    }
    const direct = () => (parentClient[lowerFirst(model)] as AnyDelegate)[operation]!(queryArgs)
    if (!topLevel && isTransactionClient(parentClient)) return direct()
    const plan =
      strategy === undefined && (cache === true || cache === undefined)
        ? this.#defaultPlan(model, cache === true)
        : planRead(this.options, model, cache, strategy)
    if (!plan) return withNoCacheInfo(direct() as object)
    return new CachedPrismaPromise(
      (outcome) => this.#cachedRead(parentClient, model, operation, queryArgs ?? {}, plan, outcome),
      direct as () => { requestTransaction?(transaction: unknown): unknown },
    )
  }

  /** The plan of `cache: true` (`explicit`) or of no cache argument, per model: they only depend on the options. */
  #defaultPlan(model: string, explicit: boolean): ReadPlan | undefined {
    const plans = explicit ? this.#explicitPlans : this.#implicitPlans
    let plan = plans.get(model)
    if (plan === undefined && !plans.has(model)) {
      plan = planRead(this.options, model, explicit ? true : undefined, undefined)
      plans.set(model, plan)
    }
    return plan
  }

  #cachedRead(
    parentClient: AnyClient,
    model: string,
    operation: string,
    args: Record<string, unknown>,
    plan: ReadPlan,
    outcome: ReadOutcome,
  ): Promise<unknown> {
    // findUniqueOrThrow shares findUnique's entry: a cached null is Prisma's not-found error.
    const orThrow = operation.endsWith(ORTHROW_SUFFIX)
    const loadOperation = orThrow ? operation.slice(0, -ORTHROW_SUFFIX.length) : operation
    const fingerprint = this.dataModel.fingerprint
    const key =
      plan.key !== undefined
        ? explicitKey(fingerprint, plan.key)
        : queryKey(fingerprint, model, loadOperation, args, this.options.context?.())
    const meta = { model, operation }
    outcome.signature = key
    // The hot path: a fresh L1 hit needs neither the read's tags nor a load.
    if (plan.policy === 'cache-first') {
      const hit = this.cache.peek(key, meta)
      if (hit !== undefined) {
        return orThrow && hit.value === null
          ? Promise.reject(notFound(model, operation, this.#clientVersion))
          : Promise.resolve(hit.value)
      }
    }
    return this.#load(parentClient, model, operation, loadOperation, key, meta, args, plan, orThrow, outcome)
  }

  async #load(
    parentClient: AnyClient,
    model: string,
    operation: string,
    loadOperation: string,
    key: string,
    meta: { model: string; operation: string },
    args: Record<string, unknown>,
    plan: ReadPlan,
    orThrow: boolean,
    outcome: ReadOutcome,
  ): Promise<unknown> {
    const deps = readDependencies(this.dataModel, model, loadOperation, args)
    const tags = plan.tags.length === 0 ? deps.tags : [...deps.tags, ...plan.tags.map(userTag)]
    const recordsOf = deps.recordsOf
    const options: GetOrSetOptions = {
      ttl: plan.ttl,
      swr: plan.swr,
      grace: plan.grace,
      tags,
      policy: plan.policy,
      meta,
      ...(recordsOf !== undefined && {
        guards: [modelTag(recordsOf)],
        lateTags: (value: unknown) => recordTags(this.dataModel, recordsOf, value) ?? [modelTag(recordsOf)],
      }),
    }
    const delegate = parentClient[lowerFirst(model)] as AnyDelegate
    const value = await this.cache.getOrSet(
      key,
      () => {
        outcome.status = 'miss'
        return delegate[loadOperation]!(args) as Promise<unknown>
      },
      options,
    )
    if (orThrow && value === null) throw notFound(model, operation, this.#clientVersion)
    return value
  }

  /** The query hook: strips the cache arguments, and turns every write into invalidations. */
  async onQuery(params: {
    model?: string
    operation: string
    args: unknown
    query: (args: unknown) => Promise<unknown>
    __internalParams?: unknown
  }): Promise<unknown> {
    const { model, operation, query } = params
    let args = params.args as Record<string, unknown> | undefined
    if (args && typeof args === 'object' && ('cache' in args || 'cacheStrategy' in args)) args = withoutCacheArgs(args)
    if (model === undefined) {
      if (!RAW_WRITE_OPERATIONS.has(operation)) return query(args)
      const result = await query(args)
      await this.#afterWrite(rawInvalidations(this.dataModel), params.__internalParams)
      return result
    }
    if (READ_OPERATIONS.has(operation) || !WRITE_OPERATIONS.has(operation)) return query(args)
    const result = await query(args)
    await this.#afterWrite(
      writeInvalidations(this.dataModel, model, operation, args ?? {}, result),
      params.__internalParams,
    )
    return result
  }

  async #afterWrite(tags: readonly string[], internalParams: unknown): Promise<void> {
    if (tags.length === 0) return
    // Inside a transaction: after commit, or never. Without our $transaction around it (a client
    // that bypassed this extension's), invalidating now is the best left to do.
    if (transactionKind(internalParams) !== undefined && this.transactions.defer(tags)) return
    await this.cache.invalidateTags(tags)
  }

  /** `$transaction` of the extended client: the client's own, with invalidations after commit. */
  transaction(start: () => Promise<unknown>): Promise<unknown> {
    return this.transactions.run(start, (tags) => this.cache.invalidateTags(tags))
  }

  async invalidate(input: InvalidateInput = {}): Promise<void> {
    if (typeof input !== 'object' || input === null) throw new TypeError('invalidate(input): expected an object')
    const tags = [
      ...checkTags('invalidate.tags', input.tags).map(userTag),
      ...this.#modelTags('invalidate.models', input.models),
    ]
    const keys = (input.keys ?? []).flatMap((key) => {
      if (typeof key !== 'string' || key.length === 0)
        throw new TypeError('invalidate.keys: expected non-empty strings')
      return [explicitKey(this.dataModel.fingerprint, key), wrapKey(key)]
    })
    if (tags.length > 0) await this.cache.invalidateTags(tags)
    if (keys.length > 0) await this.cache.invalidateKeys(keys)
  }

  wrap<T>(key: string, fn: () => Promise<T> | T, options: WrapOptions = {}): Promise<T> {
    if (typeof key !== 'string' || key.length === 0) throw new TypeError('wrap(key): expected a non-empty string')
    if (typeof fn !== 'function') throw new TypeError('wrap(fn): expected a function')
    const plan = planRead(this.options, '', { ttl: options.ttl, swr: options.swr, tags: options.tags }, undefined)!
    const tags = [...plan.tags.map(userTag), ...this.#modelTags('wrap.models', options.models)]
    return this.cache.getOrSet(wrapKey(key), async () => fn(), {
      ttl: plan.ttl,
      swr: plan.swr,
      grace: plan.grace,
      tags,
    }) as Promise<T>
  }

  /** The tags every read of these models depends on (`name` is the option, for the error). */
  #modelTags(name: string, models: readonly string[] = []): string[] {
    return models.flatMap((model) => {
      if (!this.dataModel.model(model)) throw new TypeError(`${name}: unknown model ${JSON.stringify(model)}`)
      return [modelTag(model), allRecordsTag(model)]
    })
  }

  /** Resolves once Redis and the invalidation bus are connected (at once without Redis). */
  ready(): Promise<void> {
    return this.cache.ready()
  }

  stats(): CacheStats {
    return this.cache.stats()
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.cache.close()
    if (this.#ownedRedis && this.#ownedRedis.status !== 'end') {
      await this.#ownedRedis.quit().catch(() => this.#ownedRedis?.disconnect())
    }
  }
}
