import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { isAbsolute, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { LRUCache } from 'lru-cache'
import { type After, withChainedTieredCache } from '../contenders/chains.ts'
import { untilL1Serves, withTieredCache } from '../contenders/tiered-cache.ts'
import { type Contender, interleave, log, type Sample } from '../harness.ts'
import { HOT_USER_ID, setup } from '../setup.ts'

/**
 * Where the time of an L1 hit goes, part by part, against the *built* package (the tsx `__name`
 * wrappers distort src/): each part runs alone, interleaved with the others in the same rounds.
 *   npx tsc -p tsconfig.build.json --outDir .tmp/dist && BENCH_DIST=.tmp/dist npx tsx bench/profile/l1-hit.ts
 * With `BENCH_DIST` unset it measures .tmp/dist. SQLite client; the hit never reaches the database.
 * `PARTS=lone,floor` measures only the parts whose names contain one of the words.
 * `... l1-hit.ts <part> [seconds]` profiles the loop of one part instead (its name, or a word of it:
 * `lone`, `chained`, `call`), written to .tmp/l1-<part>.cpuprofile for bench/profile/summary.ts.
 */
process.env.BENCH_DIST ??= '.tmp/dist'
const dist = isAbsolute(process.env.BENCH_DIST) ? process.env.BENCH_DIST : resolve(process.env.BENCH_DIST)
const load = async <T>(path: string) => (await import(pathToFileURL(join(dist, path)).href)) as T

const { readKey } = await load<typeof import('../../src/prisma/query-keys.ts')>('prisma/query-keys.js')
const { cloneValue } = await load<typeof import('../../src/core/clone.ts')>('core/clone.js')
const { canonical } = await load<typeof import('../../src/core/canonical.ts')>('core/canonical.js')
const { MemoryCache } = await load<typeof import('../../src/cache/memory.ts')>('cache/memory.js')
const { lookedUpRecord } = await load<typeof import('../../src/prisma/tags/record-identity.ts')>(
  'prisma/tags/record-identity.js',
)
const { buildDataModel } =
  await load<typeof import('../../src/prisma/schema/datamodel.ts')>('prisma/schema/datamodel.js')

const bench = await setup(['sqlite'])
try {
  const base = bench.client('sqlite')
  const id = HOT_USER_ID
  const args = () => ({ where: { id } })
  const row = await base.user.findUnique(args())
  const { prisma } = withTieredCache(base, await bench.redis('bench-l1-hit'), { prefix: `${bench.prefix}_l1hit` })
  // Clients with one extension applied before the cache and one after (contenders/chains.ts).
  const chain = async (after: After) =>
    withChainedTieredCache(base, await bench.redis(`bench-l1-${after}`), `${bench.prefix}_l1${after}`, after).prisma
  const byModel = await chain('model')
  const byResult = await chain('result')
  // As an application writes it: an object literal (`{ ...args(), cache: true }` alone costs ~0.3 µs on Node 20).
  const read = () => prisma.user.findUnique({ where: { id }, cache: true })
  const readModel = () => byModel.user.findUnique({ where: { id }, cache: true })
  const readResult = () => byResult.user.findUnique({ where: { id }, cache: true })
  for (const [name, r, p] of [
    ['lone', read, prisma],
    ['model-after', readModel, byModel],
  ] as const)
    if (!(await untilL1Serves(p, r))) log(`warning: the ${name} client's L1 never served`)

  const scope = { prefix: `${bench.prefix}_l1hit`, fingerprint: 'f3a9c1d07b2e.abcdefghijkl' }
  const internals = base as unknown as Record<string, unknown>
  const dm = buildDataModel(
    internals._runtimeDataModel as Parameters<typeof buildDataModel>[0],
    (internals._engineConfig as { inlineSchema?: string }).inlineSchema,
  )
  const record = lookedUpRecord(dm, 'User', 'findUnique', args()) ?? undefined
  const key = () => readKey(scope, 'User', 'findUnique', args(), undefined, record)
  const known = key()
  const map = new Map([[known, row]])
  const lru = new LRUCache<string, object>({ max: 50_000 })
  lru.set(known, { value: row })
  const memory = new MemoryCache({ max: 50_000, ttl: 3600 })
  memory.set(known, row, { ttl: 3600 })
  const delegate = prisma.user as unknown as Record<string, unknown>

  const parts: Contender[] = [
    { name: 'L1 hit, lone', run: read },
    { name: 'L1 hit, passThrough before + model extension after', run: readModel },
    { name: 'findUnique() call only (no then)', run: () => void read() },
    { name: 'floor: key + Map.get + cloneValue', run: () => cloneValue(map.get(key())) },
    { name: 'await of a constant (loop cost)', run: () => undefined },
    { name: 'canonical(args)', run: () => canonical(args()) },
    { name: 'lookedUpRecord', run: () => lookedUpRecord(dm, 'User', 'findUnique', args()) },
    { name: 'readKey (record given)', run: key },
    { name: 'Map.get, fresh key', run: () => map.get(key()) },
    { name: 'LRUCache.get, fresh key', run: () => lru.get(key()) },
    { name: 'MemoryCache.get, fresh key (copy included)', run: () => memory.get(key()) },
    { name: 'cloneValue(row)', run: () => cloneValue(row) },
    { name: 'prisma.user.findUnique (2 proxy gets)', run: () => prisma.user.findUnique },
    { name: 'delegate.$parent (proxy get)', run: () => delegate.$parent },
    { name: 'Promise.resolve(v).then(f)', run: () => Promise.resolve(row).then((v) => v) },
  ]
  // A read cached in an inner query hook runs inside an AsyncLocalStorage (as a $transaction does):
  // from then on, Node 20 runs its promise hooks on every promise of the process, hits included.
  const withHooks: Contender[] = [
    { name: 'L1 hit, lone (promise hooks on)', run: read },
    { name: 'L1 hit, model extension after (promise hooks on)', run: readModel },
    { name: 'L1 hit, passThrough before + result extension after (inner hook)', run: readResult },
    { name: 'await of a constant (promise hooks on)', run: () => undefined },
  ]
  const only = process.argv[2]
  if (only !== undefined) {
    const find = (list: Contender[]) => list.find((c) => c.name === only) ?? list.find((c) => c.name.includes(only))
    let part = find(parts)
    if (part === undefined) {
      await untilL1Serves(byResult, readResult)
      part = find(withHooks)
    }
    if (part === undefined) throw new Error(`no part named ${only}`)
    await profile(part, Number(process.argv[3] ?? 5), `.tmp/l1-${only}.cpuprofile`)
  } else {
    const rounds = Number(process.env.ROUNDS ?? 30)
    const print = (samples: Sample[]) => {
      for (const s of samples)
        console.log(
          `${s.name.padEnd(66)}  ${s.median.toFixed(3).padStart(7)} µs  (${s.p25.toFixed(2)}-${s.p75.toFixed(2)})`,
        )
    }
    // PARTS=lone,floor: only the parts whose names contain one of these words.
    const wanted = process.env.PARTS?.split(',')
    const pick = (list: Contender[]) => (wanted ? list.filter((c) => wanted.some((w) => c.name.includes(w))) : list)
    if (pick(parts).length > 0) print(await interleave(pick(parts), { rounds }))
    if (pick(withHooks).length > 0) {
      if (!(await untilL1Serves(byResult, readResult))) log("warning: the result-after client's L1 never served")
      print(await interleave(pick(withHooks), { rounds }))
    }
  }
  for (const client of [prisma, byModel, byResult]) await client.$cache.close()
} finally {
  await bench.close()
}

/** Runs `part` in a loop for `seconds` under V8's sampling profiler (after a second of warm-up). */
async function profile(part: Contender, seconds: number, out: string) {
  const loop = async (ms: number) => {
    const end = Date.now() + ms
    let ops = 0
    const start = process.hrtime.bigint()
    while (Date.now() < end) {
      for (let i = 0; i < 100; i++) await part.run(ops + i)
      ops += 100
    }
    return { ops, us: Number(process.hrtime.bigint() - start) / 1000 / ops }
  }
  await loop(1_000)
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 50 })
  await session.post('Profiler.start')
  const { ops, us } = await loop(seconds * 1000)
  const { profile } = await session.post('Profiler.stop')
  session.disconnect()
  writeFileSync(out, JSON.stringify(profile))
  log(`${part.name}: ${ops} ops, ${us.toFixed(3)} µs/op (profiled); wrote ${out}`)
}
