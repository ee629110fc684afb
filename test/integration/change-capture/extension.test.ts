import { EventEmitter } from 'node:events'
import { PrismaPg } from '@prisma/adapter-pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PrismaClient } from '../../../generated/postgres/client.ts'
import { changeCaptureSql } from '../../../src/prisma/change-capture/sql.ts'
import { tieredCache } from '../../../src/prisma/extension.ts'
import { Testbed } from '../../support/factory.ts'
import { migrationSql } from '../../support/migrations.ts'
import { random } from '../../support/random.ts'
import { changeCaptureDatabase } from './support.ts'

/**
 * `tieredCache({ changeCapture: { url } })` on two instances: writes the client never sees (raw SQL
 * through a separate `pg` connection, a cascade in the database, a many-to-many row) invalidate
 * both, within the bus's bound, and a listener that was cut off serves nothing stale.
 */
const DEADLINE_MS = 250
const bed = new Testbed()
let db: Awaited<ReturnType<typeof changeCaptureDatabase>>
let base: PrismaClient

async function instance() {
  const events = new EventEmitter()
  events.on('error', () => {})
  const client = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) })
  const prisma = client.$extends(
    tieredCache({ redis: bed.redis(), prefix: `${bed.prefix}-cc`, auto: true, events, changeCapture: { url: db.url } }),
  )
  bed.defer(async () => {
    await prisma.$cache.close()
    await client.$disconnect()
  })
  await prisma.$cache.ready()
  return { prisma, events }
}
type Instance = Awaited<ReturnType<typeof instance>>
let a: Instance
let b: Instance

/** Resolves when `instance` has applied an invalidation; rejects after the deadline. */
function invalidated(instance: Instance, ms = DEADLINE_MS): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    new Promise<string[]>((resolve) =>
      instance.events.once('invalidate', (event: { tags: string[] }) => resolve(event.tags)),
    ),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no invalidation within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

/** Runs raw SQL and waits until both instances have invalidated what it changed. */
async function rawWrite(sql: string): Promise<void> {
  const heard = Promise.all([invalidated(a), invalidated(b)])
  await db.run(sql)
  await heard
}

beforeAll(async () => {
  db = await changeCaptureDatabase(migrationSql('postgres'))
  base = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) })
  await db.run(changeCaptureSql(base))
  a = await instance()
  b = await instance()
}, 60_000)
afterAll(async () => {
  await bed.cleanup()
  await base?.$disconnect()
  await db?.drop()
})

async function author(name: string) {
  return base.user.create({
    data: {
      email: `${name}-${Math.random().toString(36).slice(2)}@example.com`,
      name,
      posts: { create: [{ title: 'p' }] },
    },
    include: { posts: true },
  })
}

describe('change capture through the extension', () => {
  it('a raw UPDATE from another connection reaches both instances', async () => {
    const user = await author('raw')
    for (const { prisma } of [a, b]) await prisma.user.findUnique({ where: { id: user.id } })
    await rawWrite(`UPDATE "User" SET name = 'changed outside' WHERE id = ${user.id}`)
    for (const { prisma } of [a, b])
      expect((await prisma.user.findUnique({ where: { id: user.id } }))?.name).toBe('changed outside')
  })

  it('a DELETE that cascades in the database evicts the cached children', async () => {
    const user = await author('cascade')
    const post = user.posts[0]!
    for (const { prisma } of [a, b]) {
      expect(await prisma.post.findUnique({ where: { id: post.id } })).not.toBeNull()
      await prisma.post.findMany({ where: { authorId: user.id } })
    }
    await rawWrite(`DELETE FROM "User" WHERE id = ${user.id}`)
    for (const { prisma } of [a, b]) {
      expect(await prisma.post.findUnique({ where: { id: post.id } })).toBeNull()
      expect(await prisma.post.findMany({ where: { authorId: user.id } })).toEqual([])
    }
  })

  it('an INSERT into an implicit many-to-many table evicts reads that include the relation', async () => {
    const user = await author('tags')
    const post = user.posts[0]!
    const tag = await base.tag.create({ data: { name: `t-${post.id}` } })
    for (const { prisma } of [a, b])
      expect((await prisma.post.findUnique({ where: { id: post.id }, include: { tags: true } }))?.tags).toEqual([])
    await rawWrite(`INSERT INTO "_PostToTag" ("A", "B") VALUES (${post.id}, ${tag.id})`)
    for (const { prisma } of [a, b])
      expect((await prisma.post.findUnique({ where: { id: post.id }, include: { tags: true } }))?.tags).toEqual([tag])
  })

  it('a rolled-back raw transaction invalidates nothing', async () => {
    const rolled = await author('rolled')
    const marker = await author('marker')
    const heard = invalidated(a, 2_000)
    await db.run(`BEGIN; UPDATE "User" SET name = 'never' WHERE id = ${rolled.id}; ROLLBACK`)
    await db.run(`UPDATE "User" SET name = 'committed' WHERE id = ${marker.id}`)
    const tags = await heard
    expect(tags.some((tag) => tag.includes(String(marker.id)))).toBe(true)
    expect(tags.some((tag) => tag.endsWith(`:${rolled.id}`))).toBe(false)
  })

  it('a listener that was cut off serves nothing stale, during the outage or after', async () => {
    const user = await author('outage')
    await a.prisma.user.findUnique({ where: { id: user.id } })
    // Not events.once(): it rejects on the 'error' event the killed session also emits.
    const down = new Promise((resolve) => a.events.once('changes:down', resolve))
    const up = new Promise((resolve) => a.events.once('changes:up', resolve))
    await db.run(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'tiered-cache%' AND datname = current_database()`,
    )
    await down
    // Nobody hears this change while the listeners are down: reads there must not use the cache.
    const write = db.run(`UPDATE "User" SET name = 'during' WHERE id = ${user.id}`)
    await write
    expect((await a.prisma.user.findUnique({ where: { id: user.id } }))?.name).toBe('during')
    await up
    expect((await a.prisma.user.findUnique({ where: { id: user.id } }))?.name).toBe('during')
    expect((await b.prisma.user.findUnique({ where: { id: user.id } }))?.name).toBe('during')
  })

  it('a randomized mix of cached reads and raw writes from a third writer stays equal to the database', async () => {
    const seed = Number(process.env.MODEL_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31))
    const r = random(seed)
    const users = await Promise.all(Array.from({ length: 6 }, (_, i) => author(`mix${i}`)))
    const ids = users.map((user) => user.id)
    let compared = 0
    for (let step = 0; step < 300; step++) {
      const id = ids[r.int(0, ids.length - 1)]!
      const on = r.bool() ? a : b
      if (r.next() < 0.25) {
        const sql =
          r.next() < 0.5
            ? `UPDATE "User" SET name = 'n${step}' WHERE id = ${id}`
            : `UPDATE "Post" SET title = 't${step}', views = views + 1 WHERE "authorId" = ${id}`
        await rawWrite(sql)
        continue
      }
      const [got, want] =
        r.next() < 0.5
          ? [
              await on.prisma.user.findUnique({ where: { id }, include: { posts: true } }),
              await base.user.findUnique({ where: { id }, include: { posts: true } }),
            ]
          : [
              await on.prisma.post.findMany({ where: { authorId: id }, orderBy: { id: 'asc' } }),
              await base.post.findMany({ where: { authorId: id }, orderBy: { id: 'asc' } }),
            ]
      expect(got, `seed ${seed}, step ${step}`).toEqual(want)
      compared++
    }
    const hits = a.prisma.$cache.stats().hits + b.prisma.$cache.stats().hits
    console.log(`[change capture] seed ${seed}: ${compared} reads equal the database, ${hits} cache hits`)
    expect(hits).toBeGreaterThan(0)
  })
})
