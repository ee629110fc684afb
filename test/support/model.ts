import type { Cluster, Redis } from 'ioredis'
import { expect } from 'vitest'
import { cachedInstance, type Instance } from './cached.ts'
import type { AnyPrisma, Provider, Testbed } from './factory.ts'
import { type ConduitCounters, conduitReads, conduitWrites, seedConduit } from './model-conduit.ts'
import { type Random, random } from './random.ts'

/**
 * The randomized model-based check of the consistency promise: a seeded sequence of the reads and
 * writes the invalidation rules cover, on two cached instances sharing Redis and one uncached
 * client. Every read must equal the uncached result, on the writer at once, and on the other
 * instance once it has received the write's invalidation (which must arrive within `busDeadlineMs`).
 */
export interface ModelCheckOptions {
  readonly bed: Testbed
  readonly provider: Provider
  /** How many operations. */
  readonly ops: number
  /** The sequence; the same seed replays it. */
  readonly seed: number
  /** The Redis both instances share (a Cluster, say). @default the testbed's server */
  readonly redis?: Redis | Cluster
  /** Names the run in its log line. @default the provider */
  readonly label?: string
  /** @default 250 */
  readonly busDeadlineMs?: number
  /**
   * Other extensions around the cache, as an application chains them: `under` is applied before
   * the cache, `over` after it; the uncached client gets the same chain without the cache.
   * @default no other extension
   */
  readonly chain?: {
    readonly under?: (client: AnyPrisma) => AnyPrisma
    readonly over?: (client: AnyPrisma) => AnyPrisma
  }
}

/** What a run of {@link runModelCheck} saw. */
export interface ModelCheckResult {
  readonly hits: number
  readonly misses: number
  readonly hitRate: number
  readonly l1Hits: number
  readonly l2Hits: number
}

type Db = AnyPrisma
interface Step {
  readonly label: string
  readonly run: (db: Db) => Promise<unknown>
}

function reads(r: Random, maxUser: number, maxPost: number, conduit: ConduitCounters): Step {
  // Reads favour a hot set, as real traffic does; the rest spread over every id and a few missing ones.
  const user = r.next() < 0.7 ? r.int(1, 5) : r.int(1, maxUser + 2)
  const post = r.next() < 0.7 ? r.int(1, 8) : r.int(1, maxPost + 2)
  const options: Array<[string, (db: Db) => Promise<unknown>]> = [
    [`user ${user} by id`, (db) => db.user.findUnique({ where: { id: user } })],
    [`user ${user} with profile`, (db) => db.user.findUnique({ where: { id: user }, include: { profile: true } })],
    [`user by email u${user}`, (db) => db.user.findUnique({ where: { email: `u${user}@example.com` } })],
    [
      'users with post counts',
      (db) =>
        db.user.findMany({ where: { name: { startsWith: 'n' } }, orderBy: { id: 'asc' }, include: { _count: true } }),
    ],
    [
      `post ${post} with author and tags`,
      (db) =>
        db.post.findUnique({
          where: { id: post },
          include: { author: true, tags: { orderBy: { id: 'asc' } }, _count: { select: { comments: true } } },
        }),
    ],
    [
      `posts of ${user}`,
      (db) =>
        db.post.findMany({
          where: { authorId: user },
          orderBy: { id: 'asc' },
          select: { id: true, title: true, views: true, price: true, published: true },
        }),
    ],
    [`comments on posts of ${user}`, (db) => db.comment.count({ where: { post: { authorId: user } } })],
    [
      'published totals',
      (db) =>
        db.post.aggregate({ where: { published: true }, _sum: { views: true }, _avg: { price: true }, _count: true }),
    ],
    [
      'posts per author',
      (db) => db.post.groupBy({ by: ['authorId'], _count: { _all: true }, orderBy: { authorId: 'asc' } }),
    ],
    [
      'tags with posts',
      (db) =>
        db.tag.findMany({
          orderBy: { id: 'asc' },
          include: { posts: { select: { id: true }, orderBy: { id: 'asc' } } },
        }),
    ],
    [`profile of ${user}`, (db) => db.profile.findUnique({ where: { userId: user } })],
    [`membership 1/${user}`, (db) => db.membership.findUnique({ where: { orgId_userId: { orgId: 1, userId: user } } })],
    ['documents', (db) => db.document.findMany({ orderBy: { title: 'asc' } })],
    [
      'first author with a published post',
      (db) => db.user.findFirst({ where: { posts: { some: { published: true } } }, orderBy: { id: 'asc' } }),
    ],
    [`user ${user} or throw`, (db) => db.user.findUniqueOrThrow({ where: { id: user } })],
    ['orphan comments', (db) => db.comment.findMany({ where: { authorId: null }, orderBy: { id: 'asc' } })],
    [
      `post ${post} comments`,
      (db) => db.comment.findMany({ where: { postId: post }, orderBy: { id: 'asc' }, include: { author: true } }),
    ],
    ...conduitReads(r, conduit),
  ]
  const [label, run] = r.pick(options)
  return { label, run }
}

function writes(r: Random, counters: Counters): Step {
  const user = r.int(1, counters.user)
  const post = r.int(1, counters.post)
  const tag = r.int(1, counters.tag)
  const name = `n${r.int(0, 99)}`
  const options: Array<[string, (db: Db) => Promise<unknown>]> = [
    [
      'create user with profile and posts',
      (db) => {
        const id = ++counters.user
        counters.post += 2
        return db.user.create({
          data: {
            email: `u${id}@example.com`,
            name,
            profile: { create: { bio: 'b' } },
            posts: {
              create: [
                { title: 'a', views: 3n },
                { title: 'b', price: '2.5' },
              ],
            },
          },
        })
      },
    ],
    [`rename user ${user}`, (db) => db.user.update({ where: { id: user }, data: { name } })],
    [
      `rename user u${user} by email`,
      (db) => db.user.update({ where: { email: `u${user}@example.com` }, data: { name } }),
    ],
    [
      `edit post ${post}`,
      (db) => db.post.update({ where: { id: post }, data: { title: name, views: { increment: 1 }, price: '9.99' } }),
    ],
    [`publish post ${post}`, (db) => db.post.update({ where: { id: post }, data: { published: r.bool() } })],
    [`delete post ${post}`, (db) => db.post.delete({ where: { id: post } })],
    [`delete user ${user}`, (db) => db.user.delete({ where: { id: user } })],
    [
      `publish all posts of ${user}`,
      (db) => db.post.updateMany({ where: { authorId: user }, data: { published: true } }),
    ],
    [`delete comments on ${post}`, (db) => db.comment.deleteMany({ where: { postId: post } })],
    [
      `tag post ${post} with ${tag}`,
      (db) => db.post.update({ where: { id: post }, data: { tags: { connect: { id: tag } } } }),
    ],
    [`untag post ${post}`, (db) => db.post.update({ where: { id: post }, data: { tags: { set: [] } } })],
    [
      `comment on ${post} by ${user}`,
      (db) => db.comment.create({ data: { body: name, postId: post, authorId: user } }),
    ],
    [
      `membership of ${user}`,
      (db) =>
        db.membership.upsert({
          where: { orgId_userId: { orgId: 1, userId: user } },
          create: { orgId: 1, userId: user, role: name },
          update: { role: name },
        }),
    ],
    [
      `raw retitle of post ${post}`,
      (db) => db.$executeRawUnsafe(`UPDATE "Post" SET "title" = 'raw' WHERE "id" = ${post}`),
    ],
    [
      `batch: rename ${user} and add a post`,
      (db) => {
        counters.post++
        return db.$transaction([
          db.user.update({ where: { id: user }, data: { name } }),
          db.post.create({ data: { title: 'batched', authorId: user } }),
        ])
      },
    ],
    [
      `interactive: edit post ${post} and comment`,
      (db) =>
        db.$transaction(async (tx) => {
          await tx.post.update({ where: { id: post }, data: { title: `itx ${name}` } })
          await tx.comment.create({ data: { body: 'itx', postId: post } })
        }),
    ],
    [
      `rolled back rename of ${user}`,
      (db) =>
        db
          .$transaction(async (tx) => {
            await tx.user.update({ where: { id: user }, data: { name: 'never' } })
            throw new Error('rollback')
          })
          .catch((error: Error) => {
            if (error.message !== 'rollback') throw error
            return 'rolled back'
          }),
    ],
    [
      `nested: unpublish posts of ${user}, upsert profile`,
      (db) =>
        db.user.update({
          where: { id: user },
          data: {
            posts: { updateMany: { where: {}, data: { published: false } } },
            profile: { upsert: { create: { bio: name }, update: { bio: name } } },
          },
        }),
    ],
    [
      'new document',
      (db) => {
        counters.doc++
        return db.document.create({ data: { title: `d${r.int(0, 9)}` } })
      },
    ],
    ['bump documents', (db) => db.document.updateMany({ where: { title: 'd1' }, data: { version: { increment: 1 } } })],
    [`rename tag ${tag}`, (db) => db.tag.update({ where: { id: tag }, data: { name: `tag-${r.int(0, 1_000_000)}` } })],
    [
      `move post ${post} to ${user}`,
      (db) => db.post.update({ where: { id: post }, data: { author: { connect: { id: user } } } }),
    ],
    ...conduitWrites(r, counters.conduit),
  ]
  const [label, run] = r.pick(options)
  return { label, run }
}

interface Counters {
  user: number
  post: number
  tag: number
  doc: number
  readonly conduit: ConduitCounters
}

async function settle(step: Promise<unknown>): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await step }
  } catch (error) {
    return { ok: false, error }
  }
}

const errorShape = (error: unknown) => ({
  name: (error as Error)?.constructor?.name,
  code: (error as { code?: unknown })?.code,
})

async function seed(db: Db): Promise<Counters> {
  for (let i = 1; i <= 12; i++) {
    await db.user.create({
      data: {
        email: `u${i}@example.com`,
        name: `n${i}`,
        ...(i % 2 === 0 && { profile: { create: { bio: `bio ${i}` } } }),
        posts: {
          create: [
            { title: `p${i}a`, views: BigInt(i), price: `${i}.25`, published: i % 3 === 0, cover: new Uint8Array([i]) },
            { title: `p${i}b`, meta: { i, list: [1, 2] } },
          ],
        },
      },
    })
  }
  for (let i = 1; i <= 6; i++)
    await db.tag.create({ data: { name: `tag${i}`, posts: { connect: [{ id: i }, { id: i + 6 }] } } })
  for (let i = 1; i <= 24; i++) await db.comment.create({ data: { body: `c${i}`, postId: i, authorId: (i % 12) + 1 } })
  return { user: 12, post: 24, tag: 6, doc: 0, conduit: await seedConduit(db) }
}

/** Runs the check; throws (with the seed and the last steps) at the first disagreement. */
export async function runModelCheck(options: ModelCheckOptions): Promise<ModelCheckResult> {
  const { bed, provider, seed: SEED, ops: OPS } = options
  const BUS_DEADLINE_MS = options.busDeadlineMs ?? 250
  const extra = options.redis === undefined ? {} : { redis: options.redis }
  const { under = (c: AnyPrisma) => c, over = (c: AnyPrisma) => c } = options.chain ?? {}
  const plain = await bed.prisma(provider)
  const truth = over(under(plain))
  const a: Instance = await cachedInstance(bed, provider, { auto: true, ...extra }, { under, over })
  const b: Instance = await cachedInstance(bed, provider, { auto: true, ...extra }, { under, over })
  const counters = await seed(plain)
  const r = random(SEED)
  const history: string[] = []
  const fail = (message: string): never => {
    throw new Error(
      `${message}\nseed ${SEED} (MODEL_TEST_SEED=${SEED} replays it)\nlast steps:\n${history.slice(-12).join('\n')}`,
    )
  }

  for (let i = 0; i < OPS; i++) {
    const [self, other] = r.bool() ? [a, b] : [b, a]
    const name = self === a ? 'A' : 'B'
    if (r.next() < 0.8) {
      const step = reads(r, counters.user, counters.post, counters.conduit)
      history.push(`${i} ${name} read ${step.label}`)
      const got = await settle(step.run(self.prisma as unknown as Db))
      const want = await settle(step.run(truth))
      if (got.ok !== want.ok)
        fail(
          `step ${i}: ${step.label}: cached ${got.ok ? 'answered' : 'threw'}, database ${want.ok ? 'answered' : 'threw'}`,
        )
      try {
        if (got.ok && want.ok) expect(got.value).toEqual(want.value)
        else if (!got.ok && !want.ok) expect(errorShape(got.error)).toEqual(errorShape(want.error))
      } catch (error) {
        fail(`step ${i}: ${step.label} on ${name} disagrees with the database: ${(error as Error).message}`)
      }
    } else {
      const step = writes(r, counters)
      history.push(`${i} ${name} write ${step.label}`)
      const delivered = other.nextBusMessage()
      // A write that changed nothing it can tell of (a disconnect of records that were not linked)
      // invalidates nothing, and sends no message: the reads that follow check it was right.
      let invalidated = false
      const heard = () => {
        invalidated = true
      }
      self.events.on('invalidate', heard)
      const outcome = await settle(step.run(self.prisma as unknown as Db))
      self.events.off('invalidate', heard)
      if (!outcome.ok || outcome.value === 'rolled back' || !invalidated) continue
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), BUS_DEADLINE_MS)
      })
      const arrived = await Promise.race([delivered.then(() => 'ok' as const), late])
      clearTimeout(timer)
      if (arrived === 'late') fail(`step ${i}: the other instance got no invalidation within ${BUS_DEADLINE_MS} ms`)
    }
  }

  const stats = [a.prisma.$cache.stats(), b.prisma.$cache.stats()]
  const hits = stats.reduce((sum, s) => sum + s.hits, 0)
  const misses = stats.reduce((sum, s) => sum + s.misses, 0)
  const ratio = hits / (hits + misses)
  console.log(
    `[model-based ${options.label ?? provider}] seed ${SEED}, ${OPS} operations: hit ratio ${(ratio * 100).toFixed(1)}% ` +
      `(${hits} hits, ${misses} misses; L1 ${stats[0]!.l1.hits + stats[1]!.l1.hits}, L2 ${stats[0]!.l2.hits + stats[1]!.l2.hits})`,
  )
  return {
    hits,
    misses,
    hitRate: ratio,
    l1Hits: stats[0]!.l1.hits + stats[1]!.l1.hits,
    l2Hits: stats[0]!.l2.hits + stats[1]!.l2.hits,
  }
}
