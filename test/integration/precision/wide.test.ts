import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AnyPrisma, providers, Testbed } from '../../support/factory.ts'
import { type Pair, pair, type World } from './support.ts'

/**
 * The fourth row: delete, updateMany, deleteMany, referential actions and raw writes
 * evict at least what they did before (every read of what they can change); they keep only what
 * they provably cannot change.
 */
const bed = new Testbed()
afterAll(() => bed.cleanup())

describe.each(providers)('deletes, writes of many, cascades and raw writes on %s', (provider) => {
  let p: Pair
  let w: World
  beforeAll(async () => {
    p = await pair(bed, provider)
  })

  it('a delete evicts the record, the lists it was in, the links it had, and what cascades from it', async () => {
    const remove = (db: AnyPrisma) => db.article.delete({ where: { slug: w.articles[1]!.slug } })
    for (const [read, want] of [
      [(db: AnyPrisma) => db.article.findUnique({ where: { id: w.articles[1]!.id } }), 'evicted'],
      [(db: AnyPrisma) => db.article.findMany({ where: { authorId: w.m[1]!.id } }), 'evicted'],
      [(db: AnyPrisma) => db.member.findUnique({ where: { id: w.m[0]!.id }, include: { favorites: true } }), 'evicted'],
      [
        (db: AnyPrisma) =>
          db.topic.findUnique({
            where: { name: w.topics[1]!.name },
            include: { _count: { select: { articles: true } } },
          }),
        'evicted',
      ],
      // Its replies go with it (onDelete: Cascade).
      [(db: AnyPrisma) => db.reply.findUnique({ where: { id: w.replies[1]!.id } }), 'evicted'],
      [(db: AnyPrisma) => db.article.findMany({ where: { authorId: w.m[0]!.id } }), 'kept'],
      [(db: AnyPrisma) => db.member.findUnique({ where: { id: w.m[1]!.id } }), 'kept'],
    ] as const) {
      w = await p.world('delete')
      expect(await p.outcome(read, remove)).toBe(want)
    }
  })

  it('a member delete cascades to its articles, their replies and its links', async () => {
    const remove = (db: AnyPrisma) => db.member.delete({ where: { id: w.m[1]!.id } })
    for (const read of [
      (db: AnyPrisma) => db.article.findUnique({ where: { slug: w.articles[1]!.slug } }),
      (db: AnyPrisma) => db.reply.findMany({ where: { articleId: w.articles[0]!.id } }),
      (db: AnyPrisma) => db.member.findUnique({ where: { id: w.m[0]!.id }, include: { following: true } }),
    ]) {
      w = await p.world('cascade')
      expect(await p.outcome(read, remove)).toBe('evicted')
    }
  })

  it('updateMany and deleteMany evict every read of the model, lookups by any key included', async () => {
    for (const write of [
      (db: AnyPrisma) => db.article.updateMany({ where: { authorId: w.m[0]!.id }, data: { title: 'many' } }),
      (db: AnyPrisma) => db.reply.deleteMany({ where: { articleId: w.articles[0]!.id } }),
    ]) {
      for (const read of [
        (db: AnyPrisma) => db.article.findUnique({ where: { slug: w.articles[2]!.slug }, include: { replies: true } }),
        (db: AnyPrisma) => db.article.findMany({ where: { authorId: w.m[1]!.id }, include: { replies: true } }),
      ]) {
        w = await p.world('many')
        expect(await p.outcome(read, write)).toBe('evicted')
      }
    }
    w = await p.world('many')
    const keep = (db: AnyPrisma) => db.member.findUnique({ where: { id: w.m[0]!.id }, include: { followedBy: true } })
    expect(await p.outcome(keep, (db) => db.reply.deleteMany({ where: { articleId: w.articles[0]!.id } }))).toBe('kept')
  })

  it('a raw write evicts everything', async () => {
    w = await p.world('raw')
    const raw = (db: AnyPrisma) =>
      db.$executeRawUnsafe(`UPDATE "Topic" SET "name" = "name" || '-raw' WHERE "id" = ${w.topics[0]!.id}`)
    expect(await p.outcome((db) => db.member.findUnique({ where: { username: w.m[3]!.username } }), raw)).toBe(
      'evicted',
    )
  })
})
