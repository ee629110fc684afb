import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { readReplicas } from '@prisma/extension-read-replicas'
import { afterAll, describe, expect, it } from 'vitest'
import { PrismaClient as SqliteClient } from '../../../generated/sqlite/client.ts'
import { tieredCache } from '../../../src/prisma/extension.ts'
import { type AnyPrisma, Testbed } from '../../support/factory.ts'

/**
 * `@prisma/extension-read-replicas` (the published package) in both orders, with a replica that
 * lags: a database of its own that catches up only when the test calls `replicate()`.
 */
const primaryBed = new Testbed()
const replicaBed = new Testbed()
afterAll(async () => {
  await primaryBed.cleanup()
  await replicaBed.cleanup()
})

async function client(bed: Testbed) {
  const file = await bed.database('sqlite')
  const prisma = new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) })
  primaryBed.defer(() => prisma.$disconnect())
  return prisma
}

let prefixes = 0
async function setup(order: 'replicas first' | 'cache first', replicaLag = 30) {
  const primary = await client(primaryBed)
  const replica = await client(replicaBed)
  /** The replica catches up with the primary (Documents only). */
  const replicate = async () => {
    const rows = await primary.document.findMany()
    await replica.document.deleteMany()
    if (rows.length > 0) await replica.document.createMany({ data: rows })
  }
  const cache = tieredCache({
    redis: primaryBed.redis(),
    prefix: `${primaryBed.prefix}-replicas${prefixes++}`,
    auto: true,
    replicaLag,
  })
  const prisma = (order === 'replicas first'
    ? primary.$extends(readReplicas({ replicas: [replica] })).$extends(cache)
    : primary.$extends(cache).$extends(readReplicas({ replicas: [replica] }))) as unknown as AnyPrisma & {
    $primary(): AnyPrisma
    $cache: { close(): Promise<void>; ready(): Promise<void>; stats(): { hits: number } }
  }
  primaryBed.defer(() => prisma.$cache.close())
  await prisma.$cache.ready()
  return { primary, replica, prisma, replicate }
}

describe.each(['replicas first', 'cache first'] as const)('read replicas, %s', (order) => {
  it('reads are cached, and a write through the client is seen once the replica has caught up', async () => {
    const { primary, prisma, replicate } = await setup(order)
    // Seeded outside the cache: a write through it would rightly hold this record's reads for replicaLag.
    const doc = await primary.document.create({ data: { title: 'v1' } })
    await replicate()
    expect(await prisma.document.findUnique({ where: { id: doc.id } })).toEqual(doc)
    expect(await prisma.document.findUnique({ where: { id: doc.id } })).toEqual(doc)
    expect(prisma.$cache.stats().hits).toBe(1)

    const updated = await prisma.document.update({ where: { id: doc.id }, data: { title: 'v2' } })
    // The replica still serves v1: a read now may see it (as without a cache) but must not keep it.
    expect(await prisma.document.findUnique({ where: { id: doc.id } })).toEqual(doc)
    await replicate()
    expect(await prisma.document.findUnique({ where: { id: doc.id } })).toEqual(updated)
  })

  it('without replicaLag, the lagging read is what the cache keeps (the reason for the option)', async () => {
    const { primary, prisma, replicate } = await setup(order, 0)
    const doc = await primary.document.create({ data: { title: 'v1' } })
    await replicate()
    await prisma.document.findUnique({ where: { id: doc.id } })
    await prisma.document.update({ where: { id: doc.id }, data: { title: 'v2' } })
    await prisma.document.findUnique({ where: { id: doc.id } })
    await replicate()
    expect((await prisma.document.findUnique({ where: { id: doc.id } }))?.title).toBe('v1')
  })

  it('a write through $primary() invalidates, and reads there are served fresh', async () => {
    const { primary, prisma, replicate } = await setup(order)
    const doc = await primary.document.create({ data: { title: 'p1' } })
    await replicate()
    await prisma.document.findUnique({ where: { id: doc.id } })
    const updated = await prisma.$primary().document.update({ where: { id: doc.id }, data: { title: 'p2' } })
    expect(await prisma.$primary().document.findUnique({ where: { id: doc.id } })).toEqual(updated)
    await replicate()
    expect(await prisma.document.findUnique({ where: { id: doc.id } })).toEqual(updated)
  })
})

describe('read replicas under the cache, and the reads a write makes', () => {
  // The replica is never caught up here: were a write's own reads sent to it, they would find
  // nothing, and the write would fall back to its wide tags.
  it('a delete reads its links on the primary, and keeps the counts of topics it was not in', async () => {
    const { primary, prisma } = await setup('replicas first')
    const [t0, t1] = [
      await primary.topic.create({ data: { name: 'r-t0' } }),
      await primary.topic.create({ data: { name: 'r-t1' } }),
    ]
    const author = await primary.member.create({ data: { username: 'r-a', email: 'r-a@x' } })
    const article = await primary.article.create({
      data: {
        slug: 'r-a0',
        title: 't',
        description: 'd',
        body: 'b',
        authorId: author.id,
        topics: { connect: [{ id: t0.id }] },
      },
    })
    const count = () => prisma.article.count({ where: { topics: { some: { name: t1.name } } } })
    await count()
    const hits = prisma.$cache.stats().hits
    await prisma.article.delete({ where: { slug: article.slug } })
    await count()
    expect(prisma.$cache.stats().hits, 'the count of a topic the article was not in is kept').toBe(hits + 1)
  })

  it('a favorite looks up the member on the primary, and keeps the lists of other members by username', async () => {
    const { primary, prisma } = await setup('replicas first')
    const [m0, m1] = [
      await primary.member.create({ data: { username: 'r-m0', email: 'r-m0@x' } }),
      await primary.member.create({ data: { username: 'r-m1', email: 'r-m1@x' } }),
    ]
    const article = await primary.article.create({
      data: { slug: 'r-f0', title: 't', description: 'd', body: 'b', authorId: m0.id },
    })
    const count = () => prisma.article.count({ where: { favoritedBy: { some: { username: m1.username } } } })
    await count()
    const hits = prisma.$cache.stats().hits
    await prisma.article.update({ where: { slug: article.slug }, data: { favoritedBy: { connect: { id: m0.id } } } })
    await count()
    expect(prisma.$cache.stats().hits, "another member's favorites are kept").toBe(hits + 1)
  })
})
