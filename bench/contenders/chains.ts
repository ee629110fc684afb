import type { Redis } from 'ioredis'
import { passThrough } from '../../test/support/extensions.ts'
import type { BasePrisma } from '../setup.ts'
import { type TieredPrisma, withTieredCache } from './tiered-cache.ts'

/**
 * tieredCache in the middle of an extension chain, as applications stack them:
 * `base.$extends(passThrough).$extends(tieredCache(...)).$extends(after)`. The extension before the
 * cache is a query extension that passes every operation on (it only sits under the cache's loads).
 * After the cache, a model extension keeps hits on the model method's fast path; a result
 * extension changes what a read returns, so its reads are cached in an inner query hook, under
 * Prisma's request pipeline (docs/design.md, "Extension chains").
 */
export type After = 'model' | 'result'

/** A model extension: a method on every model, which a read does not pass through. */
const modelExtension = {
  name: 'bench:exists',
  model: {
    $allModels: {
      async exists<T>(this: T, where: object): Promise<boolean> {
        const delegate = this as { count(args: object): Promise<number> }
        return (await delegate.count({ where })) > 0
      },
    },
  },
}

/** A result extension: a computed field of a User. */
const resultExtension = {
  name: 'bench:initials',
  result: { user: { initials: { needs: { name: true }, compute: (u: { name: string }) => u.name.slice(0, 2) } } },
}

export function withChainedTieredCache(base: BasePrisma, redis: Redis | null, prefix: string, after: After) {
  const before = base.$extends(passThrough) as unknown as BasePrisma
  const { prisma, counter } = withTieredCache(before, redis, { prefix })
  const extended = (prisma as unknown as BasePrisma).$extends(after === 'model' ? modelExtension : resultExtension)
  return { prisma: extended as unknown as TieredPrisma, counter }
}
