import type { TieredCache } from '../cache/tiered/tiered-cache.ts'
import type { GetOrSetOptions } from '../cache/types.ts'
import { canonical } from '../core/canonical.ts'
import type { ChainReads, ChainState, MarkedRead } from './chain.ts'
import { cachedReadPromise } from './fluent.ts'
import type { ClientIdentity } from './identity.ts'
import { delegateName } from './operations.ts'
import type { ResolvedOptions } from './options.ts'
import { loadedOperation, notFound } from './or-throw.ts'
import { CachedPrismaPromise, type DirectQuery, type ReadOutcome, withNoCacheInfo } from './prisma-promise.ts'
import { type ClientKeyScope, explicitKey, readKey } from './query-keys.ts'
import { DefaultPlans, planRead, type ReadPlan, withoutCacheArgs } from './read-plan.ts'
import type { ReplicaLag } from './replica-lag.ts'
import type { DataModel } from './schema/datamodel.ts'
import { cacheDependencies } from './tags/read-dependencies.ts'
import { lookedUpRecord } from './tags/record-identity.ts'
import { NOT_RUN, type Resolution, resolvedTags } from './tags/resolutions.ts'
import { userTag } from './tags/vocabulary.ts'

type AnyDelegate = Record<string, (args?: unknown) => unknown>
export type AnyClient = Record<string | symbol, unknown>
/** Runs a lookup of tags/resolutions.ts on the database; its rows. */
type Lookup = (resolution: Resolution) => Promise<unknown>
type Rows = readonly Record<string, unknown>[]
/** How many keys {@link CachedReads} remembers as loaded once (a few hundred kilobytes at most). */
const MISSED_KEYS = 10_000

/** What the reads of one client share. */
export interface CachedReadsSetup {
  readonly options: ResolvedOptions
  readonly cache: TieredCache
  readonly dataModel: DataModel
  /** `client._clientVersion`, for the errors of emulated OrThrow reads. */
  readonly clientVersion: string
  /** Reads marked for an inner query hook (chain.ts). */
  readonly chainReads: ChainReads
  /** The client's key scopes (identity.ts). */
  readonly identity: ClientIdentity
  /** With `replicaLag`: the recent writes whose reads are not stored. */
  readonly lag: ReplicaLag | undefined
  /** False while reads must bypass the cache (change capture not listening). */
  readonly usable?: () => boolean
}

/**
 * The read interception of the model methods: outside a transaction, with caching asked for, a
 * read is answered from the cache (its key from query-keys.ts, its tags from tags/); otherwise the
 * parent client's own promise is returned untouched.
 */
export class CachedReads {
  readonly #options: ResolvedOptions
  readonly #cache: TieredCache
  readonly #dataModel: DataModel
  readonly #clientVersion: string
  readonly #plans: DefaultPlans
  readonly #identity: ClientIdentity
  readonly #lag: ReplicaLag | undefined
  readonly #chainReads: ChainReads
  readonly #usable: () => boolean
  /** Lookups not started yet, by parent client and query: loads that ask the same one meanwhile share it. */
  readonly #lookups = new WeakMap<object, Map<string, Promise<unknown>>>()
  /** Keys loaded once already (the oldest forgotten past {@link MISSED_KEYS}): their next loads look up. */
  readonly #missed = new Set<string>()

  constructor(setup: CachedReadsSetup) {
    this.#options = setup.options
    this.#cache = setup.cache
    this.#dataModel = setup.dataModel
    this.#clientVersion = setup.clientVersion
    this.#plans = new DefaultPlans(setup.options)
    this.#identity = setup.identity
    this.#lag = setup.lag
    this.#chainReads = setup.chainReads
    this.#usable = setup.usable ?? (() => true)
  }

  /**
   * A read method of the model layer, called with the chain under the client it was called on
   * (`parentClient`, the delegate's `$parent`) and how that chain reads (`chain`, see chain.ts):
   * `fast`, answered here; `hook`, marked for the inner query hook that caches it; none (a
   * transaction's client, for which the caller passes none, or a chain that is not ours), passed
   * to the parent untouched.
   * A cached read of one record gets the fluent API (fluent.ts), which re-issues it.
   */
  read(
    parentClient: AnyClient,
    chain: ChainState | undefined,
    model: string,
    operation: string,
    args: Record<string, unknown> | undefined,
  ): unknown {
    return this.#read(parentClient, chain, model, operation, args, true)
  }

  #read(
    parentClient: AnyClient,
    chain: ChainState | undefined,
    model: string,
    operation: string,
    args: Record<string, unknown> | undefined,
    fluent = false,
  ): unknown {
    let queryArgs = args
    let cache: unknown
    let strategy: unknown
    if (args && (args.cache !== undefined || args.cacheStrategy !== undefined)) {
      cache = args.cache
      strategy = args.cacheStrategy
      queryArgs = withoutCacheArgs(args)
    }
    // The parent's delegate is looked up when a query runs: a hit never needs it.
    const delegate = () => parentClient[delegateName(model)] as AnyDelegate
    const direct = () => delegate()[operation]!(queryArgs)
    if (chain === undefined) return direct()
    const plan =
      strategy === undefined && (cache === true || cache === undefined)
        ? this.#plans.get(model, cache === true)
        : planRead(this.#options, model, cache, strategy)
    if (!plan || !this.#usable()) return withNoCacheInfo(direct() as object)
    const stripped = queryArgs ?? {}
    // One promise per read; a read of one record's has the fluent API (fluent.ts), which re-issues it.
    const promise = (run: (outcome: ReadOutcome) => Promise<unknown>, query: DirectQuery) =>
      fluent
        ? cachedReadPromise(run, query, this.#dataModel, model, operation, args, (a) =>
            this.#read(parentClient, chain, model, operation, a),
          )
        : new CachedPrismaPromise(run, query)
    if (chain.kind === 'hook') {
      return promise(
        (outcome) => {
          const marked: MarkedRead = {
            hook: chain.hook,
            model,
            operation,
            cache,
            cacheStrategy: strategy,
            taken: false,
            status: 'ttl',
            signature: '',
          }
          // `then` inside the scope: the lazy PrismaPromise starts its request there.
          return this.#chainReads.run(marked, () =>
            (direct() as Promise<unknown>).then((value) => {
              outcome.status = marked.taken ? marked.status : 'none'
              outcome.signature = marked.signature
              return value
            }),
          )
        },
        direct as () => { requestTransaction?(transaction: unknown): unknown },
      )
    }
    const loadOperation = loadedOperation(operation)
    const lookup = this.#lookup(parentClient)
    const run = (outcome: ReadOutcome, keys: ClientKeyScope) =>
      this.#cachedRead(
        keys,
        () => delegate()[loadOperation]!(stripped) as Promise<unknown>,
        model,
        operation,
        loadOperation,
        stripped,
        plan,
        outcome,
        lookup,
      )
    return promise(
      (outcome) => {
        const keys = this.#identity.model
        if (keys !== undefined) return run(outcome, keys)
        // The first reads wait for the database to say who it is (one query, once), then are cached.
        return this.#identity.known().then(
          () => run(outcome, this.#identity.model!),
          () => {
            outcome.status = 'none'
            return direct() as Promise<unknown>
          },
        )
      },
      direct as () => { requestTransaction?(transaction: unknown): unknown },
    )
  }

  /**
   * Runs the lookups of tags/resolutions.ts through the parent client (the chain the load goes
   * through), uncached. A lookup starts on the next turn of the event loop, and the loads that ask
   * for the same one before it starts share it: each of them captured its tags and guards before
   * asking, so before the lookup reads (a list and its count, loaded side by side, look up once).
   */
  #lookup(parentClient: AnyClient): Lookup {
    return (r) => {
      let pending = this.#lookups.get(parentClient)
      if (pending === undefined) this.#lookups.set(parentClient, (pending = new Map()))
      const key = `${r.model}\n${canonical(r.args)}`
      const shared = pending.get(key)
      if (shared !== undefined) return shared
      const queue = pending
      const started = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        queue.delete(key)
        return (parentClient[delegateName(r.model)] as AnyDelegate).findMany!(r.args) as Promise<unknown>
      })
      queue.set(key, started)
      return started
    }
  }

  #loadedBefore(key: string): boolean {
    if (this.#missed.has(key)) return true
    if (this.#missed.size >= MISSED_KEYS) this.#missed.delete(this.#missed.values().next().value as string)
    this.#missed.add(key)
    return false
  }

  /**
   * A read marked by a model method for the inner query hook `marked.hook` (see chain.ts): cached
   * here, on the arguments as they reach the database, loaded with the hook's `query`. The value
   * is what the query returns, before result extensions (Prisma applies those to it afterwards).
   */
  readInHook(
    model: string,
    operation: string,
    args: Record<string, unknown>,
    marked: MarkedRead,
    query: (args: unknown) => Promise<unknown>,
  ): Promise<unknown> {
    const plan =
      marked.cacheStrategy === undefined && (marked.cache === true || marked.cache === undefined)
        ? this.#plans.get(model, marked.cache === true)
        : planRead(this.#options, model, marked.cache, marked.cacheStrategy)
    if (!plan || !this.#usable()) return query(args)
    // No OrThrow emulation here: the hook sees the operation itself, and a not-found throws from `query`.
    const run = (keys: ClientKeyScope) =>
      this.#cachedRead(keys, () => query(args), model, operation, operation, args, plan, marked)
    const keys = this.#identity.hook
    if (keys !== undefined) return run(keys)
    return this.#identity.known().then(
      () => run(this.#identity.hook!),
      () => query(args),
    )
  }

  #cachedRead(
    keys: ClientKeyScope,
    load: () => Promise<unknown>,
    model: string,
    operation: string,
    loadOperation: string,
    args: Record<string, unknown>,
    plan: ReadPlan,
    outcome: ReadOutcome,
    lookup?: Lookup,
  ): Promise<unknown> {
    const key =
      plan.key !== undefined
        ? explicitKey(keys, plan.key)
        : readKey(
            keys,
            model,
            loadOperation,
            args,
            this.#options.context?.(),
            lookedUpRecord(this.#dataModel, model, loadOperation, args) ?? undefined,
          )
    const meta = { model, operation }
    outcome.signature = key
    // The hot path: a fresh L1 hit needs neither the read's tags nor a load.
    if (plan.policy === 'cache-first') {
      const hit = this.#cache.peek(key, meta)
      if (hit !== undefined) {
        return loadOperation !== operation && hit.value === null
          ? Promise.reject(notFound(model, operation, this.#clientVersion))
          : Promise.resolve(hit.value)
      }
    }
    return this.#load(load, model, operation, loadOperation, key, meta, args, plan, outcome, lookup)
  }

  async #load(
    load: () => Promise<unknown>,
    model: string,
    operation: string,
    loadOperation: string,
    key: string,
    meta: { model: string; operation: string },
    args: Record<string, unknown>,
    plan: ReadPlan,
    outcome: ReadOutcome,
    lookup: Lookup | undefined,
  ): Promise<unknown> {
    const dm = this.#dataModel
    // A key's first load goes without lookups: its tags are the wide ones a lookup would narrow,
    // as good for a read that does not come back, at one database read. Later loads look up.
    const again = lookup !== undefined && this.#loadedBefore(key)
    const deps = cacheDependencies(dm, model, loadOperation, args, again ? { lookups: true } : undefined)
    const { loader, lateTags } = withLookups(load, deps.lateTags, deps.resolutions, lookup)
    const tags = plan.tags.length === 0 ? deps.tags : [...deps.tags, ...plan.tags.map(userTag)]
    // Within `replicaLag` of a write it depends on, a read may come from a replica behind it.
    const held = this.#lag?.holds(deps.guards.length === 0 ? tags : [...tags, ...deps.guards])
    const options: GetOrSetOptions = {
      ttl: held ? 0 : plan.ttl,
      swr: held ? 0 : plan.swr,
      grace: held ? 0 : plan.grace,
      tags,
      policy: plan.policy,
      meta,
      // Tags only the result tells, stored under guards every write able to move them bumps.
      ...(deps.guards.length > 0 && { guards: deps.guards }),
      ...(lateTags !== undefined && { lateTags }),
    }
    const value = await this.#cache.getOrSet(
      key,
      () => {
        outcome.status = 'miss'
        return loader()
      },
      options,
    )
    if (loadOperation !== operation && value === null) throw notFound(model, operation, this.#clientVersion)
    return value
  }
}

/**
 * The load and its late tags with the read's lookups (tags/resolutions.ts) run beside it: both
 * start after the cache captured the read's tags and guards. A lookup that failed, or a value
 * stored by a load that did not run them (another caller's, shared), gives their guards.
 */
function withLookups(
  load: () => Promise<unknown>,
  own: ((value: unknown) => string[]) | undefined,
  resolutions: readonly Resolution[] | undefined,
  lookup: Lookup | undefined,
): { loader: () => Promise<unknown>; lateTags: ((value: unknown) => string[]) | undefined } {
  if (resolutions === undefined || lookup === undefined) return { loader: load, lateTags: own }
  let answers: (Rows | typeof NOT_RUN | undefined)[] | undefined
  const run = (r: Resolution) =>
    lookup(r).then(
      (rows) => (Array.isArray(rows) ? (rows as Rows) : undefined),
      () => undefined,
    )
  const loader = async () => {
    const found = resolutions.map((r) => (r.whenEmpty ? undefined : run(r)))
    const value = await load()
    const empty = value === null || (Array.isArray(value) && value.length === 0)
    answers = await Promise.all(
      resolutions.map((r, i) => (r.whenEmpty ? (empty ? run(r) : NOT_RUN) : (found[i] as Promise<Rows | undefined>))),
    )
    return value
  }
  return { loader, lateTags: (value) => [...(own?.(value) ?? []), ...resolvedTags(resolutions, answers)] }
}
