import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { Prisma as SqlitePrisma } from '../../../generated/sqlite/client.ts'
import { tieredCache } from '../../../src/prisma/extension.ts'
import { cachedInstance, type Instance } from '../../support/cached.ts'
import { providers, Testbed } from '../../support/factory.ts'

const bed = new Testbed()
afterAll(() => bed.cleanup())

describe.each(providers)('the extension on %s', (provider) => {
  let a: Instance
  let b: Instance
  let seq = 0

  beforeEach(async () => {
    a ??= await cachedInstance(bed, provider)
    b ??= await cachedInstance(bed, provider)
    await a.base.comment.deleteMany()
    await a.base.post.deleteMany()
    await a.base.tag.deleteMany()
    await a.base.user.deleteMany()
    await a.base.membership.deleteMany()
    await a.prisma.$cache.clear()
    a.counter.count = 0
    b.counter.count = 0
  })

  const email = () => `u${seq++}-${provider}@example.com`
  const newUser = (name = 'Ada') => a.base.user.create({ data: { email: email(), name } })

  it('answers a repeated findUnique from the cache without a database query', async () => {
    const user = await newUser()
    const first = await a.prisma.user.findUnique({ where: { id: user.id }, cache: true })
    const second = await a.prisma.user.findUnique({ where: { id: user.id }, cache: true })
    expect(second).toEqual(user)
    expect(first).toEqual(user)
    expect(a.counter.count).toBe(1)
    expect(a.prisma.$cache.stats()).toMatchObject({ hits: 1, misses: 1, loads: 1 })
  })

  it('reads without a cache option go to the database every time', async () => {
    const user = await newUser()
    await a.prisma.user.findUnique({ where: { id: user.id } })
    await a.prisma.user.findUnique({ where: { id: user.id } })
    expect(a.counter.count).toBe(2)
  })

  it('a caller that mutates a cached result does not change what the next caller gets', async () => {
    const user = await newUser()
    const first = await a.prisma.user.findUnique({ where: { id: user.id }, cache: true })
    first!.name = 'changed'
    first!.createdAt.setFullYear(1999)
    const second = await a.prisma.user.findUnique({ where: { id: user.id }, cache: true })
    expect(second).toEqual(user)
  })

  it('an update of user 1 evicts user 1 and keeps the cached user 2 (precision)', async () => {
    const one = await newUser('one')
    const two = await newUser('two')
    await a.prisma.user.findUnique({ where: { id: one.id }, cache: true })
    await a.prisma.user.findUnique({ where: { id: two.id }, cache: true })
    await a.prisma.user.update({ where: { id: one.id }, data: { name: 'uno' } })
    a.counter.count = 0
    expect((await a.prisma.user.findUnique({ where: { id: one.id }, cache: true }))?.name).toBe('uno')
    expect((await a.prisma.user.findUnique({ where: { id: two.id }, cache: true }))?.name).toBe('two')
    expect(a.counter.count).toBe(1)
  })

  it('a findUnique by email is evicted by an update of that record by id', async () => {
    const user = await newUser('before')
    await a.prisma.user.findUnique({ where: { email: user.email }, cache: true })
    await a.prisma.user.update({ where: { id: user.id }, data: { name: 'after' } })
    expect((await a.prisma.user.findUnique({ where: { email: user.email }, cache: true }))?.name).toBe('after')
  })

  it('a cached findUnique that found nothing is evicted by the create of that record', async () => {
    const address = email()
    expect(await a.prisma.user.findUnique({ where: { email: address }, cache: true })).toBeNull()
    await a.prisma.user.create({ data: { email: address } })
    expect(await a.prisma.user.findUnique({ where: { email: address }, cache: true })).not.toBeNull()
  })

  it('a findMany is evicted by a create, update or delete of its model', async () => {
    const user = await newUser()
    const list = () => a.prisma.user.findMany({ orderBy: { id: 'asc' }, cache: true })
    expect(await list()).toHaveLength(1)
    const other = await a.prisma.user.create({ data: { email: email() } })
    expect(await list()).toHaveLength(2)
    await a.prisma.user.update({ where: { id: user.id }, data: { name: 'x' } })
    expect((await list())[0]?.name).toBe('x')
    await a.prisma.user.delete({ where: { id: other.id } })
    expect(await list()).toHaveLength(1)
  })

  it('a read that includes a relation is evicted by a write to the related model', async () => {
    const user = await newUser()
    const read = () =>
      a.prisma.user.findUnique({ where: { id: user.id }, include: { posts: { orderBy: { id: 'asc' } } }, cache: true })
    expect((await read())?.posts).toHaveLength(0)
    await a.prisma.post.create({ data: { title: 'p', authorId: user.id } })
    expect((await read())?.posts).toHaveLength(1)
  })

  it('a relation filter and _count make a read depend on the related model', async () => {
    const user = await newUser()
    const withPosts = () => a.prisma.user.count({ where: { posts: { some: { published: true } } }, cache: true })
    const counted = () =>
      a.prisma.user.findUnique({ where: { id: user.id }, select: { _count: { select: { posts: true } } }, cache: true })
    expect(await withPosts()).toBe(0)
    expect((await counted())?._count.posts).toBe(0)
    await a.prisma.post.create({ data: { title: 'p', authorId: user.id, published: true } })
    expect(await withPosts()).toBe(1)
    expect((await counted())?._count.posts).toBe(1)
  })

  it('a nested write invalidates the models it touches', async () => {
    const user = await newUser()
    const posts = () => a.prisma.post.findMany({ orderBy: { id: 'asc' }, cache: true })
    expect(await posts()).toHaveLength(0)
    await a.prisma.user.update({
      where: { id: user.id },
      data: { posts: { create: [{ title: 'a', tags: { create: { name: `t${seq++}` } } }] } },
    })
    expect(await posts()).toHaveLength(1)
    expect(await a.prisma.tag.count({ cache: true })).toBe(1)
  })

  it('deleting a user cascades to the cached posts, comments and profile that referential actions change', async () => {
    const user = await a.base.user.create({
      data: { email: email(), profile: { create: { bio: 'b' } }, posts: { create: { title: 'p' } } },
      include: { posts: true },
    })
    const commenter = await newUser('commenter')
    const post = user.posts[0]!
    const comment = await a.base.comment.create({ data: { body: 'c', postId: post.id, authorId: commenter.id } })
    const other = await a.base.post.create({ data: { title: 'other', authorId: commenter.id } })
    const byCommenter = await a.base.comment.create({ data: { body: 'd', postId: other.id, authorId: user.id } })

    expect(await a.prisma.post.findUnique({ where: { id: post.id }, cache: true })).not.toBeNull()
    expect(await a.prisma.comment.findUnique({ where: { id: comment.id }, cache: true })).not.toBeNull()
    expect(await a.prisma.profile.findUnique({ where: { userId: user.id }, cache: true })).not.toBeNull()
    expect((await a.prisma.comment.findUnique({ where: { id: byCommenter.id }, cache: true }))?.authorId).toBe(user.id)

    await a.prisma.user.delete({ where: { id: user.id } })

    expect(await a.prisma.post.findUnique({ where: { id: post.id }, cache: true })).toBeNull()
    expect(await a.prisma.comment.findUnique({ where: { id: comment.id }, cache: true })).toBeNull()
    expect(await a.prisma.profile.findUnique({ where: { userId: user.id }, cache: true })).toBeNull()
    expect((await a.prisma.comment.findUnique({ where: { id: byCommenter.id }, cache: true }))?.authorId).toBeNull()
  })

  it('updateMany and deleteMany invalidate every cached record of the model', async () => {
    const one = await newUser('one')
    await a.prisma.user.findUnique({ where: { id: one.id }, cache: true })
    await a.prisma.user.updateMany({ where: { name: 'one' }, data: { name: 'many' } })
    expect((await a.prisma.user.findUnique({ where: { id: one.id }, cache: true }))?.name).toBe('many')
    await a.prisma.user.deleteMany({ where: { name: 'many' } })
    expect(await a.prisma.user.findUnique({ where: { id: one.id }, cache: true })).toBeNull()
  })

  it('a raw write invalidates every model', async () => {
    const user = await newUser('raw')
    await a.prisma.user.findUnique({ where: { id: user.id }, cache: true })
    await a.prisma.$executeRawUnsafe(`UPDATE "User" SET "name" = 'rawed' WHERE "id" = ${user.id}`)
    expect((await a.prisma.user.findUnique({ where: { id: user.id }, cache: true }))?.name).toBe('rawed')
  })

  it('findUniqueOrThrow throws Prisma’s own not-found error on a cached empty result', async () => {
    const read = () => a.prisma.user.findUniqueOrThrow({ where: { id: 987_654 }, cache: true })
    const uncached = await a.base.user.findUniqueOrThrow({ where: { id: 987_654 } }).catch((e: unknown) => e)
    await expect(read()).rejects.toBeInstanceOf(SqlitePrisma.PrismaClientKnownRequestError)
    a.counter.count = 0
    const cached = await read().catch((e: unknown) => e)
    expect(a.counter.count).toBe(0)
    expect(cached).toBeInstanceOf(SqlitePrisma.PrismaClientKnownRequestError)
    const shape = (e: unknown) => {
      const { code, meta, clientVersion, message } = e as SqlitePrisma.PrismaClientKnownRequestError
      return { code, meta, clientVersion, reason: message.slice(message.lastIndexOf('\n') + 1) }
    }
    expect(shape(cached)).toEqual(shape(uncached))
  })

  it('argument key order does not matter, and a Date never collides with its ISO string', async () => {
    const user = await newUser()
    await a.prisma.user.findFirst({
      where: { id: user.id, name: 'Ada' },
      select: { id: true, name: true },
      cache: true,
    })
    a.counter.count = 0
    await a.prisma.user.findFirst({
      select: { name: true, id: true },
      where: { name: 'Ada', id: user.id },
      cache: true,
    })
    expect(a.counter.count).toBe(0)
    const at = new Date('2020-01-01T00:00:00.000Z')
    expect(await a.prisma.user.count({ where: { createdAt: { gt: at } }, cache: true })).toBe(1)
    expect(await a.prisma.user.count({ where: { name: at.toISOString() }, cache: true })).toBe(0)
  })

  it('cache: false bypasses the cache even under auto and model policies', async () => {
    const auto = await cachedInstance(bed, provider, { auto: true })
    const user = await newUser()
    await auto.prisma.user.findUnique({ where: { id: user.id } })
    await auto.prisma.user.findUnique({ where: { id: user.id } })
    expect(auto.counter.count).toBe(1)
    await auto.prisma.user.findUnique({ where: { id: user.id }, cache: false })
    expect(auto.counter.count).toBe(2)
  })

  it('a model policy caches that model’s reads and false keeps a model out under auto', async () => {
    const policy = await cachedInstance(bed, provider, { auto: true, models: { Post: false, Tag: { ttl: 5 } } })
    const user = await newUser()
    await policy.prisma.post.findMany({ where: { authorId: user.id } })
    await policy.prisma.post.findMany({ where: { authorId: user.id } })
    expect(policy.counter.count).toBe(2)
    await policy.prisma.tag.findMany()
    await policy.prisma.tag.findMany()
    expect(policy.counter.count).toBe(3)
  })

  it('accepts Accelerate’s cacheStrategy and $accelerate.invalidate by tag', async () => {
    const user = await newUser()
    const read = () =>
      a.prisma.user.findUnique({ where: { id: user.id }, cacheStrategy: { ttl: 60, swr: 30, tags: ['users'] } })
    await read()
    await read()
    expect(a.counter.count).toBe(1)
    await a.base.user.update({ where: { id: user.id }, data: { name: 'behind the cache' } })
    expect((await read())?.name).toBe('Ada')
    const { requestId } = await a.prisma.$accelerate.invalidate({ tags: ['users'] })
    expect(requestId).toBeTypeOf('string')
    expect((await read())?.name).toBe('behind the cache')
  })

  it('withAccelerateInfo reports a miss, then a hit, and none for an uncached read', async () => {
    const user = await newUser()
    const read = () => a.prisma.user.findUnique({ where: { id: user.id }, cacheStrategy: { ttl: 60 } })
    const first = await read().withAccelerateInfo()
    const second = await read().withAccelerateInfo()
    expect(first.data).toEqual(user)
    expect(first.info.cacheStatus).toBe('miss')
    expect(second.info.cacheStatus).toBe('ttl')
    expect(second.info.signature).toBe(first.info.signature)
    const plain = await a.prisma.user.findUnique({ where: { id: user.id } }).withAccelerateInfo()
    expect(plain).toMatchObject({ data: user, info: { cacheStatus: 'none' } })
  })

  it('$cache.invalidate by tags, models and keys removes exactly those entries', async () => {
    const user = await newUser()
    const tagged = () => a.prisma.user.findUnique({ where: { id: user.id }, cache: { tags: ['t1'] } })
    const keyed = () => a.prisma.user.count({ cache: { key: 'user-count' } })
    const listed = () => a.prisma.user.findMany({ orderBy: { id: 'asc' }, cache: true })
    await Promise.all([tagged(), keyed(), listed()])
    await a.base.user.update({ where: { id: user.id }, data: { name: 'behind' } })
    await a.base.user.create({ data: { email: email() } })
    await a.prisma.$cache.invalidate({ tags: ['t1'] })
    expect((await tagged())?.name).toBe('behind')
    expect(await keyed()).toBe(1)
    await a.prisma.$cache.invalidate({ keys: ['user-count'] })
    expect(await keyed()).toBe(2)
    expect(await listed()).toHaveLength(1)
    await a.prisma.$cache.invalidate({ models: ['User'] })
    expect(await listed()).toHaveLength(2)
  })

  it('$cache.wrap caches any function and is invalidated by the models it names', async () => {
    await newUser()
    let calls = 0
    const raw = () =>
      a.prisma.$cache.wrap(
        'raw-count',
        async () => {
          calls++
          const rows = await a.prisma.$queryRawUnsafe<Array<{ n: unknown }>>('SELECT COUNT(*) AS n FROM "User"')
          return Number(rows[0]?.n)
        },
        { models: ['User'] },
      )
    expect(await raw()).toBe(1)
    expect(await raw()).toBe(1)
    expect(calls).toBe(1)
    await a.prisma.user.create({ data: { email: email() } })
    expect(await raw()).toBe(2)
  })

  it('reads inside a batch transaction go to the database and the batch completes', async () => {
    const user = await newUser()
    await a.prisma.user.findUnique({ where: { id: user.id }, cache: true })
    a.counter.count = 0
    const [read, updated] = await a.prisma.$transaction([
      a.prisma.user.findUnique({ where: { id: user.id }, cache: true }),
      a.prisma.user.update({ where: { id: user.id }, data: { name: 'batched' } }),
    ])
    expect(read?.name).toBe('Ada')
    expect(updated.name).toBe('batched')
    expect(a.counter.count).toBe(2)
    expect((await a.prisma.user.findUnique({ where: { id: user.id }, cache: true }))?.name).toBe('batched')
  })

  it('reads inside an interactive transaction go to the database and fill nothing', async () => {
    const user = await newUser()
    const setsBefore = a.prisma.$cache.stats().sets
    await a.prisma.$transaction(async (tx) => {
      await tx.user.findUnique({ where: { id: user.id }, cache: true })
      await tx.user.findUnique({ where: { id: user.id }, cache: true })
    })
    expect(a.counter.count).toBe(2)
    expect(a.prisma.$cache.stats().sets).toBe(setsBefore)
  })

  it('an interactive transaction invalidates after commit', async () => {
    const user = await newUser()
    await a.prisma.user.findUnique({ where: { id: user.id }, cache: true })
    await a.prisma.$transaction(async (tx) => {
      await tx.user.update({ where: { id: user.id }, data: { name: 'committed' } })
      // Not yet committed: another reader still sees the old row, and the cache still holds it.
      expect((await a.prisma.user.findUnique({ where: { id: user.id }, cache: true }))?.name).toBe('Ada')
    })
    expect((await a.prisma.user.findUnique({ where: { id: user.id }, cache: true }))?.name).toBe('committed')
  })

  it('a write inside a rolled-back transaction invalidates nothing', async () => {
    const user = await newUser()
    await a.prisma.user.findUnique({ where: { id: user.id }, cache: true })
    const before = a.prisma.$cache.stats().invalidations
    await expect(
      a.prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id: user.id }, data: { name: 'rolled back' } })
        throw new Error('abort')
      }),
    ).rejects.toThrow('abort')
    expect(a.prisma.$cache.stats().invalidations).toBe(before)
    a.counter.count = 0
    expect((await a.prisma.user.findUnique({ where: { id: user.id }, cache: true }))?.name).toBe('Ada')
    expect(a.counter.count).toBe(0)
  })

  it('a write on one instance is seen by the other instance once the bus delivers it', async () => {
    const user = await newUser()
    await b.prisma.user.findUnique({ where: { id: user.id }, cache: true })
    const delivered = b.nextBusMessage()
    await a.prisma.user.update({ where: { id: user.id }, data: { name: 'from a' } })
    await delivered
    expect((await b.prisma.user.findUnique({ where: { id: user.id }, cache: true }))?.name).toBe('from a')
  })

  it('rejects a bad per-query option at run time with a TypeError naming it', async () => {
    const bad = { where: { id: 1 }, cache: { ttl: -1 } }
    await expect(async () => a.prisma.user.findUnique(bad)).rejects.toThrow(/cache\.ttl/)
    const unknown = { where: { id: 1 }, cache: { tll: 5 } } as never
    await expect(async () => a.prisma.user.findUnique(unknown)).rejects.toThrow(TypeError)
  })
})

describe('tieredCache() options', () => {
  it('throws a TypeError naming a bad option when the extension is built', () => {
    expect(() => tieredCache({ ttl: -5 })).toThrow(/ttl/)
    expect(() => tieredCache({ l1: { max: 0 } })).toThrow(/l1\.max/)
    expect(() => tieredCache({ prefix: 'a b' })).toThrow(/prefix/)
    expect(() => tieredCache({ redis: 'http://x' })).toThrow(/redis/)
    expect(() => tieredCache({ nope: 1 } as never)).toThrow(TypeError)
  })
})
