import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cachedInstance } from '../../support/cached.ts'
import { type AnyPrisma, providers, Testbed } from '../../support/factory.ts'
import { databaseUnderCache } from '../../support/gate.ts'
import { type Pair, pair, type World } from './support.ts'

/**
 * The third row: an update of one record's fields evicts every read whose result
 * contains that record (at any depth) and lists whose where or orderBy use a changed field;
 * it keeps reads of other records and lists that cannot contain it. And lookups by a unique
 * value other than the primary key: guarded by that value, moved by a change of it.
 */
const bed = new Testbed()
afterAll(() => bed.cleanup())

describe.each(providers)('updates of fields on %s', (provider) => {
  let p: Pair
  let w: World
  beforeAll(async () => {
    p = await pair(bed, provider)
  })
  const rebio = (db: AnyPrisma) => db.member.update({ where: { id: w.m[1]!.id }, data: { bio: 'rewritten' } })

  it('evicts every read that shows the member, at any depth, and lists that can contain it', async () => {
    for (const read of [
      (db: AnyPrisma) => db.member.findUnique({ where: { username: w.m[1]!.username } }),
      (db: AnyPrisma) => db.article.findUnique({ where: { slug: w.articles[1]!.slug }, include: { author: true } }),
      (db: AnyPrisma) =>
        db.article.findUnique({ where: { slug: w.articles[1]!.slug }, include: { favoritedBy: true, author: true } }),
      (db: AnyPrisma) =>
        db.article.findUnique({
          where: { slug: w.articles[0]!.slug },
          include: { author: { include: { following: true } } },
        }),
      (db: AnyPrisma) => db.reply.findMany({ where: { articleId: w.articles[0]!.id }, include: { author: true } }),
      (db: AnyPrisma) => db.member.findMany({ where: { bio: { startsWith: 'bio' } }, orderBy: { id: 'asc' } }),
      (db: AnyPrisma) => db.member.findMany({ orderBy: { bio: 'asc' }, take: 3 }),
    ]) {
      w = await p.world('update-evict')
      expect(await p.outcome(read, rebio)).toBe('evicted')
    }
  })

  it('keeps reads of other records and lists that cannot contain it', async () => {
    for (const read of [
      (db: AnyPrisma) => db.member.findUnique({ where: { username: w.m[2]!.username } }),
      (db: AnyPrisma) => db.member.findUnique({ where: { id: w.m[0]!.id } }),
      (db: AnyPrisma) => db.article.findUnique({ where: { slug: w.articles[0]!.slug }, include: { author: true } }),
      (db: AnyPrisma) => db.article.findMany({ where: { authorId: w.m[0]!.id }, include: { author: true } }),
      (db: AnyPrisma) => db.article.findMany({ where: { author: { username: w.m[0]!.username } } }),
      (db: AnyPrisma) => db.reply.findMany({ where: { articleId: w.articles[1]!.id }, include: { author: true } }),
    ]) {
      w = await p.world('update-keep')
      expect(await p.outcome(read, rebio)).toBe('kept')
    }
  })

  it('a list in a total order outlives an edit of a row it does not hold, of a field that decides nothing', async () => {
    const newest = (db: AnyPrisma) =>
      db.article.findMany({
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: 2,
        select: { id: true, title: true },
      })
    const titled = (db: AnyPrisma) => db.article.count({ where: { title: 'title 1' } })
    const edit = (i: number, data: object) => (db: AnyPrisma) =>
      db.article.update({ where: { id: w.articles[i]!.id }, data })
    for (const [read, write, want] of [
      [newest, edit(0, { body: 'new body' }), 'kept'],
      [newest, edit(2, { body: 'new body' }), 'evicted'],
      [newest, edit(0, { createdAt: new Date(Date.now() + 86_400_000) }), 'evicted'],
      [titled, edit(0, { body: 'new body' }), 'kept'],
      [titled, edit(0, { title: 'title 1' }), 'evicted'],
    ] as const) {
      w = await p.world('total-order')
      expect(await p.outcome(read, write)).toBe(want)
    }
  })

  it('a changed unique value moves the lookups of the old and the new value, and no other', async () => {
    const rename = (db: AnyPrisma) =>
      db.article.update({ where: { slug: w.articles[0]!.slug }, data: { slug: `${w.articles[0]!.slug}-moved` } })
    for (const [read, want] of [
      [(db: AnyPrisma) => db.article.findUnique({ where: { slug: w.articles[0]!.slug } }), 'evicted'],
      [(db: AnyPrisma) => db.article.findUnique({ where: { slug: `${w.articles[0]!.slug}-moved` } }), 'evicted'],
      [(db: AnyPrisma) => db.article.findUnique({ where: { slug: w.articles[2]!.slug } }), 'kept'],
      [(db: AnyPrisma) => db.article.findMany({ where: { authorId: w.m[1]!.id } }), 'kept'],
    ] as const) {
      w = await p.world('rename')
      expect(await p.outcome(read, rename)).toBe(want)
    }
  })

  it('a changed foreign key moves the lists of the old and the new value, even when the old one is unknown', async () => {
    const move = (db: AnyPrisma) =>
      db.reply.update({ where: { id: w.replies[0]!.id }, data: { articleId: w.articles[2]!.id } })
    const repliesOf = (i: number) => (db: AnyPrisma) =>
      db.reply.findMany({ where: { articleId: w.articles[i]!.id }, orderBy: { id: 'asc' } })
    for (const [read, want] of [
      [repliesOf(0), 'evicted'],
      [repliesOf(2), 'evicted'],
      [(db: AnyPrisma) => db.reply.findUnique({ where: { id: w.replies[1]!.id } }), 'kept'],
    ] as const) {
      w = await p.world('move')
      expect(await p.outcome(read, move)).toBe(want)
    }
  })

  it('a lookup by a unique value is stored though another record was written while it loaded', async () => {
    const db = databaseUnderCache()
    const a = await cachedInstance(bed, provider, { auto: true }, { under: db.under })
    w = await p.world('guard')
    const lookup = () => a.prisma.member.findUnique({ where: { username: w.m[0]!.username } })
    const held = db.hold()
    // A Prisma promise starts when it is awaited or then'd.
    const loading = lookup().then((value) => value)
    await held.reached
    await a.prisma.member.update({ where: { id: w.m[1]!.id }, data: { bio: 'meanwhile' } })
    held.release()
    await loading
    const before = a.counter.count
    expect(await lookup()).toEqual(await a.base.member.findUnique({ where: { username: w.m[0]!.username } }))
    expect(a.counter.count).toBe(before)
    // A write of the same record while it loads does refuse the store.
    const again = db.hold()
    const reloading = a.prisma.member.findUnique({ where: { username: w.m[1]!.username } }).then((value) => value)
    await again.reached
    await a.prisma.member.update({ where: { id: w.m[1]!.id }, data: { bio: 'meanwhile, again' } })
    again.release()
    await reloading
    const count = a.counter.count
    await a.prisma.member.findUnique({ where: { username: w.m[1]!.username } })
    expect(a.counter.count).toBe(count + 1)
  })
})
