import { describe, expectTypeOf, it } from 'vitest'
import type { PrismaClient } from '../../generated/sqlite/client.ts'
import type { CacheStats } from '../../src/cache/types.ts'
import type { tieredCache } from '../../src/prisma/extension.ts'

declare const base: PrismaClient
declare const ext: ReturnType<typeof tieredCache>
const prisma = base.$extends(ext)

describe('per-query cache options', () => {
  it('every read accepts cache and cacheStrategy', () => {
    prisma.user.findUnique({ where: { id: 1 }, cache: true })
    prisma.user.findUnique({
      where: { id: 1 },
      cache: { ttl: 5, swr: 5, tags: ['a'], key: 'k', policy: 'network-first' },
    })
    prisma.user.findUniqueOrThrow({ where: { id: 1 }, cache: false })
    prisma.user.findFirst({ cacheStrategy: { ttl: 60, swr: 10, tags: ['users'] } })
    prisma.user.findFirstOrThrow({ cache: true })
    prisma.user.findMany({ where: { name: 'a' }, cache: { ttl: 1 } })
    prisma.user.count({ cache: true })
    prisma.post.aggregate({ _sum: { views: true }, cache: true })
    prisma.post.groupBy({ by: ['authorId'], cache: true })
  })

  it('results keep their Prisma types', async () => {
    const user = await prisma.user.findUnique({ where: { id: 1 }, select: { email: true }, cache: true })
    expectTypeOf(user).toEqualTypeOf<{ email: string } | null>()
    const posts = await prisma.post.findMany({ include: { author: true }, cache: true })
    expectTypeOf(posts[0]!.author.email).toEqualTypeOf<string>()
    expectTypeOf(await prisma.user.count({ cache: true })).toEqualTypeOf<number>()
  })

  it('reads offer Accelerate’s withAccelerateInfo', async () => {
    const { data, info } = await prisma.user
      .findUnique({ where: { id: 1 }, cacheStrategy: { ttl: 1 } })
      .withAccelerateInfo()
    expectTypeOf(data).toEqualTypeOf<{ id: number; email: string; name: string | null; createdAt: Date } | null>()
    expectTypeOf(info.cacheStatus).toEqualTypeOf<'ttl' | 'swr' | 'miss' | 'none'>()
  })

  it('a misspelt key or a wrong type is a compile error', () => {
    // @ts-expect-error misspelt option
    prisma.user.findUnique({ where: { id: 1 }, cache: { tll: 5 } })
    // @ts-expect-error ttl is a number of seconds
    prisma.user.findMany({ cache: { ttl: '5' } })
    // @ts-expect-error unknown policy
    prisma.user.findMany({ cache: { policy: 'sometimes' } })
    // @ts-expect-error cacheStrategy has no key option
    prisma.user.findMany({ cacheStrategy: { key: 'k' } })
    // @ts-expect-error tags are strings
    prisma.user.findMany({ cache: { tags: [1] } })
    // @ts-expect-error a misspelt top-level argument
    prisma.user.findMany({ cahce: true })
  })

  it('write methods do not accept cache options', () => {
    // @ts-expect-error writes are never cached
    prisma.user.create({ data: { email: 'a' }, cache: true })
    // @ts-expect-error writes are never cached
    prisma.user.update({ where: { id: 1 }, data: {}, cacheStrategy: { ttl: 1 } })
  })
})

describe('$cache and $accelerate', () => {
  it('are typed', () => {
    expectTypeOf(prisma.$cache.stats()).toEqualTypeOf<CacheStats>()
    expectTypeOf(prisma.$cache.invalidate).parameter(0).toMatchTypeOf<{ tags?: readonly string[] }>()
    expectTypeOf(prisma.$accelerate.invalidate({ tags: ['a'] })).resolves.toEqualTypeOf<{ requestId: string }>()
    expectTypeOf(prisma.$cache.wrap('k', async () => 1)).resolves.toEqualTypeOf<number>()
  })

  it('keeps $transaction typed as Prisma types it', async () => {
    const result = await prisma.$transaction(async (tx) => tx.user.count())
    expectTypeOf(result).toEqualTypeOf<number>()
  })
})
