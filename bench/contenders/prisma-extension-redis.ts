import type { Redis } from 'ioredis'
import { PrismaExtensionRedis } from 'prisma-extension-redis'
import { createSerializer } from '../../src/core/serializer.ts'
import type { BasePrisma } from '../setup.ts'
import { readCounter } from './prisma.ts'

/**
 * prisma-extension-redis 5, configured as its README's Quick Start: `auto` caching of every read
 * with `invalidateOnWrite` (a write SCANs and UNLINKs the model's auto keys), `type: 'STRING'`
 * (this Redis 7 has no RedisJSON module), our ioredis client passed in as `client`.
 *
 * The one change from the README: `transformer` is superjson with Decimal/Bytes registered (the
 * serializer tieredCache uses). Its default, `JSON.stringify`/`JSON.parse`, throws on the BigInt
 * column of Post and returns Date and Decimal as strings, so it is not a correct cache for these
 * rows. `json: true` builds that default anyway, for a reference row on the User payload only.
 */
export function withPrismaExtensionRedis(base: BasePrisma, redis: Redis, prefix: string, json = false) {
  const serializer = createSerializer()
  const extension = PrismaExtensionRedis({
    client: redis,
    config: {
      ttl: 3600,
      stale: 0,
      type: 'STRING',
      cacheKey: { prefix },
      auto: { invalidateOnWrite: true, ttl: 3600, stale: 0 },
      ...(json
        ? {}
        : {
            transformer: {
              serialize: (data: unknown) => serializer.stringify(data),
              deserialize: (data: unknown) => serializer.parse(data as string),
            },
          }),
    },
  })
  const { counter, apply } = readCounter()
  // The counter goes after: prisma-extension-redis is a query component, so a hit never calls query().
  // Its `$extends` result is typed `unknown` here (object-form defineExtension, see prisma.ts): the
  // few methods used are typed by hand.
  const prisma = apply(base.$extends(extension) as unknown as BasePrisma) as unknown as PerPrisma
  return { prisma, counter }
}

/** What the benchmark uses of a client extended with prisma-extension-redis. */
export type PerPrisma = BasePrisma & {
  cache(options: { key: string; value: unknown; ttl?: number; stale?: number }): Promise<unknown>
  uncache(options: { uncacheKeys: string[]; hasPattern?: boolean }): Promise<{ deleted: number }>
}
