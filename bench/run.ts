import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Redis } from 'ioredis'
import { writeChart } from './chart.ts'
import { log, SCALE } from './harness.ts'
import {
  changeCaptureTable,
  invalidationTable,
  latencyTables,
  memoryTable,
  type Results,
  relationsTable,
  roundTripTable,
  stampedeTable,
  targets,
  targetTable,
  zipfTable,
} from './report.ts'
import { changeCapture } from './scenarios/change-capture.ts'
import { durableWrites } from './scenarios/durable.ts'
import { invalidation } from './scenarios/invalidation.ts'
import { latency } from './scenarios/latency.ts'
import { memory } from './scenarios/memory.ts'
import { relations } from './scenarios/relations.ts'
import { roundTrips } from './scenarios/round-trips.ts'
import { stampede } from './scenarios/stampede.ts'
import { tracingCost } from './scenarios/tracing.ts'
import { zipf } from './scenarios/zipf.ts'
import { type Db, REDIS_URL, setup } from './setup.ts'

/**
 * `npm run bench`: every scenario in one process, results printed as tables and written to
 * bench/results/latest.json, drawn in bench/results/chart.svg. Environment:
 *   BENCH_SCALE=0.3          fewer rounds and operations (default 1)
 *   BENCH_DBS=sqlite         databases for the latency groups (default sqlite,postgres)
 *   BENCH_ONLY=latency,zipf  a subset of: latency, roundtrips, invalidation, stampede, zipf, memory,
 *                            change-capture, relations, durable, tracing
 *   BENCH_ZIPF_DBS=postgres  databases for the Zipf workload (default postgres)
 *   BENCH_KEEP_DB=1          keep the ptc_bench_<pid> PostgreSQL database afterwards
 *   BENCH_DIST=.tmp/dist     measure a build of src/ (tsc -p tsconfig.build.json --outDir .tmp/dist)
 *                            instead of src/ through tsx
 */

const here = dirname(fileURLToPath(import.meta.url))
const SCENARIOS = [
  'latency',
  'roundtrips',
  'invalidation',
  'stampede',
  'zipf',
  'memory',
  'change-capture',
  'relations',
] as const
const only = new Set(process.env.BENCH_ONLY?.split(',').map((s) => s.trim()) ?? SCENARIOS)
const dbs = (process.env.BENCH_DBS?.split(',').map((s) => s.trim()) ?? ['sqlite', 'postgres']) as Db[]

function version(pkg: string): string {
  try {
    const file = join(here, '..', 'node_modules', ...pkg.split('/'), 'package.json')
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

async function serverVersions() {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 })
  redis.on('error', () => {})
  try {
    const info = await redis.info('server')
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown'
  } catch {
    return 'unreachable'
  } finally {
    redis.disconnect()
  }
}

async function main() {
  const started = new Date()
  const machine = {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: started.toISOString(),
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    redis: await serverVersions(),
    packages: Object.fromEntries(
      [
        '@prisma/client',
        'prisma',
        '@prisma/adapter-pg',
        '@prisma/adapter-better-sqlite3',
        'ioredis',
        'superjson',
        'lru-cache',
        'prisma-extension-redis',
        'bentocache',
      ].map((p) => [p, version(p)]),
    ),
    scale: SCALE,
    extension: process.env.BENCH_DIST ? `build in ${process.env.BENCH_DIST}` : 'src/ through tsx',
  }
  log(`tieredCache bench: scale ${SCALE}, databases ${dbs.join(', ')}, scenarios ${[...only].join(', ')}`)
  const bench = await setup(dbs)
  const results: Results = {}
  const timings: Record<string, number> = {}
  const step = async <K extends keyof Results>(
    name: (typeof SCENARIOS)[number],
    key: K,
    fn: () => Promise<Results[K]>,
  ) => {
    if (!only.has(name)) return
    const t = Date.now()
    try {
      results[key] = await fn()
    } catch (error) {
      // One scenario failing (say, a contender that broke) must not lose the others' results.
      log(`scenario ${name} failed: ${(error as Error).stack ?? error}`)
    }
    timings[name] = Math.round((Date.now() - t) / 100) / 10
  }
  try {
    await step('latency', 'latency', () => latency(bench))
    await step('roundtrips', 'roundTrips', () => roundTrips(bench))
    await step('invalidation', 'invalidation', () => invalidation(bench))
    await step('stampede', 'stampede', () => stampede(bench))
    await step('zipf', 'zipf', () => zipf(bench))
    await step('memory', 'memory', () => memory(bench))
    await step('change-capture', 'changeCapture', () => changeCapture(bench))
    await step('relations', 'relations', () => relations(bench))
    if (!process.env.BENCH_ONLY || only.has('durable'))
      results.durable = await durableWrites(bench).catch((e) => {
        log(`durable: ${e}`)
        return undefined
      })
    // Last: it registers a global tracer provider (disabled again when it ends).
    if ((!process.env.BENCH_ONLY || only.has('tracing')) && dbs.includes('sqlite'))
      await tracingCost(bench).catch((e) => log(`tracing: ${e}`))
  } finally {
    await bench.close()
  }

  const targetList = targets(results)
  const sections: string[] = [
    `tieredCache benchmark — ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, Redis ${machine.redis}, ${machine.date}`,
    `extension: ${machine.extension}; scale ${SCALE}; load average at start ${machine.loadAverageAtStart.join(' ')}, at end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; seconds per scenario ${JSON.stringify(timings)}`,
  ]
  if (results.latency)
    sections.push(
      `== Latency (µs/op; speedup = uncached / row; x floor = row / floor)\n\n${latencyTables(results.latency)}`,
    )
  if (targetList.length > 0) sections.push(`== Targets\n\n${targetTable(targetList)}`)
  if (results.roundTrips) sections.push(`== Redis round trips per operation\n\n${roundTripTable(results.roundTrips)}`)
  if (results.invalidation) sections.push(`== Invalidation of one tag\n\n${invalidationTable(results.invalidation)}`)
  if (results.stampede)
    sections.push(
      `== Stampede: 1 000 concurrent identical misses over two instances\n\n${stampedeTable(results.stampede)}`,
    )
  if (results.zipf)
    sections.push(`== Zipf (s=1) 90/10 read/write over 10 000 users, 8 workers\n\n${zipfTable(results.zipf)}`)
  if (results.memory) sections.push(`== L1 memory\n\n${memoryTable(results.memory)}`)
  if (results.changeCapture)
    sections.push(`== Change capture (PostgreSQL)\n\n${changeCaptureTable(results.changeCapture)}`)
  if (results.relations)
    sections.push(`== Relation-heavy (Conduit) reads, Zipf, 8 workers\n\n${relationsTable(results.relations)}`)
  process.stdout.write(`${sections.join('\n\n')}\n`)

  const out = join(here, 'results', 'latest.json')
  mkdirSync(dirname(out), { recursive: true })
  writeFileSync(
    out,
    `${JSON.stringify({ machine: { ...machine, loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100) }, timings, targets: targetList, results }, null, 2)}\n`,
  )
  log(`wrote ${out}`)
  log(`wrote ${writeChart(out)}`)
}

main().then(
  // Libraries keep timers and sockets (bus retry queues); everything of ours is closed, so leave.
  () => process.exit(0),
  (error) => {
    log(String((error as Error).stack ?? error))
    process.exit(1)
  },
)
