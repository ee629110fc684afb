import type { MemoryCache } from '../cache/memory.ts'
import type { RedisCache } from '../cache/redis/redis-cache.ts'
import type { TieredCache } from '../cache/tiered/tiered-cache.ts'
import { fail, isPlainObject } from '../core/validate.ts'
import type { ClientIdentity } from './identity.ts'
import { keyHash } from './key-hash.ts'
import { READ_OPERATIONS } from './operations.ts'
import type { ResolvedOptions } from './options.ts'
import { loadedOperation } from './or-throw.ts'
import { explicitKey, readKey } from './query-keys.ts'
import { planRead, withoutCacheArgs } from './read-plan.ts'
import type { DataModel } from './schema/datamodel.ts'
import { cacheDependencies } from './tags/read-dependencies.ts'
import { lookedUpRecord } from './tags/record-identity.ts'
import { userTag, withEntityTags } from './tags/vocabulary.ts'

/** What `$cache.explain()` takes: a read as its model method would get it. */
export interface ExplainQuery {
  /** The model, as in the schema (`'User'`). */
  readonly model: string
  /** A read operation: `findUnique`, `findMany`, `count`, ... */
  readonly operation: string
  /** The read's arguments, `cache` / `cacheStrategy` included. @default {} */
  readonly args?: Readonly<Record<string, unknown>>
}

/**
 * Whether a tier holds the read now: `fresh` (it would be served), `stale` (inside its swr or
 * grace window), `absent`, `off` (no such tier), `untrusted` (L1 while the bus is down: not read),
 * `unavailable` (Redis did not answer).
 */
export type TierState = 'fresh' | 'stale' | 'absent' | 'off' | 'untrusted' | 'unavailable'

/** What `$cache.explain()` says of one read. */
export interface CacheExplanation {
  /** Whether this read is cached at all (its `cache` argument, the model's policy, `auto`). */
  readonly cached: boolean
  /** Its key in both tiers. */
  readonly key: string
  /** The key's hash, as spans (`tiered_cache.key_hash`) and debug lines show it. */
  readonly keyHash: string
  /**
   * The tags it depends on, known from its arguments: captured before the database read and stored
   * with the entry, so a write that bumps one evicts it.
   */
  readonly tags: readonly string[]
  /**
   * Tags captured before the database read and checked when its result is stored, not stored: a
   * write that bumps one while the read runs keeps the result out of the cache (the next read loads
   * again), and evicts nothing. They cover every write that could change a tag of `resultTags`.
   */
  readonly guards: readonly string[]
  /**
   * Tags the entry carries because of what the read found (the records an include reached, the
   * rows of a list, the record of a lookup by a non-key unique), from the tier that holds it; `[]`
   * when no tier does. A write that bumps one evicts it.
   */
  readonly resultTags: readonly string[]
  readonly l1: TierState
  readonly l2: TierState
}

/** What explanations of one client read. */
export interface ExplainSetup {
  readonly options: ResolvedOptions
  readonly dataModel: DataModel
  readonly identity: ClientIdentity
  readonly cache: TieredCache
  readonly l1: MemoryCache | undefined
  /** The RedisCache holding entries (`undefined` without one, or with `l2: false`). */
  readonly l2: RedisCache | undefined
}

/**
 * `$cache.explain()`: the key and tags of a read, worked out as a read through the client's model
 * methods works them out (cached-reads.ts), and whether each tier holds it, without changing
 * either: L1 is looked at (which marks the entry recently used, nothing more) and L2 read without
 * capturing anything or filling L1, with tag versions checked as on every read.
 */
export async function explainRead(setup: ExplainSetup, query: ExplainQuery): Promise<CacheExplanation> {
  const { options, dataModel: dm, identity } = setup
  if (!isPlainObject(query)) fail('explain', 'an object { model, operation, args? }', query)
  const { model, operation } = query
  if (typeof model !== 'string' || !dm.model(model)) fail('explain.model', 'a model of this client', model)
  if (typeof operation !== 'string' || !READ_OPERATIONS.has(operation)) {
    fail('explain.operation', `a read operation (${[...READ_OPERATIONS].join(', ')})`, operation)
  }
  const given = query.args ?? {}
  if (!isPlainObject(given)) fail('explain.args', 'an object', given)
  const args = withoutCacheArgs(given)
  const plan = planRead(options, model, given.cache, given.cacheStrategy)
  const load = loadedOperation(operation)
  await identity.known()
  const scope = identity.model!
  const key =
    plan?.key !== undefined
      ? explicitKey(scope, plan.key)
      : readKey(scope, model, load, args, options.context?.(), lookedUpRecord(dm, model, load, args) ?? undefined)
  // As the read path works them out (cached-reads.ts): stored tags, guards, and tags from the result;
  // those of a key's later loads, which run the lookups (a first load stores the wide tags instead).
  const deps = cacheDependencies(dm, model, load, args, { lookups: true })
  const tags = [...withEntityTags(deps.tags), ...(plan?.tags ?? []).map(userTag)]
  const [l1, l2] = [inL1(setup, key), await inL2(setup, key)]
  const known = new Set(tags)
  const held = l1.tags ?? l2.tags ?? []
  return {
    cached: plan !== undefined,
    key,
    keyHash: keyHash(key),
    tags: [...known],
    guards: deps.guards.filter((tag) => !known.has(tag)),
    resultTags: held.filter((tag) => !known.has(tag)),
    l1: l1.state,
    l2: l2.state,
  }
}

interface Held {
  readonly state: TierState
  readonly tags?: readonly string[]
}

function inL1(setup: ExplainSetup, key: string): Held {
  if (setup.l1 === undefined) return { state: 'off' }
  if (!setup.cache.l1Trusted) return { state: 'untrusted' }
  const hit = setup.l1.get(key)
  return hit === undefined ? { state: 'absent' } : { state: hit.fresh ? 'fresh' : 'stale', tags: hit.tags }
}

async function inL2(setup: ExplainSetup, key: string): Promise<Held> {
  if (setup.l2 === undefined) return { state: 'off' }
  try {
    const read = await setup.l2.get(key, [], { peek: true })
    return read.hit ? { state: read.fresh ? 'fresh' : 'stale', tags: read.tags } : { state: 'absent' }
  } catch {
    return { state: 'unavailable' }
  }
}
