import { Decimal } from '@prisma/client/runtime/client'
import { MemoryCache } from '../cache/memory.ts'
import { RedisCache } from '../cache/redis/redis-cache.ts'
import { TieredCache } from '../cache/tiered/tiered-cache.ts'
import type { CacheEventSink } from '../core/events.ts'
import { createSerializer } from '../core/serializer.ts'
import type { ResolvedOptions } from './options.ts'

/** Results carry `Prisma.Decimal`: L2 gives it back as one (the cache layer imports nothing of Prisma). */
const serializer = createSerializer({ Decimal })

/**
 * The cache layer of one client, from its options: L1, L2 (a `redis` URL is opened and, in
 * `close()`, ended by the RedisCache; an instance is the caller's), the bus, the stampede lock.
 * Tier lifetimes are given once, as `l1Ttl` and `l2Ttl`: the cache layer cuts each entry to them.
 */
export interface Tiers {
  readonly cache: TieredCache
  /** This instance's L1 (change capture empties it after missing changes). */
  readonly l1: MemoryCache | undefined
  /** The RedisCache entries are kept in (`undefined` with `l2: false`): `$cache.explain()` reads it. */
  readonly l2: RedisCache | undefined
  /** This instance's id on the bus (the RedisCache's), for the causes of its invalidations. */
  readonly instance: string | undefined
}

export function buildTiers(options: ResolvedOptions, events: CacheEventSink | undefined): Tiers {
  const { l1, l2 } = options
  // With `l2: false` Redis still carries invalidations, so other instances' L1s hear of writes.
  const shared = options.redis
    ? new RedisCache({
        redis: options.redis,
        prefix: options.prefix,
        serializer,
        ...(l2 && { timeoutMs: l2.timeoutMs }),
        ...(l2 && l2.durable && { durable: l2.durable }),
      })
    : undefined
  const memory = l1 ? new MemoryCache({ max: l1.max, maxBytes: l1.maxBytes }) : undefined
  const cache = new TieredCache({
    l1: memory ?? false,
    l2: l2 ? (shared ?? false) : false,
    ...(!l2 && shared && { bus: shared }),
    lock: shared !== undefined && l2 !== false && options.stampede.lock && { waitMs: options.stampede.waitMs },
    l1Ttl: l1 ? l1.ttl : 0,
    l2Ttl: l2 ? l2.ttl : 0,
    l1Required: options.required.l1,
    l2Required: options.required.l2,
    events,
    maxEntryBytes: options.maxEntryBytes,
  })
  return { cache, l1: memory, l2: l2 ? shared : undefined, instance: shared?.instanceId }
}
