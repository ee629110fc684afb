import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AnyPrisma, providers, Testbed } from '../../support/factory.ts'
import { type Pair, pair, type Read, type World, type Write } from './support.ts'

/**
 * Reads that name a related record by a value writes do not name it by (a username, where a new
 * article names its author by id) are tagged by the keys a lookup beside the load finds: the
 * articles of one author, the feed of the authors one follows. And a list that shows every row it
 * could lose keeps when a row it does not show goes.
 */
const bed = new Testbed()
afterAll(() => bed.cleanup())

let created = 0
const NEWEST = [{ createdAt: 'desc' }, { id: 'desc' }] as const

describe.each(providers)('reads narrowed by a lookup on %s', (provider) => {
  let p: Pair
  let w: World
  beforeAll(async () => {
    p = await pair(bed, provider)
  })
  /**
   * As p.outcome, for a read whose key A has loaded before: a key's first load runs no lookup (its
   * tags are the wide ones), its later loads do. The first load here is emptied from the cache.
   */
  const again = async (read: Read, write: Write) => {
    await read(p.a.prisma as unknown as AnyPrisma)
    await p.a.prisma.$cache.clear()
    return p.outcome(read, write)
  }
  const publish = (author: number) => (db: AnyPrisma) =>
    db.article.create({
      data: {
        slug: `${w.articles[0]!.slug}-p${++created}`,
        title: 'new',
        description: 'd',
        body: 'b',
        author: { connect: { id: w.m[author]!.id } },
      },
    })
  const unpublish = (article: number) => (db: AnyPrisma) =>
    db.article.delete({ where: { slug: w.articles[article]!.slug } })
  // By username: a rename that does not say the name it replaces evicts every read by username.
  const rename = (member: number) => (db: AnyPrisma) =>
    db.member.update({
      where: { username: w.m[member]!.username },
      data: { username: `${w.m[member]!.username}-renamed` },
    })

  it("an author's articles counted by username: kept by another author's new or deleted article", async () => {
    const count = (db: AnyPrisma) => db.article.count({ where: { author: { username: w.m[1]!.username } } })
    for (const [write, want] of [
      [publish(0), 'kept'],
      [unpublish(0), 'kept'],
      [publish(1), 'evicted'],
      [unpublish(1), 'evicted'],
      [rename(1), 'evicted'],
    ] as const) {
      w = await p.world('author-count')
      expect(await again(count, write)).toBe(want)
    }
  })

  it("an author's articles listed by username, empty or not: kept by another author's new article, evicted by theirs", async () => {
    // Member 3 has written nothing; member 1 wrote article 1.
    const list = (m: number) => (db: AnyPrisma) =>
      db.article.findMany({ where: { author: { username: w.m[m]!.username } }, orderBy: { id: 'asc' } })
    for (const [read, write, want] of [
      [list(3), publish(0), 'kept'],
      [list(1), publish(0), 'kept'],
      [list(3), publish(3), 'evicted'],
      [list(1), publish(1), 'evicted'],
      [list(3), rename(3), 'evicted'],
    ] as const) {
      w = await p.world('author-list')
      expect(await again(read, write)).toBe(want)
    }
  })

  it('a list by a related unique value looks its key up only when it is empty', async () => {
    w = await p.world('author-list-reads')
    const db = p.a.prisma as unknown as AnyPrisma
    const list = (m: number) =>
      db.article.findMany({ where: { author: { username: w.m[m]!.username } }, orderBy: { id: 'asc' } })
    for (const [m, reads] of [
      [1, 1],
      [3, 2],
    ] as const) {
      await list(m)
      await p.a.prisma.$cache.clear()
      const before = p.a.counter.count
      await list(m)
      expect(p.a.counter.count - before, `a later load of member ${m}'s list`).toBe(reads)
    }
  })

  it('the replies of an article without any, by its slug: kept by a reply to another article', async () => {
    w = await p.world('replies-empty')
    const replies = (db: AnyPrisma) =>
      db.reply.findMany({ where: { article: { slug: w.articles[2]!.slug } }, orderBy: { id: 'asc' } })
    const reply = (db: AnyPrisma) =>
      db.reply.create({ data: { body: 'r', articleId: w.articles[0]!.id, authorId: w.m[1]!.id } })
    expect(await again(replies, reply)).toBe('kept')
  })

  it("a key's first load looks nothing up: another author's article evicts it", async () => {
    w = await p.world('author-count-first')
    const count = (db: AnyPrisma) => db.article.count({ where: { author: { username: w.m[1]!.username } } })
    expect(await p.outcome(count, publish(0))).toBe('evicted')
  })

  it('a feed (m0 follows m1): evicted by an article of m1 and by a new follow of m0, kept by the others', async () => {
    const where = () => ({ author: { followedBy: { some: { id: w.m[0]!.id } } } })
    const list = (db: AnyPrisma) =>
      db.article.findMany({ where: where(), orderBy: [...NEWEST], take: 10, select: { slug: true } })
    const count = (db: AnyPrisma) => db.article.count({ where: where() })
    const follows = (follower: number, followed: number) => (db: AnyPrisma) =>
      db.member.update({
        where: { username: w.m[followed]!.username },
        data: { followedBy: { connect: { id: w.m[follower]!.id } } },
      })
    for (const read of [list, count]) {
      for (const [write, want] of [
        [publish(1), 'evicted'],
        [publish(2), 'kept'],
        [unpublish(0), 'kept'],
        [follows(0, 2), 'evicted'],
        [follows(3, 2), 'kept'],
      ] as const) {
        w = await p.world('feed')
        expect(await again(read, write)).toBe(want)
      }
    }
  })

  it('the newest articles of a topic keep when an article of it they do not show is deleted; its count does not', async () => {
    // Topic 0 holds articles 0, 1 and 2: the newest two are 2 and 1.
    const where = () => ({ topics: { some: { name: w.topics[0]!.name } } })
    const newest = (db: AnyPrisma) =>
      db.article.findMany({ where: where(), orderBy: [...NEWEST], take: 2, select: { slug: true } })
    const count = (db: AnyPrisma) => db.article.count({ where: where() })
    // Article 0 moves to topic 1 by a set, which names the topics it leaves by no key.
    const retopic = (db: AnyPrisma) =>
      db.article.update({ where: { id: w.articles[0]!.id }, data: { topics: { set: [{ id: w.topics[1]!.id }] } } })
    const newestOf1 = (db: AnyPrisma) =>
      db.article.findMany({
        where: { topics: { some: { name: w.topics[1]!.name } } },
        orderBy: [...NEWEST],
        take: 2,
        select: { slug: true },
      })
    for (const [read, write, want] of [
      [newestOf1, retopic, 'evicted'],
      [newest, unpublish(0), 'kept'],
      [newest, unpublish(2), 'evicted'],
      [newest, publish(2), 'kept'],
      [count, unpublish(0), 'evicted'],
    ] as const) {
      w = await p.world('topic-newest')
      expect(await p.outcome(read, write)).toBe(want)
    }
  })
})
