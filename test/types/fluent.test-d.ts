// The fluent API through the extension has the types of the plain client's (`Prisma__UserClient`).
import { describe, expectTypeOf, it } from 'vitest'
import type { PrismaClient } from '../../generated/sqlite/client.ts'
import type { tieredCache } from '../../src/prisma/extension.ts'

declare const base: PrismaClient
declare const ext: ReturnType<typeof tieredCache>
const prisma = base.$extends(ext)

describe('the fluent API', () => {
  it('a list relation of a findUnique, with and without arguments', async () => {
    expectTypeOf(await prisma.user.findUnique({ where: { id: 1 } }).posts()).toEqualTypeOf(
      await base.user.findUnique({ where: { id: 1 } }).posts(),
    )
    expectTypeOf(
      await prisma.user
        .findUnique({ where: { id: 1 } })
        .posts({ where: { id: { in: [1, 2] } }, select: { title: true, tags: true }, orderBy: [{ id: 'asc' }] }),
    ).toEqualTypeOf(
      await base.user
        .findUnique({ where: { id: 1 } })
        .posts({ where: { id: { in: [1, 2] } }, select: { title: true, tags: true }, orderBy: [{ id: 'asc' }] }),
    )
  })

  it('to-one relations of every read of one record, chained', async () => {
    expectTypeOf(await prisma.user.findUniqueOrThrow({ where: { id: 1 } }).profile()).toEqualTypeOf(
      await base.user.findUniqueOrThrow({ where: { id: 1 } }).profile(),
    )
    expectTypeOf(await prisma.post.findFirst().author().profile()).toEqualTypeOf(
      await base.post.findFirst().author().profile(),
    )
    expectTypeOf(await prisma.comment.findFirstOrThrow().post().author().posts()).toEqualTypeOf(
      await base.comment.findFirstOrThrow().post().author().posts(),
    )
    expectTypeOf(
      await prisma.comment.findUnique({ where: { id: 1 } }).author({ include: { profile: true } }),
    ).toEqualTypeOf(await base.comment.findUnique({ where: { id: 1 } }).author({ include: { profile: true } }))
  })

  it('a cached read keeps it, and its results offer withAccelerateInfo', async () => {
    const posts = prisma.user.findUnique({ where: { id: 1 }, cache: { ttl: 5 } }).posts()
    expectTypeOf(await posts).toEqualTypeOf(await base.user.findUnique({ where: { id: 1 } }).posts())
    const { info } = await posts.withAccelerateInfo()
    expectTypeOf(info.cacheStatus).toEqualTypeOf<'ttl' | 'swr' | 'miss' | 'none'>()
  })

  it('honours a global omit', async () => {
    const omitting = {} as PrismaClient<never, { user: { email: true } }>
    expectTypeOf(await omitting.$extends(ext).post.findFirst().author()).toEqualTypeOf(
      await omitting.post.findFirst().author(),
    )
  })

  it('takes part in a batch transaction', async () => {
    const [posts] = await prisma.$transaction([prisma.user.findUnique({ where: { id: 1 } }).posts()])
    expectTypeOf(posts).toEqualTypeOf(await base.user.findUnique({ where: { id: 1 } }).posts())
  })

  it('is where Prisma has it, and checks its arguments', () => {
    const posts = prisma.user.findUnique({ where: { id: 1 } }).posts()
    // @ts-expect-error a list relation ends the chain
    posts.author()
    // @ts-expect-error findMany has no fluent API
    prisma.user.findMany().posts()
    // @ts-expect-error count has no fluent API
    prisma.user.count().posts()
    // @ts-expect-error a misspelt argument of the relation
    prisma.user.findUnique({ where: { id: 1 } }).posts({ wher: { id: 1 } })
    // @ts-expect-error the cache options belong to the read, not to the relation
    prisma.user.findUnique({ where: { id: 1 } }).posts({ cache: true })
  })
})
