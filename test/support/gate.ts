import { READ_OPERATIONS } from '../../src/prisma/operations.ts'
import { deferred } from '../unit/cache/support.ts'
import type { AnyPrisma } from './factory.ts'

/**
 * A slow or failing database, placed under the cache with `cachedInstance(..., { under })`.
 *
 * `hold()` arms a one-shot gate: the next read runs its query, then waits (so it returns what the
 * database held when it ran, late); `reached` resolves once that query has run, `release()` lets
 * the read return. `fail(error)` makes every read throw until `recover()`.
 */
export function databaseUnderCache() {
  let armed: { reached: () => void; gate: Promise<void> } | undefined
  let failure: Error | undefined
  const under = (base: AnyPrisma) =>
    base.$extends({
      name: 'databaseUnderCache',
      query: {
        $allModels: {
          async $allOperations({ operation, args, query }) {
            if (!READ_OPERATIONS.has(operation)) return query(args)
            if (failure) throw failure
            const result = await query(args)
            const held = armed
            if (held) {
              armed = undefined
              held.reached()
              await held.gate
            }
            return result
          },
        },
      },
    }) as unknown as AnyPrisma
  return {
    under,
    hold() {
      const reached = deferred()
      const gate = deferred()
      armed = { reached: () => reached.resolve(), gate: gate.promise }
      return { reached: reached.promise, release: () => gate.resolve() }
    },
    fail(error = new Error('the database is down')) {
      failure = error
    },
    recover() {
      failure = undefined
    },
  }
}
