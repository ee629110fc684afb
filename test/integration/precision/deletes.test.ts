import { AsyncResource } from 'node:async_hooks'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cachedInstance, type Instance } from '../../support/cached.ts'
import { type AnyPrisma, providers, Testbed } from '../../support/factory.ts'
import { RedisServer } from '../../support/redis-server.ts'
import { type Pair, pair, type World } from './support.ts'

/**
 * A delete of one record reads the records it is linked to before it runs (tags/deleted-links.ts):
 * deleting an article evicts the lists and counts of its topics and of the members who favorited
 * it, not those of every topic and member. A link added between that read and the delete is seen
 * through the record's link tags, and the delete then evicts as widely as before.
 */
const bed = new Testbed()
afterAll(() => bed.cleanup())

/**
 * Under the cache: runs `then` when an article read by key has answered, before it returns. A
 * delete's first read goes through the client under the cache, as a load does, so `then` runs
 * between that read and the delete.
 */
const afterArticleRead = (then: () => Promise<void> | undefined) => (base: AnyPrisma) =>
  base.$extends({
    query: {
      article: {
        async findUnique({ args, query }) {
          const found = await query(args)
          await then()
          return found
        },
      },
    },
  }) as unknown as AnyPrisma

/** Resolves when `reader` hears another instance's write of this operation over the bus. */
const heardFrom = (reader: Instance, operation: string) =>
  new Promise<void>((resolve) => {
    const listener = (message: { cause?: { operation?: string } }) => {
      if (message.cause?.operation !== operation) return
      reader.events.off('bus', listener)
      resolve()
    }
    reader.events.on('bus', listener)
  })

describe.each(providers)('deletes that read their links first on %s', (provider) => {
  let p: Pair
  let w: World
  beforeAll(async () => {
    p = await pair(bed, provider)
  })
  // World: article 0 is in topic 0; article 1 in topics 0 and 1, favorited by member 0.
  const topicCount = (t: number) => (db: AnyPrisma) =>
    db.article.count({ where: { topics: { some: { name: w.topics[t]!.name } } } })
  const favoritedCount = (m: number) => (db: AnyPrisma) =>
    db.article.count({ where: { favoritedBy: { some: { username: w.m[m]!.username } } } })
  const unpublish = (a: number) => (db: AnyPrisma) => db.article.delete({ where: { slug: w.articles[a]!.slug } })

  it('deleting an article evicts the counts of its topics and of the members who favorited it, and keeps the others', async () => {
    for (const [read, write, want] of [
      [topicCount(0), unpublish(0), 'evicted'],
      [topicCount(1), unpublish(0), 'kept'],
      [favoritedCount(0), unpublish(0), 'kept'],
      [topicCount(1), unpublish(1), 'evicted'],
      [favoritedCount(0), unpublish(1), 'evicted'],
      [favoritedCount(2), unpublish(1), 'kept'],
    ] as const) {
      w = await p.world('delete-links')
      expect(await p.outcome(read, write)).toBe(want)
    }
  })

  it('deleting an article evicts the replies it cascades to, row by row, and keeps the replies of other articles', async () => {
    // World: reply 0 is on article 0 by member 1, reply 1 on article 1 by member 2.
    const repliesOf = (a: number) => (db: AnyPrisma) =>
      db.reply.findMany({ where: { articleId: w.articles[a]!.id }, orderBy: { id: 'asc' } })
    const repliesBySlug = (a: number) => (db: AnyPrisma) =>
      db.reply.findMany({ where: { article: { slug: w.articles[a]!.slug } }, orderBy: { id: 'asc' } })
    const repliesBy = (m: number) => (db: AnyPrisma) =>
      db.reply.findMany({ where: { authorId: w.m[m]!.id }, orderBy: { id: 'asc' } })
    for (const [read, want] of [
      [repliesOf(1), 'kept'],
      [repliesBySlug(1), 'kept'],
      [repliesBy(2), 'kept'],
      [repliesBy(1), 'evicted'],
      [repliesOf(0), 'evicted'],
    ] as const) {
      w = await p.world('delete-cascade')
      expect(await p.outcome(read, unpublish(0))).toBe(want)
    }
  })

  it('a delete inside a transaction, which reads nothing first, evicts the counts of every topic', async () => {
    w = await p.world('delete-tx')
    const inTransaction = (db: AnyPrisma) => db.$transaction(async (tx) => unpublish(0)(tx as AnyPrisma))
    expect(await p.outcome(topicCount(1), inTransaction)).toBe('evicted')
  })

  it('in process only (no Redis), a delete keeps the counts of other topics and sees a link added meanwhile', async () => {
    let between: (() => Promise<void>) | undefined
    const solo = await cachedInstance(
      bed,
      provider,
      { auto: true, redis: null },
      { under: afterArticleRead(() => between?.()) },
    )
    const db = solo.prisma as unknown as AnyPrisma
    const cached = async (read: (db: AnyPrisma) => Promise<unknown>) => {
      await read(db)
      const warm = solo.counter.count
      await read(db)
      expect(solo.counter.count, 'cached').toBe(warm)
    }
    const kept = async (read: (db: AnyPrisma) => Promise<unknown>) => {
      const before = solo.counter.count
      expect(await read(db)).toEqual(await read(solo.base))
      return solo.counter.count === before
    }
    w = await p.world('delete-solo')
    await cached(topicCount(1))
    await unpublish(0)(db)
    expect(await kept(topicCount(1)), 'a topic the article was not in').toBe(true)

    w = await p.world('delete-solo-race')
    // Run in the test's own async context: a write made inside the delete's would be taken as a
    // part of it (its tags invalidated with the delete's).
    const link = AsyncResource.bind(async () => {
      await db.article.update({
        where: { id: w.articles[0]!.id },
        data: { topics: { connect: { id: w.topics[1]!.id } } },
      })
    })
    const warm = AsyncResource.bind(() => cached(topicCount(1)))
    between = async () => {
      between = undefined
      await link()
      await warm()
    }
    await unpublish(0)(db)
    expect(between).toBeUndefined()
    expect(await kept(topicCount(1)), 'the topic linked meanwhile').toBe(false)
  })

  it('while Redis is down (its breaker open), a delete still works and reads nothing first', async () => {
    const server = await RedisServer.start()
    bed.defer(() => server.stop())
    const solo = await cachedInstance(bed, provider, { auto: true, redis: server.url })
    const db = solo.prisma as unknown as AnyPrisma
    const readsFirst = async (a: number) => {
      const from = solo.counter.operations.length
      await unpublish(a)(db)
      return solo.counter.operations.slice(from).includes('Article.findUnique')
    }
    w = await p.world('delete-down')
    expect(await readsFirst(0), 'with Redis up').toBe(true)
    const opened = new Promise<void>((resolve) => solo.events.once('breaker:open', () => resolve()))
    await server.stop()
    for (let i = 0; i < 5; i++) await db.member.findUnique({ where: { id: w.m[i % 4]!.id + 1_000_000 * (i + 1) } })
    await opened
    expect(await readsFirst(1), 'with the breaker open').toBe(false)
  })

  it('a favorite added between the read and an unfavorite of the same pair is seen, and the unfavorite evicts', async () => {
    let between: (() => Promise<void>) | undefined
    const reader = p.a
    const writer = await cachedInstance(bed, provider, { auto: true }, { under: afterArticleRead(() => between?.()) })
    w = await p.world('unfav-race')
    const favorites = (db: AnyPrisma) =>
      db.article.findUnique({ where: { slug: w.articles[0]!.slug }, include: { favoritedBy: true } })
    const onReader = reader.prisma as unknown as AnyPrisma
    const heard = (operation: string) => heardFrom(reader, operation)
    between = async () => {
      between = undefined
      // Another instance makes member 2 favorite article 0; the reader caches the article with it.
      const linked = heard('update')
      await (p.b.prisma as unknown as AnyPrisma).article.update({
        where: { id: w.articles[0]!.id },
        data: { favoritedBy: { connect: { id: w.m[2]!.id } } },
      })
      await linked
      await favorites(onReader)
      const warm = reader.counter.count
      await favorites(onReader)
      expect(reader.counter.count, 'cached with the new favorite').toBe(warm)
      // The next update the reader hears is the unfavorite's.
      delivered = heard('update')
    }
    let delivered: Promise<void> | undefined
    const onWriter = writer.prisma as unknown as AnyPrisma
    await onWriter.article.update({
      where: { slug: w.articles[0]!.slug },
      data: { favoritedBy: { disconnect: { id: w.m[2]!.id } } },
    })
    // An unfavorite taken for a change of nothing would send no message: this write's comes after it.
    await onWriter.member.update({ where: { id: w.m[3]!.id }, data: { bio: 'later' } })
    await delivered
    expect(between).toBeUndefined()
    const before = reader.counter.count
    expect(await favorites(onReader)).toEqual(await favorites(reader.base))
    expect(reader.counter.count, 'evicted').toBe(before + 1)
  })

  /**
   * Runs `meanwhile` (another instance's write, and a read the reader caches after it) when a delete
   * of article 0 has read what it removes, before the delete runs; then the read must be evicted and
   * equal the database. The read goes through the client under the cache, as a load does.
   */
  async function race(meanwhile: (other: AnyPrisma) => Promise<unknown>, read: (db: AnyPrisma) => Promise<unknown>) {
    const reader = p.a
    let between: (() => Promise<void>) | undefined
    const heard = (operation: string) => heardFrom(reader, operation)
    const deleter = await cachedInstance(bed, provider, { auto: true }, { under: afterArticleRead(() => between?.()) })
    const onReader = reader.prisma as unknown as AnyPrisma
    between = async () => {
      between = undefined
      const written = heard('create').then(() => 'create')
      const updated = heard('update').then(() => 'update')
      await meanwhile(p.b.prisma as unknown as AnyPrisma)
      await Promise.race([written, updated])
      await read(onReader)
      const warm = reader.counter.count
      await read(onReader)
      expect(reader.counter.count, 'the read after the other write is cached').toBe(warm)
    }
    const delivered = heard('delete')
    await unpublish(0)(deleter.prisma as unknown as AnyPrisma)
    await delivered
    expect(between, 'the other write ran between the read and the delete').toBeUndefined()
    const before = reader.counter.count
    expect(await read(onReader)).toEqual(await read(reader.base))
    expect(reader.counter.count, 'the read was evicted').toBe(before + 1)
  }

  it('a link added between the read and the delete is seen, and the delete evicts every topic count', async () => {
    w = await p.world('delete-race')
    await race(
      (other) =>
        other.article.update({
          where: { id: w.articles[0]!.id },
          data: { topics: { connect: { id: w.topics[1]!.id } } },
        }),
      topicCount(1),
    )
  })

  it('a reply added between the read and the delete is seen, and the delete evicts every reply list', async () => {
    w = await p.world('delete-race-reply')
    await race(
      (other) => other.reply.create({ data: { body: 'late', articleId: w.articles[0]!.id, authorId: w.m[3]!.id } }),
      (db) => db.reply.findMany({ where: { authorId: w.m[3]!.id }, orderBy: { id: 'asc' } }),
    )
  })
})
