import { expect } from 'vitest'
import { cachedInstance, type Instance, type InstanceSetup } from '../../support/cached.ts'
import type { AnyPrisma, Provider, Testbed } from '../../support/factory.ts'

/**
 * The precision checks of the invalidation rules: a read is cached on instance A, a write runs on
 * instance B (sharing Redis), and the read runs again on A once B's invalidation has reached it.
 * It is `kept` when the database was not asked (the query counter under A's cache did not move),
 * `evicted` when it was; either way it must equal the database.
 */
export type Outcome = 'kept' | 'evicted'

export type Read = (db: AnyPrisma) => Promise<unknown>
export type Write = (db: AnyPrisma) => Promise<unknown>

export interface Pair {
  readonly a: Instance
  readonly b: Instance
  /** What the read and the write give when run on `a` after `b` wrote. */
  outcome(read: Read, write: Write): Promise<Outcome>
  /** A world of its own for one test: records named after `tag`. */
  world(tag: string): Promise<World>
}

export async function pair(bed: Testbed, provider: Provider, setup: InstanceSetup = {}): Promise<Pair> {
  const a = await cachedInstance(bed, provider, { auto: true }, setup)
  const b = await cachedInstance(bed, provider, { auto: true })
  const onA = a.prisma as unknown as AnyPrisma
  await expectResultTags(a)
  return {
    a,
    b,
    async outcome(read, write) {
      await read(onA)
      const warm = a.counter.count
      await read(onA)
      expect(a.counter.count, 'the read is cached before the write').toBe(warm)
      const delivered = a.nextBusMessage()
      await write(b.prisma as unknown as AnyPrisma)
      await delivered
      const before = a.counter.count
      const got = await read(onA)
      const kept = a.counter.count === before
      expect(got).toEqual(await read(a.base))
      return kept ? 'kept' : 'evicted'
    },
    async world(tag) {
      const made = await world(a.base, tag)
      // Written under the cache: reads that do not name the new records (a list of the newest) start afresh.
      await a.prisma.$cache.clear()
      return made
    },
  }
}

/**
 * Four members (`m[0]` follows `m[1]`, favorites `articles[1]` and follows topic 1), three
 * articles (`articles[0]` and `articles[2]` by `m[0]`, `articles[1]` by `m[1]`), two topics, a
 * reply on each of the first two articles.
 */
export interface World {
  readonly m: readonly { id: number; username: string; email: string }[]
  readonly articles: readonly { id: number; slug: string; authorId: number }[]
  readonly topics: readonly { id: number; name: string }[]
  readonly replies: readonly { id: number; articleId: number }[]
}

let worlds = 0

/**
 * The rules need the read path to store the tags a result tells under their guards
 * (`cacheDependencies` in src/prisma/cached-reads.ts); without that every "kept" case fails, so say why.
 */
async function expectResultTags(a: Instance): Promise<void> {
  const db = a.prisma as unknown as AnyPrisma
  const member = await a.base.member.create({ data: { username: `probe-${++worlds}`, email: `probe-${worlds}@x` } })
  const args = { where: { username: member.username }, include: { followedBy: true } }
  await db.member.findUnique(args)
  const explained = await a.prisma.$cache.explain({ model: 'Member', operation: 'findUnique', args })
  expect(
    explained.resultTags.some((t) => t.startsWith('l:Member.followedBy:id:')),
    'the read path stores the tags its result tells (cacheDependencies wired in cached-reads.ts)',
  ).toBe(true)
}

async function world(db: AnyPrisma, tag: string): Promise<World> {
  const t = `${tag}-${++worlds}`
  const m = []
  for (let i = 0; i < 4; i++) {
    m.push(
      await db.member.create({ data: { username: `${t}-u${i}`, email: `${t}-u${i}@example.com`, bio: `bio ${i}` } }),
    )
  }
  const topics = [
    await db.topic.create({ data: { name: `${t}-t0` } }),
    await db.topic.create({ data: { name: `${t}-t1` } }),
  ]
  const articles = []
  for (const [i, author] of [m[0], m[1], m[0]].entries()) {
    articles.push(
      await db.article.create({
        data: {
          slug: `${t}-a${i}`,
          title: `title ${i}`,
          description: 'd',
          body: 'b',
          authorId: author!.id,
          topics: { connect: i === 1 ? [{ id: topics[0]!.id }, { id: topics[1]!.id }] : [{ id: topics[0]!.id }] },
        },
      }),
    )
  }
  await db.member.update({
    where: { id: m[0]!.id },
    data: {
      following: { connect: { id: m[1]!.id } },
      favorites: { connect: { id: articles[1]!.id } },
      topicFollows: { create: { topicId: topics[1]!.id } },
    },
  })
  const replies = [
    await db.reply.create({ data: { body: 'first', articleId: articles[0]!.id, authorId: m[1]!.id } }),
    await db.reply.create({ data: { body: 'second', articleId: articles[1]!.id, authorId: m[2]!.id } }),
  ]
  return { m, articles, topics, replies }
}
