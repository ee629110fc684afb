import { AsyncLocalStorage } from 'node:async_hooks'
import { EventEmitter } from 'node:events'
import type { CacheClient } from '../../src/prisma/client-cache.ts'
import { tieredCache } from '../../src/prisma/extension.ts'
import { log } from '../harness.ts'
import { operations, type ReadQuery, type RunState, readQueries, runRead } from '../scenarios/relations.ts'
import { seed, sequence } from '../scenarios/relations-data.ts'
import { type BasePrisma, setup } from '../setup.ts'

/**
 * Why the relations scenario's cache misses where a perfect cache hits: runs its sequence one
 * operation at a time on one instance (L1 only, so every store lands before the next operation)
 * and, for each read a perfect cache would serve (result unchanged since the same read last ran)
 * that tieredCache loads, says why: its last load was not stored, or the write that evicted it and
 * the tags of that write the entry carried.
 *   npx tsx bench/profile/relations-misses.ts [ops] [readShare] [seed]
 */
const count = Number(process.argv[2] ?? 4_500)
const readShare = Number(process.argv[3] ?? 0.9)
const seedArg = Number(process.argv[4] ?? 5_000)
const SHOW = Number(process.env.SHOW ?? 12)
/** Operations before this index warm the cache and are not counted (the bench's warm-up part). */
const WARM = Number(process.env.WARM ?? 1_500)
/** Concurrent workers (the bench runs 8); with more than one, a load's store may be refused by a write beside it. */
const WORKERS = Number(process.env.WORKERS ?? 1)
/** `REDIS=1`: L1 and L2 as in the bench, rather than L1 alone. */
const WITH_REDIS = process.env.REDIS === '1'

const bench = await setup(['postgres'])
try {
  const base = bench.client('postgres')
  await seed(base)
  const bumped: string[][] = []
  const events = new EventEmitter()
  events.on('invalidate', ({ tags }: { tags: string[] }) => bumped[bumped.length - 1]?.push(...tags))
  // Database reads per cached read, counted under the cache (a shared load counts for the read that started it).
  const loads = new AsyncLocalStorage<{ n: number }>()
  const counted = base.$extends({
    query: {
      $allOperations({ args, query }) {
        const store = loads.getStore()
        if (store) store.n++
        return query(args)
      },
    },
  }) as unknown as BasePrisma
  const db = counted.$extends(
    tieredCache({
      redis: WITH_REDIS ? await bench.redis('relations-misses') : null,
      prefix: `${bench.prefix}_misses`,
      auto: true,
      ttl: 3600,
      l1: { max: 100_000, ttl: 3600 },
      events,
    }),
  ) as unknown as BasePrisma & { $cache: CacheClient }
  const state: RunState = { run: 1, reads: 0, kindReads: new Map(), replies: [], articles: [] }
  const { writes } = operations(db, state)
  /** Per read key: the last result (JSON) and, when its last load was stored, the write index it was stored after and its tags. */
  const last = new Map<string, { text: string; stored: { after: number; tags: Set<string> } | null }>()
  const writeKinds: string[] = []
  const tally = new Map<string, number>()
  const bump = (k: string) => tally.set(k, (tally.get(k) ?? 0) + 1)
  const perKind = new Map<string, { reads: number; hits: number; perfect: number }>()
  const explain = (q: ReadQuery) =>
    db.$cache.explain({ model: q.model[0]!.toUpperCase() + q.model.slice(1), operation: q.operation, args: q.args })
  const ops = sequence(count, readShare, seedArg)
  let next = 0
  const step = async (index: number) => {
    const op = ops[index]!
    const measured = index >= WARM
    const queries = readQueries[op.kind]
    if (!queries) {
      writeKinds.push(op.kind)
      bumped.push([])
      await writes[op.kind]!(op).catch(() => {})
      return
    }
    for (const q of queries(op)) {
      const store = { n: 0 }
      const result = await loads.run(store, async () => await runRead(db, q))
      const hit = store.n === 0
      const text = JSON.stringify(result, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))
      const prev = last.get(q.key)
      const perfect = prev !== undefined && prev.text === text
      const k = perKind.get(op.kind) ?? { reads: 0, hits: 0, perfect: 0 }
      if (measured) {
        perKind.set(op.kind, k)
        k.reads++
        if (hit) k.hits++
        if (perfect) k.perfect++
      }
      if (measured && perfect && !hit) {
        const read = `${op.kind}/${q.operation}`
        if (prev.stored === null) bump(`${read} <- not stored`)
        else {
          let found = false
          for (let w = prev.stored.after; w < bumped.length; w++) {
            const hitTags = bumped[w]!.filter((t) => prev.stored!.tags.has(t))
            if (hitTags.length > 0) {
              const shapes = [
                ...new Set(hitTags.map((t) => t.replace(/:[^:]*$/, (m) => (/^:\d|^:\[|^:"/.test(m) ? ':<v>' : m)))),
              ]
              bump(`${read} <- ${writeKinds[w]} via ${shapes.sort().join(' ')}`)
              found = true
              break
            }
          }
          if (!found) bump(`${read} <- evicted, no write's tag (lru/ttl?)`)
        }
      }
      let stored: { after: number; tags: Set<string> } | null = prev?.stored ?? null
      if (!hit) {
        await db.$cache.settled()
        const e = await explain(q)
        stored = e.l1 === 'fresh' ? { after: bumped.length, tags: new Set([...e.tags, ...e.resultTags]) } : null
      }
      last.set(q.key, { text, stored })
    }
  }
  await Promise.all(
    Array.from({ length: WORKERS }, async () => {
      while (next < ops.length) await step(next++)
    }),
  )
  let reads = 0
  let hits = 0
  let perfect = 0
  for (const [kind, k] of [...perKind].sort()) {
    reads += k.reads
    hits += k.hits
    perfect += k.perfect
    log(
      `${kind.padEnd(10)} reads ${String(k.reads).padStart(5)} hit ${((k.hits / k.reads) * 100).toFixed(1).padStart(5)}% perfect ${((k.perfect / k.reads) * 100).toFixed(1).padStart(5)}%`,
    )
  }
  log(
    `all        reads ${reads} hit ${((hits / reads) * 100).toFixed(1)}% perfect ${((perfect / reads) * 100).toFixed(1)}%`,
  )
  const wideDeletes = (tag: string) =>
    writeKinds.filter((kind, i) => kind === 'unpublish' && bumped[i]!.includes(tag)).length
  log(
    `deletes: ${writeKinds.filter((kind) => kind === 'unpublish').length}, of which wide on links ${wideDeletes('L:Topic.articles:name')}, on replies ${wideDeletes('a:Reply')}`,
  )
  log('misses a perfect cache would not have, by read and cause:')
  for (const [why, n] of [...tally].sort((a, b) => b[1] - a[1]).slice(0, SHOW * 4))
    log(`${String(n).padStart(5)}  ${why}`)
  await db.$cache.close()
} finally {
  await bench.close()
}
