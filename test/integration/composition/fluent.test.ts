import { afterAll, describe, expect, it } from 'vitest'
import { cachedInstance } from '../../support/cached.ts'
import { providers, Testbed } from '../../support/factory.ts'

/**
 * Prisma's fluent API (`prisma.user.findUnique({ where }).posts()`) through the extension: the
 * same results as the plain client, cached like any read, and invalidated by writes to the parent
 * record or to the relation's rows, on every instance.
 */
const bed = new Testbed()
afterAll(() => bed.cleanup())

/** A result extension over the cache: the fluent results carry its computed field too. */
const initial = {
  name: 'initial',
  result: { profile: { initial: { needs: { bio: true }, compute: (p: { bio: string }) => p.bio.charAt(0) } } },
} as const

/** The data of a result, without the proxy Prisma wraps results of result extensions in. */
const data = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

describe.each(providers)('the fluent API on %s', (provider) => {
  let seq = 0
  const email = () => `f${seq++}-${provider}@example.com`
  const instance = (setup?: Parameters<typeof cachedInstance>[3]) =>
    cachedInstance(bed, provider, { auto: true }, setup)

  /** An author with a profile and two posts, one with a comment by nobody, and a user with nothing. */
  async function seed(base: Awaited<ReturnType<typeof instance>>['base']) {
    const author = await base.user.create({
      data: {
        email: email(),
        name: 'Ada',
        profile: { create: { bio: 'math' } },
        posts: { create: [{ title: 'one', published: true }, { title: 'two' }] },
      },
      include: { posts: { orderBy: { id: 'asc' } } },
    })
    const first = author.posts[0]!
    const comment = await base.comment.create({ data: { body: 'hi', postId: first.id } })
    const loner = await base.user.create({ data: { email: email() } })
    return { author, first, comment, loner }
  }

  it('returns what the plain client returns, for every read of one record and a chain', async () => {
    const { prisma, base } = await instance()
    const { author, first, comment, loner } = await seed(base)
    const cases: Array<[string, () => PromiseLike<unknown>, () => PromiseLike<unknown>]> = [
      [
        'posts',
        () => prisma.user.findUnique({ where: { id: author.id } }).posts(),
        () => base.user.findUnique({ where: { id: author.id } }).posts(),
      ],
      [
        'posts with arguments',
        () =>
          prisma.user
            .findUnique({ where: { id: author.id } })
            .posts({ where: { published: true }, select: { title: true } }),
        () =>
          base.user
            .findUnique({ where: { id: author.id } })
            .posts({ where: { published: true }, select: { title: true } }),
      ],
      [
        'a missing record',
        () => prisma.user.findUnique({ where: { id: -1 } }).posts(),
        () => base.user.findUnique({ where: { id: -1 } }).posts(),
      ],
      [
        'a to-one relation',
        () => prisma.user.findUniqueOrThrow({ where: { id: author.id } }).profile(),
        () => base.user.findUniqueOrThrow({ where: { id: author.id } }).profile(),
      ],
      [
        'a missing to-one relation',
        () => prisma.user.findFirst({ where: { id: loner.id } }).profile(),
        () => base.user.findFirst({ where: { id: loner.id } }).profile(),
      ],
      [
        'a chain',
        () =>
          prisma.comment
            .findFirstOrThrow({ where: { id: comment.id } })
            .post()
            .author()
            .profile(),
        () =>
          base.comment
            .findFirstOrThrow({ where: { id: comment.id } })
            .post()
            .author()
            .profile(),
      ],
      [
        'a chain through a missing relation',
        () =>
          prisma.comment
            .findUnique({ where: { id: comment.id } })
            .author()
            .posts(),
        () =>
          base.comment
            .findUnique({ where: { id: comment.id } })
            .author()
            .posts(),
      ],
      [
        'a parent read with a select of its own',
        () =>
          prisma.post
            .findUnique({ where: { id: first.id }, select: { title: true } })
            .author({ select: { email: true } }),
        () =>
          base.post
            .findUnique({ where: { id: first.id }, select: { title: true } })
            .author({ select: { email: true } }),
      ],
    ]
    for (const [name, cached, plain] of cases) {
      const expected = await plain()
      expect(await cached(), name).toEqual(expected)
      expect(await cached(), `${name}, from the cache`).toEqual(expected)
    }
    expect(prisma.$cache.stats().hits).toBeGreaterThanOrEqual(cases.length)
  })

  it('an OrThrow read of a missing record rejects as the plain client does', async () => {
    const { prisma, base } = await instance()
    const plainError = await base.user
      .findUniqueOrThrow({ where: { id: -1 } })
      .posts()
      .catch((e: unknown) => e)
    await expect(prisma.user.findUniqueOrThrow({ where: { id: -1 } }).posts()).rejects.toMatchObject({
      code: (plainError as { code: string }).code,
    })
  })

  it('a repeated fluent read is a cache hit: no query reaches the database', async () => {
    const { prisma, base, counter } = await instance()
    const { author } = await seed(base)
    const read = () => prisma.user.findUnique({ where: { id: author.id } }).posts({ orderBy: { id: 'asc' } })
    const first = await read().withAccelerateInfo()
    expect(first.info.cacheStatus).toBe('miss')
    const queries = counter.count
    const again = await read().withAccelerateInfo()
    expect(again.info.cacheStatus).toBe('ttl')
    expect(again.data).toEqual(first.data)
    expect(counter.count).toBe(queries)
  })

  it('a write to the relation’s rows or the parent record on another instance evicts it', async () => {
    const a = await instance()
    const b = await instance()
    const { author, first, comment } = await seed(a.base)
    const posts = () => a.prisma.user.findUnique({ where: { id: author.id } }).posts({ orderBy: { id: 'asc' } })
    const plainPosts = () => a.base.user.findUnique({ where: { id: author.id } }).posts({ orderBy: { id: 'asc' } })
    const chained = () =>
      a.prisma.comment
        .findUnique({ where: { id: comment.id } })
        .post()
        .author()
    await posts()
    await chained()
    const queries = a.counter.count
    await posts()
    await chained()
    expect(a.counter.count).toBe(queries)

    let message = a.nextBusMessage()
    await b.prisma.post.create({ data: { title: 'three', authorId: author.id } })
    await message
    expect(await posts()).toEqual(await plainPosts())
    expect((await posts())?.map((p) => p.title)).toEqual(['one', 'two', 'three'])

    message = a.nextBusMessage()
    await b.prisma.post.update({ where: { id: first.id }, data: { title: 'renamed' } })
    await message
    expect(await posts()).toEqual(await plainPosts())

    message = a.nextBusMessage()
    await b.prisma.user.update({ where: { id: author.id }, data: { name: 'Grace' } })
    await message
    expect(await chained()).toMatchObject({ id: author.id, name: 'Grace' })
  })

  it('works in batch and interactive transactions, through the real query', async () => {
    const { prisma, base } = await instance()
    const { author } = await seed(base)
    const [posts, profile] = await prisma.$transaction([
      prisma.user.findUnique({ where: { id: author.id } }).posts(),
      prisma.user.findUniqueOrThrow({ where: { id: author.id } }).profile(),
    ])
    expect(posts).toEqual(await base.user.findUnique({ where: { id: author.id } }).posts())
    expect(profile).toEqual(await base.user.findUnique({ where: { id: author.id } }).profile())
    const inside = await prisma.$transaction(async (tx) => tx.user.findUnique({ where: { id: author.id } }).posts())
    expect(inside).toEqual(posts)
  })

  it('an uncached read keeps Prisma’s own fluent API', async () => {
    const { prisma, base, counter } = await instance()
    const { author } = await seed(base)
    const read = () => prisma.user.findUnique({ where: { id: author.id }, cache: false }).posts()
    expect(await read()).toEqual(await base.user.findUnique({ where: { id: author.id } }).posts())
    const queries = counter.count
    await read()
    expect(counter.count).toBe(queries + 1)
  })

  it('is cached through a chain with a result extension after tieredCache, which it applies', async () => {
    // The cache is then an inner query hook: the counter's hook runs before it, so count the loads.
    const { prisma, base } = await instance({ over: (cached) => cached.$extends(initial) as never })
    const { author } = await seed(base)
    const read = () => prisma.user.findUnique({ where: { id: author.id } }).profile()
    const expected = await base
      .$extends(initial)
      .user.findUnique({ where: { id: author.id } })
      .profile()
    expect(expected).toMatchObject({ initial: 'm' })
    expect(data(await read())).toEqual(data(expected))
    const loads = prisma.$cache.stats().loads
    const again = await read().withAccelerateInfo()
    expect(again.info.cacheStatus).toBe('ttl')
    expect(data(again.data)).toEqual(data(expected))
    expect(prisma.$cache.stats().loads).toBe(loads)
  })

  it('works, and is measured, with the metrics option', async () => {
    const { prisma, base } = await cachedInstance(bed, provider, { auto: true, metrics: true })
    const { author } = await seed(base)
    const want = await base.user.findUnique({ where: { id: author.id } }).posts()
    expect(await prisma.user.findUnique({ where: { id: author.id } }).posts()).toEqual(want)
    expect(await prisma.user.findUnique({ where: { id: author.id } }).posts()).toEqual(want)
    expect(prisma.$cache.metrics()).toMatch(/tiered_cache_read_duration_seconds_count\{outcome="l1_hit"\} [1-9]/)
  })
})
