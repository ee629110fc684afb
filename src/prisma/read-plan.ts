import type { CachePolicy } from '../cache/types.ts'
import { key as checkKey, tags as checkTags, fail, isPlainObject, oneOf, onlyKeys, seconds } from '../core/validate.ts'
import type { ResolvedOptions } from './options.ts'

const QUERY_KEYS = new Set(['ttl', 'swr', 'tags', 'key', 'policy'])
const STRATEGY_KEYS = new Set(['ttl', 'swr', 'tags'])
const POLICIES = new Set<CachePolicy>(['cache-first', 'network-first', 'cache-only', 'network-only'])

/** What one read asked of the cache, after defaults. `undefined` means: do not cache. */
export interface ReadPlan {
  readonly ttl: number
  readonly swr: number
  /** From the model policy, else the top-level `grace`. */
  readonly grace: number
  readonly tags: readonly string[]
  readonly key: string | undefined
  readonly policy: CachePolicy
}

/**
 * Decides whether and how one read is cached, from its `cache`/`cacheStrategy` arguments, the
 * model's policy and `auto`. Bad per-query values throw a TypeError naming the argument.
 */
export function planRead(
  options: ResolvedOptions,
  model: string,
  cache: unknown,
  strategy: unknown,
): ReadPlan | undefined {
  const defaults = options.models.get(model)
  const base = defaults ?? { enabled: false, ttl: options.ttl, swr: options.swr, grace: options.grace, tags: [] }
  if (cache !== undefined && strategy !== undefined) {
    fail('cache', 'either `cache` or `cacheStrategy`, not both', 'both')
  }
  if (cache === false) return undefined
  if (cache === undefined && strategy === undefined) {
    if (!(defaults ? defaults.enabled : options.auto)) return undefined
    return { ttl: base.ttl, swr: base.swr, grace: base.grace, tags: base.tags, key: undefined, policy: 'cache-first' }
  }
  if (cache === true)
    return { ttl: base.ttl, swr: base.swr, grace: base.grace, tags: base.tags, key: undefined, policy: 'cache-first' }
  const name = cache !== undefined ? 'cache' : 'cacheStrategy'
  const given = cache ?? strategy
  if (!isPlainObject(given)) return fail(name, cache !== undefined ? 'true, false or an object' : 'an object', given)
  onlyKeys(name, given, cache !== undefined ? QUERY_KEYS : STRATEGY_KEYS)
  const tags = checkTags(`${name}.tags`, given.tags)
  const key = given.key === undefined ? undefined : checkKey(`${name}.key`, given.key)
  const readPolicy: CachePolicy =
    given.policy === undefined ? 'cache-first' : oneOf(`${name}.policy`, given.policy, POLICIES)
  return {
    ttl: seconds(`${name}.ttl`, given.ttl, base.ttl),
    swr: seconds(`${name}.swr`, given.swr, base.swr),
    grace: base.grace,
    tags: base.tags.length === 0 ? tags : [...base.tags, ...tags],
    key,
    policy: readPolicy,
  }
}

/**
 * The plans of `cache: true` and of a read without cache arguments, per model: they depend on the
 * options alone, so each is made once (a read on the hot path does not build one).
 */
export class DefaultPlans {
  readonly #options: ResolvedOptions
  readonly #explicit = new Map<string, ReadPlan | undefined>()
  readonly #implicit = new Map<string, ReadPlan | undefined>()

  constructor(options: ResolvedOptions) {
    this.#options = options
  }

  /** The plan of `cache: true` (`explicit`) or of no cache argument. */
  get(model: string, explicit: boolean): ReadPlan | undefined {
    const plans = explicit ? this.#explicit : this.#implicit
    let plan = plans.get(model)
    if (plan === undefined && !plans.has(model)) {
      plan = planRead(this.#options, model, explicit ? true : undefined, undefined)
      plans.set(model, plan)
    }
    return plan
  }
}

/** The arguments Prisma gets: all but `cache` and `cacheStrategy` (a loop: cheaper than an object rest). */
export function withoutCacheArgs(args: Record<string, unknown>): Record<string, unknown> {
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
