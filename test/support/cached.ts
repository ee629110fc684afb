import { EventEmitter } from 'node:events'
import { tieredCache } from '../../src/prisma/extension.ts'
import type { TieredCacheOptions } from '../../src/prisma/options.ts'
import type { AnyPrisma, Provider, Testbed } from './factory.ts'

/** Counts the queries that reach the database: applied under the cache, it sees only misses and writes. */
export function countQueries(base: AnyPrisma) {
  const counter = { count: 0, operations: [] as string[] }
  const client = base.$extends({
    name: 'queryCounter',
    query: {
      $allOperations({ model, operation, args, query }) {
        counter.count++
        counter.operations.push(`${model ?? ''}.${operation}`)
        return query(args)
      },
    },
  })
  return { counter, client }
}

/** What else goes into one instance built by {@link cachedInstance}. */
export interface InstanceSetup {
  /**
   * Extends the base client before the counter and the cache: its query hooks run under the cache,
   * where the database is (a delay or a failure of the database, for race and fault tests).
   */
  readonly under?: (base: AnyPrisma) => AnyPrisma
  /** Extends the cached client: extensions an application applies after the cache. */
  readonly over?: (cached: AnyPrisma) => AnyPrisma
}

/**
 * One application instance: a PrismaClient on the testbed's database for `provider`, with a
 * query counter under the cache and the cache on top, sharing Redis with every other instance
 * made from the same testbed and provider.
 */
export async function cachedInstance(
  bed: Testbed,
  provider: Provider,
  options: TieredCacheOptions = {},
  setup: InstanceSetup = {},
) {
  const base = await bed.prisma(provider)
  const events = new EventEmitter()
  events.on('error', () => {})
  const { counter, client } = countQueries(setup.under ? setup.under(base) : base)
  const redis = options.redis === undefined ? bed.redis() : options.redis
  const extended = client.$extends(tieredCache({ prefix: `${bed.prefix}-${provider}`, events, ...options, redis }))
  const prisma = (setup.over ? setup.over(extended as unknown as AnyPrisma) : extended) as typeof extended
  bed.defer(() => prisma.$cache.close())
  await prisma.$cache.ready()
  /** Resolves at the next invalidation message this instance receives from another one. */
  // Not `events.once(emitter, name)`: that rejects on any 'error' event meanwhile (a store that timed out, say).
  const nextBusMessage = () => new Promise<unknown[]>((resolve) => events.once('bus', (...args) => resolve(args)))
  return { prisma, base: base as AnyPrisma, counter, events, nextBusMessage }
}

export type Instance = Awaited<ReturnType<typeof cachedInstance>>
