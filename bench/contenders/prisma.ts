import { READ_OPERATIONS } from '../../src/prisma/operations.ts'
import type { BasePrisma } from '../setup.ts'

/**
 * Counts the read queries that reach the database. Where it sits matters (PRISMA_OFFLINE.md: for
 * `base.$extends(X).$extends(Y)` X's hook runs first): under tieredCache it goes *before* the cache
 * (`base.$extends(counter).$extends(tieredCache())`), because tieredCache answers hits in its model
 * component and only calls its parent (where the counter is) to load; under a cache built as a
 * query component (prisma-extension-redis) it goes *after*, so that a hit never reaches it.
 */
export function readCounter() {
  const counter = { reads: 0, writes: 0 }
  /**
   * `client` with the counter applied, typed as the plain client (the counter adds no API, and the
   * extended type does not survive being returned: TypeScript then sees `unknown`).
   */
  const apply = (client: BasePrisma): BasePrisma =>
    client.$extends({
      name: 'bench:readCounter',
      query: {
        $allOperations({ operation, args, query }) {
          if (READ_OPERATIONS.has(operation)) counter.reads++
          else counter.writes++
          return query(args)
        },
      },
    }) as unknown as BasePrisma
  return { counter, apply }
}

/** The uncached reads every cache is compared with. */
export function uncachedReads(prisma: BasePrisma, userId: number, postId: number) {
  return {
    user: () => prisma.user.findUnique({ where: { id: userId } }),
    post: () => prisma.post.findUnique({ where: { id: postId } }),
  }
}
