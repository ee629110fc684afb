import { setImmediate as yieldToIo } from 'node:timers/promises'
import type { Instance } from './cached.ts'
import type { AnyPrisma } from './factory.ts'
import { random } from './random.ts'

/**
 * Records whose every write raises a number: `Document.version` and `Post.views` (BigInt). A read
 * that returns a smaller number than a write that resolved before the read started is stale.
 */
export interface Dataset {
  readonly documents: readonly string[]
  readonly users: readonly number[]
  readonly posts: readonly { readonly id: number; readonly authorId: number }[]
}

/** Creates `users` users with `postsPerUser` posts each, and `documents` documents. */
export async function seedDataset(
  base: AnyPrisma,
  tag: string,
  sizes = { users: 4, postsPerUser: 2, documents: 8 },
): Promise<Dataset> {
  const documents: string[] = []
  for (let i = 0; i < sizes.documents; i++)
    documents.push((await base.document.create({ data: { title: `doc ${i}` } })).id)
  const users: number[] = []
  const posts: { id: number; authorId: number }[] = []
  for (let i = 0; i < sizes.users; i++) {
    const user = await base.user.create({
      data: {
        email: `${tag}-${i}@example.com`,
        name: `user ${i}`,
        posts: { create: Array.from({ length: sizes.postsPerUser }, (_, p) => ({ title: `post ${i}.${p}` })) },
      },
      include: { posts: true },
    })
    users.push(user.id)
    for (const post of user.posts) posts.push({ id: post.id, authorId: user.id })
  }
  return { documents, users, posts }
}

/** What one instance did during a workload. */
export interface InstanceTally {
  reads: number
  /** Writes that resolved. */
  writes: number
  /** Every query that threw (the cache must never make one fail). */
  failures: unknown[]
  /** Reads that returned a record older than a write this instance had finished before the read began. */
  stale: string[]
}

type Floors = Map<string, number>

/** Raises the floor of `record` on this instance to `value` (the write has resolved). */
function raise(floors: Floors, record: string, value: number): void {
  if ((floors.get(record) ?? 0) < value) floors.set(record, value)
}

/** `cache: true` for a cached client; nothing for the plain one, which does not know the option. */
const cached = (cache: boolean) => (cache ? { cache: true } : {}) as {}

/** The read shapes the workload uses; the final check reads through the same ones (same cache keys). */
export const reads = {
  document: (p: AnyPrisma, id: string, cache: boolean) => p.document.findUnique({ where: { id }, ...cached(cache) }),
  documents: (p: AnyPrisma, cache: boolean) => p.document.findMany({ orderBy: { id: 'asc' }, ...cached(cache) }),
  userWithPosts: (p: AnyPrisma, id: number, cache: boolean) =>
    p.user.findUnique({ where: { id }, include: { posts: { orderBy: { id: 'asc' } } }, ...cached(cache) }),
  postsOf: (p: AnyPrisma, authorId: number, cache: boolean) =>
    p.post.findMany({ where: { authorId }, orderBy: { id: 'asc' }, ...cached(cache) }),
}

/**
 * Runs `workers` concurrent loops on each instance, mixing the reads above with writes that raise
 * versions, until `keepGoing()` is false. Each read is checked against the versions this instance's
 * own writes had reached when the read began (read-your-writes, DESIGN.md "Consistency" 1).
 * `onOperation` is called after each operation, to let a test wait for progress without sleeping.
 */
export function runWorkload(
  instances: readonly Instance[],
  data: Dataset,
  options: { workers: number; seed: number; keepGoing: () => boolean; onOperation?: () => void },
): { tallies: InstanceTally[]; done: Promise<void> } {
  const tallies = instances.map((): InstanceTally => ({ reads: 0, writes: 0, failures: [], stale: [] }))
  const loops: Promise<void>[] = []
  for (const [index, instance] of instances.entries()) {
    const floors: Floors = new Map()
    const tally = tallies[index]!
    for (let w = 0; w < options.workers; w++) {
      const rng = random(options.seed * 1000 + index * 100 + w)
      loops.push(
        (async () => {
          while (options.keepGoing()) {
            try {
              await operation(instance.prisma as unknown as AnyPrisma, data, rng, floors, tally)
            } catch (error) {
              tally.failures.push(error)
            }
            options.onOperation?.()
            // An L1 hit resolves without I/O: let bus messages and timers in between operations.
            await yieldToIo()
          }
        })(),
      )
    }
  }
  return { tallies, done: Promise.all(loops).then(() => {}) }
}

async function operation(
  prisma: AnyPrisma,
  data: Dataset,
  rng: ReturnType<typeof random>,
  floors: Floors,
  tally: InstanceTally,
): Promise<void> {
  const roll = rng.next()
  const check = (record: string, floor: number, got: number | undefined) => {
    if (got === undefined || got < floor) tally.stale.push(`${record}: read ${got} after a write of ${floor}`)
  }
  if (roll < 0.3) {
    const id = rng.pick(data.documents)
    const floor = floors.get(`d:${id}`) ?? 0
    tally.reads++
    check(`d:${id}`, floor, (await reads.document(prisma, id, true))?.version)
  } else if (roll < 0.4) {
    const before = new Map(floors)
    tally.reads++
    for (const document of await reads.documents(prisma, true))
      check(`d:${document.id}`, before.get(`d:${document.id}`) ?? 0, document.version)
  } else if (roll < 0.55) {
    const id = rng.pick(data.users)
    const before = new Map(floors)
    tally.reads++
    const user = await reads.userWithPosts(prisma, id, true)
    for (const post of user?.posts ?? []) check(`p:${post.id}`, before.get(`p:${post.id}`) ?? 0, Number(post.views))
  } else if (roll < 0.65) {
    const authorId = rng.pick(data.users)
    const before = new Map(floors)
    tally.reads++
    for (const post of await reads.postsOf(prisma, authorId, true))
      check(`p:${post.id}`, before.get(`p:${post.id}`) ?? 0, Number(post.views))
  } else if (roll < 0.82) {
    const id = rng.pick(data.documents)
    const written = await prisma.document.update({ where: { id }, data: { version: { increment: 1 } } })
    tally.writes++
    raise(floors, `d:${id}`, written.version)
  } else if (roll < 0.94) {
    const post = rng.pick(data.posts)
    const written = await prisma.post.update({ where: { id: post.id }, data: { views: { increment: 1 } } })
    tally.writes++
    raise(floors, `p:${post.id}`, Number(written.views))
  } else {
    // A nested write: the post changes through its author.
    const post = rng.pick(data.posts)
    const author = await prisma.user.update({
      where: { id: post.authorId },
      data: { posts: { update: { where: { id: post.id }, data: { views: { increment: 1 } } } } },
      include: { posts: true },
    })
    tally.writes++
    const written = author.posts.find((p) => p.id === post.id)
    if (written) raise(floors, `p:${post.id}`, Number(written.views))
  }
}

/** JSON with BigInt, for comparing cached and database results. */
const canonical = (value: unknown) => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))

/**
 * Reads every record of the dataset through each instance's cache, with the workload's read
 * shapes, and through the uncached client; returns every disagreement (none expected once writes
 * have stopped and the bus has drained).
 */
export async function disagreements(instances: readonly Instance[], base: AnyPrisma, data: Dataset) {
  const found: string[] = []
  const compare = async (what: string, read: (p: AnyPrisma, cache: boolean) => Promise<unknown>) => {
    const truth = canonical(await read(base, false))
    for (const [i, instance] of instances.entries()) {
      const answer = canonical(await read(instance.prisma as unknown as AnyPrisma, true))
      if (answer !== truth) found.push(`instance ${i}, ${what}: cached ${answer}, database ${truth}`)
    }
  }
  for (const id of data.documents) await compare(`document ${id}`, (p, c) => reads.document(p, id, c))
  await compare('all documents', (p, c) => reads.documents(p, c))
  for (const id of data.users) {
    await compare(`user ${id} with posts`, (p, c) => reads.userWithPosts(p, id, c))
    await compare(`posts of ${id}`, (p, c) => reads.postsOf(p, id, c))
  }
  return found
}

/** p50, p99 and max of a list of milliseconds, rounded to 0.01 ms. */
export function percentiles(samples: readonly number[]) {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN
  const round = (n: number) => Math.round(n * 100) / 100
  return { n: sorted.length, p50: round(at(0.5)), p99: round(at(0.99)), max: round(sorted.at(-1) ?? NaN) }
}
