import { AsyncLocalStorage } from 'node:async_hooks'
import type { CacheClient } from '../../src/prisma/client-cache.ts'
import { READ_OPERATIONS } from '../../src/prisma/operations.ts'
import { readCounter } from '../contenders/prisma.ts'
import { untilL1Serves, withTieredCache } from '../contenders/tiered-cache.ts'
import { log, median, scaled } from '../harness.ts'
import type { BasePrisma, Bench, Db } from '../setup.ts'
import { MEMBERS, type Op, seed, sequence, slug, TOPICS, topic, username } from './relations-data.ts'

/**
 * A RealWorld ("Conduit") backend's traffic, the relation-heavy shape the precise invalidation
 * rules are for: members who follow each other, articles (author, topics, favorited-by), replies.
 * Reads: an article by slug with its author, the author's followers and the favorites count; lists
 * (global, by topic, by author, favorited by a member, the feed of followed authors) with a page
 * and their count; a profile by username; an article's replies; the popular topics. Writes:
 * favorite and unfavorite, follow and unfollow, reply and delete it, create, update and delete an
 * article. Articles and members are drawn by Zipf (s = 1) popularity, 8 workers, PostgreSQL.
 *
 * Each mix (90/10 and 99/1 reads/writes) runs the same operation sequence on tieredCache (`auto`)
 * and on the client without a cache, order alternating by round, each from an empty cache: a
 * warm-up part (not counted), then the measured part. Hit ratio = 1 - database reads made for
 * reads (a read counter under the cache, lookups beside a load included) / cached reads; a write's
 * own reads count in its time only. The perfect cache's hit ratio is computed on the
 * uncached run of the same sequence: a read is a hit of a perfect cache when its result equals the
 * result of the previous execution of the same read (same query, same arguments), that is, when
 * the read's result is unchanged since the same read last ran; the first execution is a miss.
 * That cache evicts exactly the reads whose result changed, never expires, holds everything.
 */

const PAGE = 10

export interface RelationsRow {
  readonly db: Db
  /** `tieredCache (90/10)`, `no cache (99/1)`. */
  readonly contender: string
  readonly readShare: number
  readonly ops: number
  readonly opsPerSec: readonly number[]
  readonly medianOpsPerSec: number
  /** Of the cached contender; `null` for the uncached one. */
  readonly hitRatio: readonly number[] | null
  readonly medianHitRatio: number | null
  /** A perfect cache's hit ratio on the same sequence (median over rounds). */
  readonly perfectHitRatio: number
  /**
   * Of the cached contender, per round: the share of reads the cache answered (`$cache.stats()`
   * hits over hits and misses). Above `hitRatio` when a miss makes more than one database read (a
   * lookup beside the load, tags/resolutions.ts); `null` for the uncached one.
   */
  readonly servedRatio: readonly number[] | null
  /** Per read kind (`article`, `feed`, ...), over every round: reads, and hit ratios (cached `null` for the uncached row). */
  readonly kinds: Readonly<Record<string, KindRatios>>
}

export interface KindRatios {
  readonly reads: number
  readonly hitRatio: number | null
  readonly perfectHitRatio: number
}

/** The read kind (an operation's `kind`) a database read is made for, to break the hit ratio down. */
const readKind = new AsyncLocalStorage<string>()

/** Database reads per read kind, counted under the cache (a shared load counts for the read that started it). */
function kindCounter(client: BasePrisma, counts: Map<string, number>): BasePrisma {
  return client.$extends({
    name: 'bench:kindCounter',
    query: {
      $allOperations({ operation, args, query }) {
        const kind = readKind.getStore()
        if (kind !== undefined && READ_OPERATIONS.has(operation)) counts.set(kind, (counts.get(kind) ?? 0) + 1)
        return query(args)
      },
    },
  }) as unknown as BasePrisma
}

type Client = BasePrisma

/** Newest first; the id breaks ties, so the order is total (what lets a list outlive edits of other rows). */
const NEWEST: Array<{ createdAt: 'desc' } | { id: 'desc' }> = [{ createdAt: 'desc' }, { id: 'desc' }]

const articleInclude = {
  topics: { select: { name: true } },
  author: { select: { username: true, bio: true, image: true, followedBy: { select: { id: true } } } },
  favoritedBy: { select: { id: true } },
  _count: { select: { favoritedBy: true } },
} as const

/** What one run recorded: each read's key, result and kind, in completion order (uncached run). */
type Trace = Array<[key: string, result: unknown, kind: string]>

/** The reads and writes, written as a Conduit backend writes them. */
/** One read as a Conduit backend makes it: the perfect cache's key, and the model method and arguments. */
export interface ReadQuery {
  readonly key: string
  readonly model: 'article' | 'member' | 'reply' | 'topic'
  readonly operation: 'findUnique' | 'findMany' | 'count'
  readonly args: Record<string, unknown>
}

const list = (key: string, where: object, page: number): ReadQuery[] => [
  {
    key: `list ${key} ${page}`,
    model: 'article',
    operation: 'findMany',
    args: { where, orderBy: NEWEST, skip: page * PAGE, take: PAGE, include: articleInclude },
  },
  { key: `count ${key}`, model: 'article', operation: 'count', args: { where } },
]

/** The reads of each read kind (a list is two: its page and its count). */
export const readQueries: Record<string, (op: Op) => ReadQuery[]> = {
  article: (op) => [
    {
      key: `article ${op.a}`,
      model: 'article',
      operation: 'findUnique',
      args: { where: { slug: slug(op.a) }, include: articleInclude },
    },
  ],
  global: (op) => list('global', {}, op.n % 3),
  topic: (op) => list(`topic ${op.n % TOPICS}`, { topics: { some: { name: topic(op.n % TOPICS) } } }, 0),
  author: (op) => list(`author ${op.m}`, { author: { username: username(op.m) } }, 0),
  favorited: (op) => list(`favorited ${op.m}`, { favoritedBy: { some: { username: username(op.m) } } }, 0),
  feed: (op) => list(`feed ${op.m}`, { author: { followedBy: { some: { id: op.m } } } }, 0),
  profile: (op) => [
    {
      key: `profile ${op.m}`,
      model: 'member',
      operation: 'findUnique',
      args: { where: { username: username(op.m) }, include: { followedBy: { select: { id: true } } } },
    },
  ],
  replies: (op) => [
    {
      key: `replies ${op.a}`,
      model: 'reply',
      operation: 'findMany',
      args: {
        where: { article: { slug: slug(op.a) } },
        orderBy: NEWEST,
        include: {
          author: { select: { username: true, bio: true, image: true, followedBy: { select: { id: true } } } },
        },
      },
    },
  ],
  topics: () => [
    {
      key: 'topics',
      model: 'topic',
      operation: 'findMany',
      args: { orderBy: { articles: { _count: 'desc' } }, take: 10, select: { name: true } },
    },
  ],
}

/** Runs one read on `db`. */
export function runRead(db: Client, query: ReadQuery): Promise<unknown> {
  const delegate = db[query.model] as unknown as Record<string, (args: unknown) => Promise<unknown>>
  return delegate[query.operation]!(query.args)
}

/** The reads and writes, written as a Conduit backend writes them. */
export function operations(db: Client, state: RunState, trace?: Trace) {
  const read = async (query: ReadQuery) => {
    const result = await runRead(db, query)
    const kind = readKind.getStore() ?? '?'
    trace?.push([query.key, result, kind])
    state.reads++
    state.kindReads.set(kind, (state.kindReads.get(kind) ?? 0) + 1)
  }
  const reads: Record<string, (op: Op) => Promise<unknown>> = Object.fromEntries(
    Object.entries(readQueries).map(([kind, queries]) => [kind, (op: Op) => Promise.all(queries(op).map(read))]),
  )
  const writes: Record<string, (op: Op) => Promise<unknown>> = {
    favorite: (op) =>
      db.article.update({
        where: { slug: slug(op.a) },
        data: { favoritedBy: { connect: { id: op.m } } },
        include: articleInclude,
      }),
    unfavorite: (op) =>
      db.article.update({
        where: { slug: slug(op.a) },
        data: { favoritedBy: { disconnect: { id: op.m } } },
        include: articleInclude,
      }),
    follow: (op) =>
      db.member.update({
        where: { username: username(op.m) },
        data: { followedBy: { connect: { id: (op.n % MEMBERS) + 1 } } },
        include: { followedBy: { select: { id: true } } },
      }),
    unfollow: (op) =>
      db.member.update({
        where: { username: username(op.m) },
        data: { followedBy: { disconnect: { id: (op.n % MEMBERS) + 1 } } },
        include: { followedBy: { select: { id: true } } },
      }),
    reply: async (op) => {
      const created = await db.reply.create({
        data: { body: `reply ${op.n}`, article: { connect: { slug: slug(op.a) } }, author: { connect: { id: op.m } } },
        include: { author: { select: { username: true, bio: true, image: true } } },
      })
      state.replies.push(created.id)
    },
    unreply: async (op) => {
      const id = state.replies.shift()
      if (id === undefined) return writes.reply!(op)
      return db.reply.delete({ where: { id } })
    },
    publish: async (op) => {
      const created = await db.article.create({
        data: {
          slug: `new-${state.run}-${op.n}`,
          title: `New article ${op.n}`,
          description: 'd',
          body: 'b',
          author: { connect: { id: op.m } },
          topics: {
            connectOrCreate: [{ where: { name: topic(op.n % TOPICS) }, create: { name: topic(op.n % TOPICS) } }],
          },
        },
        include: articleInclude,
      })
      state.articles.push(created.slug)
    },
    edit: (op) =>
      db.article.update({
        where: { slug: slug(op.a) },
        data: { title: `Title ${op.n}`, body: `Body ${op.n}` },
        include: articleInclude,
      }),
    unpublish: async (op) => {
      const created = state.articles.shift()
      if (created === undefined) return writes.publish!(op)
      return db.article.delete({ where: { slug: created } })
    },
  }
  return { reads, writes }
}

export interface RunState {
  run: number
  reads: number
  /** Reads per kind (a list read is two: the page and its count). */
  readonly kindReads: Map<string, number>
  readonly replies: number[]
  readonly articles: string[]
}

async function run(db: Client, ops: readonly Op[], from: number, to: number, state: RunState, trace?: Trace) {
  const { reads, writes } = operations(db, state, trace)
  let next = from
  const worker = async () => {
    while (next < to) {
      const op = ops[next++]!
      const read = reads[op.kind]
      // A write whose record another worker removed, or a follow of oneself: the same on every contender.
      if (read) await readKind.run(op.kind, () => read(op)).catch(() => {})
      else await writes[op.kind]!(op).catch(() => {})
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
}

/**
 * The share of reads in `trace[from..]` whose result equals the previous result of the same read,
 * in all and per kind (reads and hits added to `kinds`).
 */
function perfectHitRatio(trace: Trace, from: number, kinds: Map<string, { reads: number; hits: number }>): number {
  const last = new Map<string, string>()
  let reads = 0
  let hits = 0
  trace.forEach(([key, result, kind], i) => {
    const text = JSON.stringify(result, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))
    if (i >= from) {
      const k = kinds.get(kind) ?? { reads: 0, hits: 0 }
      kinds.set(kind, k)
      reads++
      k.reads++
      if (last.get(key) === text) {
        hits++
        k.hits++
      }
    }
    last.set(key, text)
  })
  return reads === 0 ? 0 : hits / reads
}

type Tally = Map<string, { reads: number; hits: number }>

function add(into: Tally, kind: string, reads: number, hits: number): void {
  const k = into.get(kind) ?? { reads: 0, hits: 0 }
  k.reads += reads
  k.hits += hits
  into.set(kind, k)
}

/** Per kind: the cached contender's ratio (when measured) beside the perfect cache's, both over every round. */
function kindRatios(cached: Tally | null, perfect: Tally): Record<string, KindRatios> {
  const out: Record<string, KindRatios> = {}
  for (const [kind, p] of [...perfect].sort(([a], [b]) => a.localeCompare(b))) {
    const c = cached?.get(kind)
    out[kind] = {
      reads: p.reads,
      hitRatio: cached === null ? null : c && c.reads > 0 ? c.hits / c.reads : 0,
      perfectHitRatio: p.reads === 0 ? 0 : p.hits / p.reads,
    }
  }
  return out
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`

export async function relations(bench: Bench): Promise<RelationsRow[]> {
  const db: Db = 'postgres'
  if (!bench.dbs.includes(db)) return []
  const base = bench.client(db)
  await seed(base)
  const redis = await bench.redis('bench-relations')
  const kindLoads = new Map<string, number>()
  const cached = withTieredCache(kindCounter(base, kindLoads), redis, {
    prefix: `${bench.prefix}_relations`,
    auto: true,
  })
  const cachedDb = cached.prisma as unknown as Client & { $cache: CacheClient }
  await untilL1Serves(cached.prisma, () => cachedDb.topic.findMany({ where: { id: 1 } }))
  const plain = readCounter()
  const uncachedDb = plain.apply(base)
  const warm = scaled(1_500, 200)
  const measured = scaled(3_000, 300)
  const rounds = scaled(2, 1)
  const rows: RelationsRow[] = []
  let runs = 0
  for (const readShare of [0.9, 0.99]) {
    const mix = `${Math.round(readShare * 100)}/${Math.round((1 - readShare) * 100)}`
    const result = {
      cached: { ops: [] as number[], hits: [] as number[], served: [] as number[] },
      uncached: [] as number[],
      perfect: [] as number[],
      cachedKinds: new Map() as Tally,
      perfectKinds: new Map() as Tally,
    }
    for (let r = 0; r < rounds; r++) {
      const ops = sequence(warm + measured, readShare, 5_000 + r)
      for (const which of r % 2 === 0 ? (['cached', 'uncached'] as const) : (['uncached', 'cached'] as const)) {
        const state: RunState = { run: ++runs, reads: 0, kindReads: new Map(), replies: [], articles: [] }
        const client = which === 'cached' ? cachedDb : uncachedDb
        const trace: Trace | undefined = which === 'uncached' ? [] : undefined
        if (which === 'cached') await cachedDb.$cache.clear()
        await run(client, ops, 0, warm, state, trace)
        const warmReads = trace?.length ?? 0
        const readsBefore = state.reads
        const kindReadsBefore = new Map(state.kindReads)
        const kindLoadsBefore = new Map(kindLoads)
        const statsBefore = cachedDb.$cache.stats()
        const start = process.hrtime.bigint()
        await run(client, ops, warm, warm + measured, state, trace)
        const seconds = Number(process.hrtime.bigint() - start) / 1e9
        if (which === 'cached') {
          result.cached.ops.push(measured / seconds)
          // The database reads made for reads (loads and the lookups beside them); a write's own
          // reads (the keys a link write looks up, what a delete reads first) are in its cost, not here.
          let loadsMade = 0
          for (const [kind, n] of kindLoads) loadsMade += n - (kindLoadsBefore.get(kind) ?? 0)
          result.cached.hits.push(1 - loadsMade / (state.reads - readsBefore))
          const stats = cachedDb.$cache.stats()
          const hits = stats.hits - statsBefore.hits
          result.cached.served.push(hits / (hits + stats.misses - statsBefore.misses))
          for (const [kind, n] of state.kindReads) {
            const reads = n - (kindReadsBefore.get(kind) ?? 0)
            const loads = (kindLoads.get(kind) ?? 0) - (kindLoadsBefore.get(kind) ?? 0)
            add(result.cachedKinds, kind, reads, reads - loads)
          }
        } else {
          result.uncached.push(measured / seconds)
          result.perfect.push(perfectHitRatio(trace as Trace, warmReads, result.perfectKinds))
        }
      }
      const last = result.cached.hits.length - 1
      log(
        `relations: ${mix} round ${r + 1}/${rounds}: hit ratio ${pct(result.cached.hits[last] ?? 0)} (served from cache ${pct(result.cached.served[last] ?? 0)}), perfect ${pct(result.perfect[result.perfect.length - 1] ?? 0)}`,
      )
    }
    const perfect = median(result.perfect)
    const kinds = kindRatios(result.cachedKinds, result.perfectKinds)
    for (const [kind, k] of Object.entries(kinds)) {
      log(
        `relations ${mix} ${kind.padEnd(9)} reads ${String(k.reads).padStart(5)}  cached ${pct(k.hitRatio ?? 0).padStart(6)}  perfect ${pct(k.perfectHitRatio).padStart(6)}`,
      )
    }
    rows.push({
      db,
      contender: `tieredCache (${mix})`,
      readShare,
      ops: measured,
      opsPerSec: result.cached.ops,
      medianOpsPerSec: median(result.cached.ops),
      hitRatio: result.cached.hits,
      medianHitRatio: median(result.cached.hits),
      perfectHitRatio: perfect,
      servedRatio: result.cached.served,
      kinds,
    })
    rows.push({
      db,
      contender: `no cache (${mix})`,
      readShare,
      ops: measured,
      opsPerSec: result.uncached,
      medianOpsPerSec: median(result.uncached),
      hitRatio: null,
      medianHitRatio: null,
      perfectHitRatio: perfect,
      servedRatio: null,
      kinds: kindRatios(null, result.perfectKinds),
    })
  }
  await cachedDb.$cache.close()
  return rows
}
