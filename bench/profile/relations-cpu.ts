import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { withTieredCache } from '../contenders/tiered-cache.ts'
import { log } from '../harness.ts'
import { operations, type RunState, readQueries } from '../scenarios/relations.ts'
import { seed, sequence } from '../scenarios/relations-data.ts'
import { type BasePrisma, setup } from '../setup.ts'

/**
 * Where the relations scenario's time goes, cached or not: runs its sequence (warm-up, then the
 * measured part with 8 workers) and reports ops/s, this process's CPU per operation and the
 * PostgreSQL server's (all `postgres` processes, from /proc), and writes a V8 profile of the
 * measured part.
 *   npx tsx bench/profile/relations-cpu.ts cached|uncached [readShare] [out.cpuprofile]
 *   npx tsx bench/profile/summary.ts out.cpuprofile
 */
const mode = process.argv[2] ?? 'cached'
const readShare = Number(process.argv[3] ?? 0.9)
const out = process.argv[4] ?? `.tmp/relations-${mode}.cpuprofile`
const WARM = 1_500
const MEASURED = 3_000

/** CPU seconds of every process named `postgres` (user + system, from /proc/<pid>/stat). */
function postgresCpu(): number {
  const tick = 100
  let total = 0
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      if (name !== 'postgres') continue
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      total += (Number(fields[11]) + Number(fields[12])) / tick
    } catch {
      // Gone meanwhile.
    }
  }
  return total
}

const bench = await setup(['postgres'])
try {
  const base = bench.client('postgres')
  await seed(base)
  const db = (mode === 'cached'
    ? withTieredCache(base, await bench.redis('relations-cpu'), { prefix: `${bench.prefix}_cpu`, auto: true }).prisma
    : base) as unknown as BasePrisma
  const state: RunState = { run: 1, reads: 0, kindReads: new Map(), replies: [], articles: [] }
  const { reads, writes } = operations(db, state)
  const ops = sequence(WARM + MEASURED, readShare, 5_000)
  const run = async (from: number, to: number) => {
    let next = from
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < to) {
          const op = ops[next++]!
          await (readQueries[op.kind] ? reads[op.kind]!(op) : writes[op.kind]!(op)).catch(() => {})
        }
      }),
    )
  }
  await run(0, WARM)
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 200 })
  await session.post('Profiler.start')
  const cpu = process.cpuUsage()
  const pg = postgresCpu()
  const start = process.hrtime.bigint()
  await run(WARM, WARM + MEASURED)
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  const used = process.cpuUsage(cpu)
  const pgUsed = postgresCpu() - pg
  const { profile } = await session.post('Profiler.stop')
  session.disconnect()
  writeFileSync(out, JSON.stringify(profile))
  const perOp = (s: number) => `${((s / MEASURED) * 1e6).toFixed(0)} µs`
  log(
    `${mode} ${readShare}: ${(MEASURED / seconds).toFixed(0)} ops/s; per op: node CPU ${perOp((used.user + used.system) / 1e6)}, postgres CPU ${perOp(pgUsed)}, wall ${perOp(seconds)}; wrote ${out}`,
  )
  await (db as unknown as { $cache?: { close(): Promise<void> } }).$cache?.close()
} finally {
  await bench.close()
}
