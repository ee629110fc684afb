import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AnyPrisma, providers, Testbed } from '../../support/factory.ts'
import { type Pair, pair, type World } from './support.ts'

/**
 * The first row: connect, disconnect and set on an implicit or explicit many-to-many
 * (favorite, follow, topics) evict the reads that include, count or filter by that relation on
 * either linked record, and lists of either side's linked records; they keep reads of other
 * records and their relations, lists the link cannot change, and reads of the same records that
 * do not include the relation.
 */
const bed = new Testbed()
afterAll(() => bed.cleanup())

describe.each(providers)('many-to-many links on %s', (provider) => {
  let p: Pair
  let w: World
  beforeAll(async () => {
    p = await pair(bed, provider)
  })
  const favorite = (db: AnyPrisma) =>
    db.article.update({ where: { slug: w.articles[0]!.slug }, data: { favoritedBy: { connect: { id: w.m[2]!.id } } } })

  it('a favorite evicts the favorites of that article and of that member, by any key, included, counted or filtered', async () => {
    const reads = [
      (db: AnyPrisma) =>
        db.article.findUnique({
          where: { slug: w.articles[0]!.slug },
          include: { _count: { select: { favoritedBy: true } } },
        }),
      (db: AnyPrisma) => db.article.findUnique({ where: { id: w.articles[0]!.id }, include: { favoritedBy: true } }),
      (db: AnyPrisma) => db.member.findUnique({ where: { username: w.m[2]!.username }, include: { favorites: true } }),
      (db: AnyPrisma) =>
        db.article.findMany({ where: { favoritedBy: { some: { id: w.m[2]!.id } } }, orderBy: { id: 'asc' } }),
      (db: AnyPrisma) =>
        db.article.findMany({
          where: { authorId: w.m[0]!.id },
          orderBy: { id: 'asc' },
          include: { _count: { select: { favoritedBy: true } } },
        }),
    ]
    for (const read of reads) {
      w = await p.world('fav-evict')
      expect(await p.outcome(read, favorite)).toBe('evicted')
    }
  })

  it('a favorite keeps other articles and their favorites, the same article without them, and lists it cannot change', async () => {
    const reads = [
      (db: AnyPrisma) =>
        db.article.findUnique({
          where: { slug: w.articles[1]!.slug },
          include: { favoritedBy: true, _count: { select: { favoritedBy: true } }, author: true },
        }),
      (db: AnyPrisma) =>
        db.article.findUnique({ where: { slug: w.articles[0]!.slug }, include: { author: true, topics: true } }),
      (db: AnyPrisma) => db.member.findUnique({ where: { id: w.m[2]!.id }, include: { followedBy: true } }),
      (db: AnyPrisma) => db.member.findUnique({ where: { id: w.m[0]!.id }, include: { favorites: true } }),
      (db: AnyPrisma) =>
        db.article.findMany({ where: { favoritedBy: { some: { id: w.m[0]!.id } } }, orderBy: { id: 'asc' } }),
      (db: AnyPrisma) => db.article.findMany({ where: { authorId: w.m[0]!.id }, orderBy: { id: 'asc' } }),
      (db: AnyPrisma) =>
        db.article.findMany({
          where: { authorId: w.m[1]!.id },
          include: { favoritedBy: true, _count: { select: { favoritedBy: true } } },
        }),
    ]
    for (const read of reads) {
      w = await p.world('fav-keep')
      expect(await p.outcome(read, favorite)).toBe('kept')
    }
  })

  it('a favorite naming the member by id keeps the lists and counts of other members named by username, and evicts its own', async () => {
    const byUsername = (i: number) => ({ favoritedBy: { some: { username: w.m[i]!.username } } })
    const list = (i: number) => (db: AnyPrisma) =>
      db.article.findMany({ where: byUsername(i), orderBy: { id: 'asc' }, take: 10 })
    const count = (i: number) => (db: AnyPrisma) => db.article.count({ where: byUsername(i) })
    for (const [read, outcome] of [
      [list(0), 'kept'],
      [count(0), 'kept'],
      [list(2), 'evicted'],
      [count(2), 'evicted'],
    ] as const) {
      w = await p.world('fav-username')
      expect(await p.outcome(read, favorite)).toBe(outcome)
    }
  })

  it('a favorite inside a transaction, whose member it cannot look up, evicts the lists of every member by username', async () => {
    w = await p.world('fav-tx')
    const read = (db: AnyPrisma) =>
      db.article.count({ where: { favoritedBy: { some: { username: w.m[0]!.username } } } })
    const inTransaction = (db: AnyPrisma) => db.$transaction(async (tx) => favorite(tx as AnyPrisma))
    expect(await p.outcome(read, inTransaction)).toBe('evicted')
  })

  it('an unfavorite of an article the member had not favorited changes nothing, and keeps both sides', async () => {
    // World: member 0 favorited article 1 only.
    const unfavorite = (article: number) => (db: AnyPrisma) =>
      db.article.update({
        where: { slug: w.articles[article]!.slug },
        data: { favoritedBy: { disconnect: { id: w.m[0]!.id } } },
      })
    const article = (a: number) => (db: AnyPrisma) =>
      db.article.findUnique({ where: { slug: w.articles[a]!.slug }, include: { favoritedBy: true } })
    const favoritesOf = (db: AnyPrisma) =>
      db.article.count({ where: { favoritedBy: { some: { username: w.m[0]!.username } } } })
    // A write that changes nothing sends no message to wait for: a write of another record follows
    // it, and its message, sent after any the unfavorite sent, is the one waited for.
    const then = (write: (db: AnyPrisma) => Promise<unknown>) => async (db: AnyPrisma) => {
      await write(db)
      await db.member.update({ where: { id: w.m[3]!.id }, data: { bio: `bio ${Math.random()}` } })
    }
    for (const [read, write, want] of [
      [article(0), then(unfavorite(0)), 'kept'],
      [favoritesOf, then(unfavorite(0)), 'kept'],
      [article(1), then(unfavorite(1)), 'evicted'],
      [favoritesOf, then(unfavorite(1)), 'evicted'],
    ] as const) {
      w = await p.world('unfav-none')
      expect(await p.outcome(read, write)).toBe(want)
    }
  })

  it('an unfavorite and a set act alike on both sides', async () => {
    w = await p.world('unfav')
    const unfavorite = (db: AnyPrisma) =>
      db.member.update({ where: { id: w.m[0]!.id }, data: { favorites: { disconnect: { id: w.articles[1]!.id } } } })
    const countOf = (slug: () => string) => (db: AnyPrisma) =>
      db.article.findUnique({ where: { slug: slug() }, include: { _count: { select: { favoritedBy: true } } } })
    expect(
      await p.outcome(
        countOf(() => w.articles[1]!.slug),
        unfavorite,
      ),
    ).toBe('evicted')
    w = await p.world('unfav')
    expect(
      await p.outcome(
        countOf(() => w.articles[0]!.slug),
        unfavorite,
      ),
    ).toBe('kept')
    w = await p.world('set')
    const retopic = (db: AnyPrisma) =>
      db.article.update({ where: { id: w.articles[1]!.id }, data: { topics: { set: [{ id: w.topics[0]!.id }] } } })
    const topicArticles = (i: number) => (db: AnyPrisma) =>
      db.article.findMany({ where: { topics: { some: { name: w.topics[i]!.name } } }, orderBy: { id: 'asc' } })
    expect(await p.outcome(topicArticles(1), retopic)).toBe('evicted')
    w = await p.world('set')
    expect(
      await p.outcome((db) => db.topic.findMany({ where: { name: { startsWith: w.topics[0]!.name } } }), retopic),
    ).toBe('kept')
  })

  it('a follow (a self many-to-many) evicts the followers of one and the feed of the other, nothing else', async () => {
    const follow = (db: AnyPrisma) =>
      db.member.update({ where: { username: w.m[1]!.username }, data: { followedBy: { connect: { id: w.m[3]!.id } } } })
    const profile = (i: number) => (db: AnyPrisma) =>
      db.member.findUnique({ where: { username: w.m[i]!.username }, include: { followedBy: true } })
    const feed = (i: number) => (db: AnyPrisma) =>
      db.article.findMany({
        where: { author: { followedBy: { some: { id: w.m[i]!.id } } } },
        orderBy: { id: 'asc' },
        include: { author: true },
      })
    const article = (i: number) => (db: AnyPrisma) =>
      db.article.findUnique({
        where: { slug: w.articles[i]!.slug },
        include: { author: { include: { followedBy: true } } },
      })
    for (const [read, want] of [
      [profile(1), 'evicted'],
      [feed(3), 'evicted'],
      [article(1), 'evicted'],
      [profile(0), 'kept'],
      [feed(0), 'kept'],
      [article(0), 'kept'],
      [(db: AnyPrisma) => db.member.findUnique({ where: { id: w.m[1]!.id } }), 'kept'],
    ] as const) {
      w = await p.world('follow')
      expect(await p.outcome(read, follow)).toBe(want)
    }
  })

  it('an explicit many-to-many (a join model) evicts the lists of both records and keeps the others', async () => {
    const followTopic = (db: AnyPrisma) =>
      db.topicFollow.create({ data: { memberId: w.m[3]!.id, topicId: w.topics[0]!.id } })
    for (const [read, want] of [
      [
        (db: AnyPrisma) => db.member.findUnique({ where: { id: w.m[3]!.id }, include: { topicFollows: true } }),
        'evicted',
      ],
      [
        (db: AnyPrisma) =>
          db.topic.findUnique({
            where: { name: w.topics[0]!.name },
            include: { _count: { select: { followers: true } } },
          }),
        'evicted',
      ],
      [(db: AnyPrisma) => db.topicFollow.findMany({ where: { topicId: w.topics[0]!.id } }), 'evicted'],
      [(db: AnyPrisma) => db.member.findUnique({ where: { id: w.m[0]!.id }, include: { topicFollows: true } }), 'kept'],
      [(db: AnyPrisma) => db.topicFollow.findMany({ where: { topicId: w.topics[1]!.id } }), 'kept'],
      [(db: AnyPrisma) => db.member.findUnique({ where: { id: w.m[3]!.id } }), 'kept'],
    ] as const) {
      w = await p.world('topic-follow')
      expect(await p.outcome(read, followTopic)).toBe(want)
    }
  })
})
