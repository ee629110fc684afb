import { BentoCache, bentostore } from 'bentocache'
import { memoryDriver } from 'bentocache/drivers/memory'
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis'
import type { Redis } from 'ioredis'
import { createSerializer } from '../../src/core/serializer.ts'

/**
 * bentocache 1.6 stores, all on one BentoCache:
 *
 * - `tiered`: memory L1 (`memoryDriver({ serialize: true })`, its default: L1 holds the serialized
 *   string and every hit deserializes it, so a caller mutating its result cannot change the cache:
 *   the same copy safety as tieredCache's `cloneValue`) + Redis L2 + Redis bus (L1 invalidation
 *   across instances, as tieredCache's bus).
 * - `tieredShared`: the same with `serialize: false`: L1 hands out the cached object itself. Faster,
 *   not copy-safe; a reference row, not a like-for-like contender. Its own L2 namespace: in 1.6.1 an
 *   L2 hit stores the *serialized* entry into a non-serializing L1, and the next L1 read throws
 *   `Cannot read properties of undefined (reading 'deserialize')` (CacheEntry.fromDriver), so it
 *   must fill its L1 from its own loads only.
 * - `l2only`: the Redis driver alone, for the L2-hit comparison.
 *
 * The serializer is superjson with Decimal/Bytes registered (tieredCache's): bentocache's default
 * JSON serializer throws on BigInt and returns Date/Decimal as strings. Keys are what an
 * application would write by hand (`user:42`); bentocache has no Prisma integration, so there is
 * no key derivation from query arguments in its numbers.
 */
export function createBentoCache(redis: Redis, busRedis: Redis, prefix: string) {
  const serializer = createSerializer()
  const l2 = (name = 'bento') => redisDriver({ connection: redis, prefix: `${prefix}:${name}` })
  const bus = () => redisBusDriver({ connection: busRedis })
  const bento = new BentoCache({
    default: 'tiered',
    ttl: '1h',
    serializer: {
      serialize: (v: unknown) => serializer.stringify(v),
      deserialize: (v: unknown) => serializer.parse(v as string),
    },
    stores: {
      tiered: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 50_000, serialize: true }))
        .useL2Layer(l2())
        .useBus(bus()),
      tieredShared: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 50_000, serialize: false }))
        .useL2Layer(l2('bento-shared'))
        .useBus(bus()),
      l2only: bentostore().useL2Layer(l2()),
    },
  })
  return bento
}
