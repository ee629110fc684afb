// Every read through the extension has the type the plain client gives the same call: each case
// runs one query on both and compares the awaited results.
import { describe, expectTypeOf, it } from 'vitest'
import type { Prisma, PrismaClient } from '../../generated/sqlite/client.ts'
import type { tieredCache } from '../../src/prisma/extension.ts'

declare const base: PrismaClient
declare const ext: ReturnType<typeof tieredCache>
const prisma = base.$extends(ext)

describe('array literals in arguments keep the result shape', () => {
  it('in: [...] with include', async () => {
    expectTypeOf(await prisma.user.findMany({ where: { id: { in: [1, 2] } }, include: { posts: true } })).toEqualTypeOf(
      await base.user.findMany({ where: { id: { in: [1, 2] } }, include: { posts: true } }),
    )
  })

  it('orderBy: [...] with include _count', async () => {
    expectTypeOf(
      await prisma.user.findMany({
        orderBy: [{ name: 'asc' }, { id: 'desc' }],
        include: { _count: { select: { posts: true } } },
      }),
    ).toEqualTypeOf(
      await base.user.findMany({
        orderBy: [{ name: 'asc' }, { id: 'desc' }],
        include: { _count: { select: { posts: true } } },
      }),
    )
  })

  it('AND, OR and NOT lists with a select of relations', async () => {
    expectTypeOf(
      await prisma.post.findFirst({
        where: { AND: [{ published: true }, { OR: [{ title: 'a' }, { title: 'b' }] }], NOT: [{ id: 3 }] },
        select: { title: true, author: { select: { email: true } }, tags: { where: { id: { in: [1] } } } },
      }),
    ).toEqualTypeOf(
      await base.post.findFirst({
        where: { AND: [{ published: true }, { OR: [{ title: 'a' }, { title: 'b' }] }], NOT: [{ id: 3 }] },
        select: { title: true, author: { select: { email: true } }, tags: { where: { id: { in: [1] } } } },
      }),
    )
  })

  it('distinct, cursor, take and a nested include', async () => {
    expectTypeOf(
      await prisma.post.findMany({
        distinct: ['title'],
        cursor: { id: 1 },
        take: 10,
        include: { comments: { include: { author: true }, orderBy: [{ id: 'asc' }] }, _count: true },
      }),
    ).toEqualTypeOf(
      await base.post.findMany({
        distinct: ['title'],
        cursor: { id: 1 },
        take: 10,
        include: { comments: { include: { author: true }, orderBy: [{ id: 'asc' }] }, _count: true },
      }),
    )
  })

  it('a relation filter with some and every', async () => {
    expectTypeOf(
      await prisma.user.findMany({
        where: { posts: { some: { id: { in: [1, 2] } }, every: { published: true } } },
        select: { email: true, profile: true },
      }),
    ).toEqualTypeOf(
      await base.user.findMany({
        where: { posts: { some: { id: { in: [1, 2] } }, every: { published: true } } },
        select: { email: true, profile: true },
      }),
    )
  })
})

describe('one record', () => {
  it('findUnique with select, include and omit', async () => {
    expectTypeOf(await prisma.user.findUnique({ where: { id: 1 }, select: { id: true, posts: true } })).toEqualTypeOf(
      await base.user.findUnique({ where: { id: 1 }, select: { id: true, posts: true } }),
    )
    expectTypeOf(
      await prisma.user.findUnique({ where: { email: 'a' }, include: { profile: true }, omit: { createdAt: true } }),
    ).toEqualTypeOf(
      await base.user.findUnique({ where: { email: 'a' }, include: { profile: true }, omit: { createdAt: true } }),
    )
  })

  it('findUniqueOrThrow and findFirstOrThrow are not nullable', async () => {
    expectTypeOf(
      await prisma.user.findUniqueOrThrow({ where: { id: 1 }, include: { posts: { where: { id: { in: [1] } } } } }),
    ).toEqualTypeOf(
      await base.user.findUniqueOrThrow({ where: { id: 1 }, include: { posts: { where: { id: { in: [1] } } } } }),
    )
    expectTypeOf(await prisma.membership.findFirstOrThrow({ where: { orgId: { in: [1] } } })).toEqualTypeOf(
      await base.membership.findFirstOrThrow({ where: { orgId: { in: [1] } } }),
    )
  })

  it('a compound unique key and scalar types (BigInt, Decimal, Bytes, Json)', async () => {
    expectTypeOf(
      await prisma.membership.findUnique({ where: { orgId_userId: { orgId: 1, userId: 2 } } }),
    ).toEqualTypeOf(await base.membership.findUnique({ where: { orgId_userId: { orgId: 1, userId: 2 } } }))
    expectTypeOf(await prisma.post.findFirst()).toEqualTypeOf(await base.post.findFirst())
  })
})

describe('count, aggregate and groupBy', () => {
  it('count, with and without select', async () => {
    expectTypeOf(await prisma.user.count()).toEqualTypeOf(await base.user.count())
    expectTypeOf(await prisma.user.count({ where: { id: { in: [1, 2] } } })).toEqualTypeOf(
      await base.user.count({ where: { id: { in: [1, 2] } } }),
    )
    expectTypeOf(await prisma.user.count({ select: { _all: true, name: true } })).toEqualTypeOf(
      await base.user.count({ select: { _all: true, name: true } }),
    )
    expectTypeOf(await prisma.user.count({ select: true })).toEqualTypeOf(await base.user.count({ select: true }))
  })

  it('aggregate with _sum, _avg, _count, _min and _max', async () => {
    expectTypeOf(
      await prisma.post.aggregate({
        where: { id: { in: [1, 2] } },
        _sum: { views: true, price: true },
        _avg: { views: true, price: true, id: true },
        _count: { _all: true, title: true },
        _min: { createdAt: true },
        _max: { title: true },
      }),
    ).toEqualTypeOf(
      await base.post.aggregate({
        where: { id: { in: [1, 2] } },
        _sum: { views: true, price: true },
        _avg: { views: true, price: true, id: true },
        _count: { _all: true, title: true },
        _min: { createdAt: true },
        _max: { title: true },
      }),
    )
    expectTypeOf(await prisma.post.aggregate({ _count: true, orderBy: [{ id: 'asc' }] })).toEqualTypeOf(
      await base.post.aggregate({ _count: true, orderBy: [{ id: 'asc' }] }),
    )
  })

  it('groupBy with by: [...]', async () => {
    expectTypeOf(
      await prisma.post.groupBy({ by: ['authorId', 'published'], _count: { _all: true }, _sum: { views: true } }),
    ).toEqualTypeOf(
      await base.post.groupBy({ by: ['authorId', 'published'], _count: { _all: true }, _sum: { views: true } }),
    )
    expectTypeOf(
      await prisma.post.groupBy({
        by: ['authorId'],
        _avg: { views: true },
        _count: true,
        having: { authorId: { in: [1] } },
        orderBy: [{ authorId: 'asc' }],
      }),
    ).toEqualTypeOf(
      await base.post.groupBy({
        by: ['authorId'],
        _avg: { views: true },
        _count: true,
        having: { authorId: { in: [1] } },
        orderBy: [{ authorId: 'asc' }],
      }),
    )
  })
})

describe('arguments held in variables', () => {
  it('satisfies keeps the same result', async () => {
    const args = {
      where: { id: { in: [1, 2] } },
      include: { posts: { select: { title: true } } },
    } satisfies Prisma.UserFindManyArgs
    expectTypeOf(await prisma.user.findMany(args)).toEqualTypeOf(await base.user.findMany(args))
  })

  it('typed as Prisma’s argument type, the result is the broad one Prisma gives', async () => {
    const args: Prisma.UserFindManyArgs = { where: { id: 1 } }
    expectTypeOf(await prisma.user.findMany(args)).toEqualTypeOf(await base.user.findMany(args))
  })
})

describe('Prisma’s generic helper pattern', () => {
  async function findUsers<T extends Prisma.UserFindManyArgs>(args: Prisma.SelectSubset<T, Prisma.UserFindManyArgs>) {
    return prisma.user.findMany(args)
  }
  async function findUser<T extends Prisma.UserFindUniqueArgs>(
    args: Prisma.SelectSubset<T, Prisma.UserFindUniqueArgs>,
  ) {
    return prisma.user.findUnique(args)
  }
  async function countUsers<T extends Prisma.UserCountArgs>(args: Prisma.Subset<T, Prisma.UserCountArgs>) {
    return prisma.user.count(args)
  }
  async function plainFindUsers<T extends Prisma.UserFindManyArgs>(
    args: Prisma.SelectSubset<T, Prisma.UserFindManyArgs>,
  ) {
    return base.user.findMany(args)
  }

  it('compiles and gives the plain client’s result', async () => {
    expectTypeOf(await findUsers({ include: { posts: true } })).toEqualTypeOf(
      await plainFindUsers({ include: { posts: true } }),
    )
    expectTypeOf(await findUser({ where: { id: 1 }, select: { email: true } })).toEqualTypeOf<{
      email: string
    } | null>()
    expectTypeOf(await countUsers({ where: { name: 'a' } })).toEqualTypeOf<number>()
  })

  it('still rejects a misspelt key at the helper', () => {
    // @ts-expect-error misspelt argument
    findUsers({ wher: { id: 1 } })
  })
})

describe('clients with more to their types', () => {
  it('a global omit is honoured', async () => {
    const omitting = {} as PrismaClient<never, { user: { email: true } }>
    const cached = omitting.$extends(ext)
    expectTypeOf(await cached.user.findFirst()).toEqualTypeOf(await omitting.user.findFirst())
    expectTypeOf(await cached.user.findMany({ omit: { email: false } })).toEqualTypeOf(
      await omitting.user.findMany({ omit: { email: false } }),
    )
    expectTypeOf(await cached.post.findFirst({ include: { author: true } })).toEqualTypeOf(
      await omitting.post.findFirst({ include: { author: true } }),
    )
  })

  it('computed fields of a result extension, under or over the cache', async () => {
    const computed = {
      result: { user: { label: { needs: { name: true }, compute: (u: { name: string | null }) => u.name ?? '' } } },
    }
    const plain = base.$extends(computed)
    const under = base.$extends(computed).$extends(ext)
    const over = base.$extends(ext).$extends(computed)
    expectTypeOf(await under.user.findFirstOrThrow()).toEqualTypeOf(await plain.user.findFirstOrThrow())
    expectTypeOf(await over.user.findFirstOrThrow()).toEqualTypeOf(await plain.user.findFirstOrThrow())
    expectTypeOf(await under.user.findMany({ select: { label: true } })).toEqualTypeOf(
      await plain.user.findMany({ select: { label: true } }),
    )
  })

  it('a batch transaction of cached reads has their tuple of results', async () => {
    const [user, count] = await prisma.$transaction([
      prisma.user.findUnique({ where: { id: 1 }, include: { posts: true }, cache: true }),
      prisma.user.count({ cache: true }),
    ])
    expectTypeOf(user).toEqualTypeOf(await base.user.findUnique({ where: { id: 1 }, include: { posts: true } }))
    expectTypeOf(count).toEqualTypeOf<number>()
  })
})

describe('the cache options beside array literals', () => {
  it('are accepted and still checked', () => {
    prisma.user.findMany({ where: { id: { in: [1, 2] } }, orderBy: [{ id: 'asc' }], cache: { ttl: 5, tags: ['u'] } })
    prisma.post.groupBy({ by: ['authorId'], cacheStrategy: { ttl: 5 } })
    // @ts-expect-error misspelt option
    prisma.user.findMany({ where: { id: { in: [1, 2] } }, cache: { tll: 5 } })
    // @ts-expect-error cacheStrategy has no key option
    prisma.post.groupBy({ by: ['authorId'], cacheStrategy: { key: 'k' } })
    // @ts-expect-error a misspelt argument of count
    prisma.user.count({ wher: {}, cache: true })
  })
})
