import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AnyPrisma, providers, Testbed } from '../../support/factory.ts'
import { type Pair, pair, type World } from './support.ts'

/**
 * The second row: creating a child (a reply on article 0) evicts the children of that
 * parent, the parent's count or include of them, and lists whose filter can match the new row;
 * it keeps the children of other parents and parent reads that neither include nor count them.
 */
const bed = new Testbed()
afterAll(() => bed.cleanup())

describe.each(providers)('children of a parent on %s', (provider) => {
  let p: Pair
  let w: World
  beforeAll(async () => {
    p = await pair(bed, provider)
  })
  const reply = (db: AnyPrisma) =>
    db.reply.create({
      data: {
        body: 'new',
        article: { connect: { slug: w.articles[0]!.slug } },
        author: { connect: { id: w.m[3]!.id } },
      },
    })
  const repliesOf = (i: number) => (db: AnyPrisma) =>
    db.reply.findMany({ where: { articleId: w.articles[i]!.id }, orderBy: { id: 'asc' } })
  const repliesBySlug = (i: number) => (db: AnyPrisma) =>
    db.reply.findMany({
      where: { article: { slug: w.articles[i]!.slug } },
      orderBy: { id: 'asc' },
      include: { author: true },
    })
  const withReplies = (i: number) => (db: AnyPrisma) =>
    db.article.findUnique({ where: { slug: w.articles[i]!.slug }, include: { replies: { orderBy: { id: 'asc' } } } })
  const counted = (i: number) => (db: AnyPrisma) =>
    db.article.findUnique({ where: { id: w.articles[i]!.id }, include: { _count: { select: { replies: true } } } })

  it('evicts the replies of that article, by its id or its slug, and its count and include of them', async () => {
    for (const read of [repliesOf(0), repliesBySlug(0), withReplies(0), counted(0)]) {
      w = await p.world('reply-evict')
      expect(await p.outcome(read, reply)).toBe('evicted')
    }
  })

  it('evicts lists whose filter can match the new row, and the replies of its author', async () => {
    for (const read of [
      (db: AnyPrisma) => db.reply.findMany({ where: { body: 'new' } }),
      (db: AnyPrisma) => db.member.findUnique({ where: { id: w.m[3]!.id }, include: { replies: true } }),
    ]) {
      w = await p.world('reply-match')
      expect(await p.outcome(read, reply)).toBe('evicted')
    }
  })

  it('keeps the replies of other articles and the article read without its replies', async () => {
    for (const read of [
      repliesOf(1),
      repliesBySlug(1),
      withReplies(1),
      counted(1),
      (db: AnyPrisma) => db.article.findUnique({ where: { slug: w.articles[0]!.slug }, include: { author: true } }),
      (db: AnyPrisma) => db.member.findUnique({ where: { id: w.m[2]!.id }, include: { replies: true } }),
    ]) {
      w = await p.world('reply-keep')
      expect(await p.outcome(read, reply)).toBe('kept')
    }
  })

  it('deleting a reply acts on the same reads', async () => {
    const remove = (db: AnyPrisma) => db.reply.delete({ where: { id: w.replies[0]!.id } })
    for (const [read, want] of [
      [repliesOf(0), 'evicted'],
      [counted(0), 'evicted'],
      [repliesOf(1), 'kept'],
      [withReplies(1), 'kept'],
    ] as const) {
      w = await p.world('reply-delete')
      expect(await p.outcome(read, remove)).toBe(want)
    }
  })
})
