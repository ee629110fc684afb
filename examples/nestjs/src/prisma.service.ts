import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { tieredCache } from 'tiered-cache'
import { PrismaClient } from './generated/prisma/client'

function createClient() {
  const adapter = new PrismaBetterSqlite3({ url: process.env.DATABASE_URL ?? 'file:./dev.db' })
  return new PrismaClient({ adapter }).$extends(
    tieredCache({ redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: process.env.CACHE_PREFIX }),
  )
}

/** The client type with the cache's query options (`cache: { ttl }`) and `$cache`. */
export type CachedPrismaClient = ReturnType<typeof createClient>

/**
 * Holds the extended client rather than extending `PrismaClient`: `$extends` returns a new object,
 * which a subclass cannot be. Inject it and use `prisma.client.user...`.
 */
@Injectable()
export class PrismaService implements OnModuleInit, OnModuleDestroy {
  readonly client: CachedPrismaClient = createClient()

  /** Waits for Redis and the bus, so the first requests already use L2 (optional: reads work before). */
  async onModuleInit(): Promise<void> {
    await this.client.$cache.ready()
  }

  /**
   * `app.close()` and, with `app.enableShutdownHooks()`, SIGTERM land here. Closing the cache ends
   * the Redis connections and the bus subscriber it opened; without it they keep the process alive.
   */
  async onModuleDestroy(): Promise<void> {
    await this.client.$cache.close()
    await this.client.$disconnect()
  }
}
