import type { ChangeCaptureResult } from './scenarios/change-capture.ts'
import type { DurableRow } from './scenarios/durable.ts'
import type { InvalidationRow } from './scenarios/invalidation.ts'
import { type LatencyGroup, ROW } from './scenarios/latency.ts'
import type { MemoryResult } from './scenarios/memory.ts'
import type { RelationsRow } from './scenarios/relations.ts'
import type { RoundTripRow } from './scenarios/round-trips.ts'
import type { StampedeRow } from './scenarios/stampede.ts'
import type { ZipfRow } from './scenarios/zipf.ts'

/** Plain-text tables of the results, and the targets with PASS/MISS. Reporting only: nothing here fails the run. */

export interface Results {
  latency?: LatencyGroup[]
  roundTrips?: RoundTripRow[]
  invalidation?: InvalidationRow[]
  stampede?: StampedeRow[]
  zipf?: ZipfRow[]
  memory?: MemoryResult
  changeCapture?: ChangeCaptureResult
  relations?: RelationsRow[]
  durable?: DurableRow[]
}

export interface Target {
  readonly target: string
  readonly measured: string
  readonly value: number | null
  readonly verdict: 'PASS' | 'MISS' | 'n/a'
}

function table(headers: readonly string[], rows: readonly (readonly string[])[], right = new Set<number>()): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}

const us = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2))
const x = (n: number) => (Number.isFinite(n) ? `${n >= 10 ? n.toFixed(0) : n.toFixed(2)}x` : '-')

function sampleOf(group: LatencyGroup | undefined, name: string) {
  return group?.samples.find((s) => s.name === name)
}

export function latencyTables(groups: readonly LatencyGroup[]): string {
  return groups
    .map((g) => {
      const uncached = sampleOf(g, ROW.uncached)?.median ?? Number.NaN
      const floor = sampleOf(g, ROW.floor)?.median ?? Number.NaN
      const rows = g.samples.map((s) => [
        s.name,
        us(s.median),
        `${us(s.p25)}-${us(s.p75)}`,
        x(uncached / s.median),
        x(s.median / floor),
        String(s.batch),
      ])
      const what = g.title ?? `findUnique ${g.payload} row`
      return `${g.db} / ${what} (median of ${g.samples[0]?.rounds.length} interleaved rounds)\n${table(
        ['contender', 'µs/op', 'p25-p75', 'speedup vs uncached', 'x floor', 'ops/batch'],
        rows,
        new Set([1, 2, 3, 4, 5]),
      )}`
    })
    .join('\n\n')
}

/** The targets of the brief, measured on the PostgreSQL groups (SQLite when PostgreSQL was not run). */
export function targets(results: Results): Target[] {
  const out: Target[] = []
  const verdict = (ok: boolean | null): Target['verdict'] => (ok === null ? 'n/a' : ok ? 'PASS' : 'MISS')
  const groups = results.latency ?? []
  const db = groups.some((g) => g.db === 'postgres') ? 'postgres' : groups[0]?.db
  for (const payload of ['User', 'Post'] as const) {
    const g = groups.find((c) => c.db === db && c.payload === payload && c.title === undefined)
    if (!g) continue
    const m = (name: string) => sampleOf(g, name)?.median ?? Number.NaN
    const l1 = m(ROW.l1)
    const add = (target: string, value: number, ok: boolean, measured: string) =>
      out.push({
        target: `${target} [${db} ${payload}]`,
        measured,
        value,
        verdict: verdict(Number.isFinite(value) ? ok : null),
      })
    const speedup = m(ROW.uncached) / l1
    add(`L1 hit >= 40x uncached ${db}`, speedup, speedup >= 40, `${x(speedup)} (${us(m(ROW.uncached))} / ${us(l1)} µs)`)
    const overFloor = l1 / m(ROW.floor)
    add('L1 hit <= 2.5x floor', overFloor, overFloor <= 2.5, `${x(overFloor)} (${us(l1)} / ${us(m(ROW.floor))} µs)`)
    const chained = m(ROW.l1Chain)
    const overLone = chained / l1
    add(
      'L1 hit through two other extensions <= 1.5x lone L1 hit',
      overLone,
      overLone <= 1.5,
      `${x(overLone)} (${us(chained)} / ${us(l1)} µs)`,
    )
    const miss = m(ROW.miss) / m(ROW.uncached)
    add('miss <= 1.15x uncached', miss, miss <= 1.15, `${x(miss)} (${us(m(ROW.miss))} / ${us(m(ROW.uncached))} µs)`)
    const l2 = m(ROW.l2)
    const overBare = l2 / m(ROW.bareGet)
    add(
      'L2 hit <= 1.3x bare GET + parse',
      overBare,
      overBare <= 1.3,
      `${x(overBare)} (${us(l2)} / ${us(m(ROW.bareGet))} µs)`,
    )
    const overPer = m(ROW.perAuto) / l1
    add(
      'L1 hit >= 5x prisma-extension-redis hit',
      overPer,
      overPer >= 5,
      `${x(overPer)} (${us(m(ROW.perAuto))} / ${us(l1)} µs)`,
    )
    const overBento = m(ROW.bentoL1) / l1
    add(
      'L1 hit >= 1x bentocache L1 hit',
      overBento,
      overBento >= 1,
      `${x(overBento)} (${us(m(ROW.bentoL1))} / ${us(l1)} µs)`,
    )
  }
  const durable = results.durable ?? []
  const row = (name: string) => durable.find((r) => r.contender === name)?.median
  const [invalidation, cached, plain, passing] = [
    row('invalidation (no durable)'),
    row('user.update through the extension (no durable)'),
    row('user.update, no cache'),
    row('user.update, a pass-through query extension'),
  ]
  if (invalidation !== undefined && cached !== undefined && plain !== undefined) {
    // Within a quarter of a round trip of noise: the rounds of three contenders are interleaved, not paired.
    const added = cached - plain
    out.push({
      target: "a write's added latency <= one Redis round trip (its invalidation)",
      measured: `+${us(added)} µs (${us(cached)} - ${us(plain)}) vs ${us(invalidation)} µs${
        passing === undefined ? '' : `; any query extension: +${us(passing - plain)} µs`
      }`,
      value: added / invalidation,
      verdict: verdict(added <= invalidation * 1.25),
    })
  }
  for (const m of results.memory?.setups ?? []) {
    const ratio = m.heapPerCounted
    out.push({
      target: `L1 counted bytes within 2x of the heap [${m.setup}]`,
      measured:
        ratio === null
          ? `${m.countedBytesPerEntry} counted (no gc: run node with --expose-gc)`
          : `${m.heapBytesPerEntry} heap / ${m.countedBytesPerEntry} counted B per entry = ${ratio.toFixed(2)}`,
      value: ratio ?? Number.NaN,
      verdict: verdict(m.withinTwice),
    })
  }
  const rt = results.roundTrips?.find((r) => r.contender === 'tieredCache (l1: false)' && r.operation === 'hit')
  if (rt) {
    out.push({
      target: 'L2 hit = 1 Redis round trip',
      measured: `${rt.roundTrips} (${Object.entries(rt.sentByCommand)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')})`,
      value: rt.roundTrips,
      verdict: verdict(rt.roundTrips === 1),
    })
  }
  const inv = results.invalidation ?? []
  for (const contender of new Set(inv.filter((r) => r.contender.startsWith('tieredCache')).map((r) => r.contender))) {
    const small = inv.find((r) => r.contender === contender && r.entries === 1_000)
    const large = inv.find((r) => r.contender === contender && r.entries === 100_000)
    if (!small || !large) continue
    const ratio = large.medianMs / small.medianMs
    out.push({
      target: `invalidation 100k/1k <= 1.5 [${contender}]`,
      measured: `${ratio.toFixed(2)} (${large.medianMs.toFixed(2)} / ${small.medianMs.toFixed(2)} ms)`,
      value: ratio,
      verdict: verdict(ratio <= 1.5),
    })
  }
  for (const d of results.changeCapture?.delays ?? []) {
    out.push({
      target: `change capture: commit -> invalidate p99 <= 250 ms [${d.instances} instance${d.instances > 1 ? 's' : ''}]`,
      measured: `${d.allP99.toFixed(2)} ms (p50 ${d.allP50.toFixed(2)}, max ${d.allMax.toFixed(2)}; ${d.missed} missed)`,
      value: d.allP99,
      verdict: verdict(d.missed === 0 && d.allP99 <= 250),
    })
  }
  out.push(...relationsTargets(results.relations ?? [], verdict))
  return out
}

export function targetTable(list: readonly Target[]): string {
  return table(
    ['target', 'measured', 'verdict'],
    list.map((t) => [t.target, t.measured, t.verdict]),
  )
}

export function roundTripTable(rows: readonly RoundTripRow[]): string {
  const fmt = (o: Record<string, number>) =>
    Object.entries(o)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || '-'
  return table(
    [
      'contender',
      'op',
      'round trips/op',
      'sent by this client',
      'server µs/call',
      'server commands/op (commandstats, incl. inside Lua)',
    ],
    rows.map((r) => [
      r.contender,
      r.operation,
      String(r.roundTrips),
      fmt(r.sentByCommand),
      fmt(r.serverUsec),
      fmt(r.server),
    ]),
    new Set([2]),
  )
}

export function invalidationTable(rows: readonly InvalidationRow[]): string {
  return table(
    ['contender', 'entries', 'invalidate ms (median)', 'rounds', 'fill ms', 'survivors/100', 'keyspace'],
    rows.map((r) => [
      r.contender,
      String(r.entries),
      r.medianMs.toFixed(2),
      r.rounds.map((t) => t.toFixed(2)).join(' '),
      r.fillMs.toFixed(0),
      r.survivors === undefined ? '-' : String(r.survivors),
      r.keyspace === undefined ? '-' : String(r.keyspace),
    ]),
    new Set([1, 2, 4, 5, 6]),
  )
}

export function stampedeTable(rows: readonly StampedeRow[]): string {
  return table(
    ['variant', 'concurrent reads', 'db queries/round (median)', 'max', 'per round', 'ms (median)', 'errors'],
    rows.map((r) => [
      r.variant,
      String(r.concurrent),
      String(r.medianLoads),
      String(r.maxLoads),
      r.loads.join(' '),
      r.medianMs.toFixed(1),
      String(r.errors),
    ]),
    new Set([1, 2, 3, 5, 6]),
  )
}

export function zipfTable(rows: readonly ZipfRow[]): string {
  const ceilings = [...new Map(rows.map((r) => [r.db, r.idealHitRatio]))]
    .map(([db, ratio]) => `${db}: ${(ratio * 100).toFixed(1)}%`)
    .join(', ')
  return `${table(
    ['db', 'contender', 'ops/s (median)', 'hit ratio (median)', 'ops/s per round', 'hit ratio per round'],
    rows.map((r) => [
      r.db,
      r.contender,
      r.medianOpsPerSec.toFixed(0),
      `${(r.medianHitRatio * 100).toFixed(1)}%`,
      r.opsPerSec.map((v) => v.toFixed(0)).join(' '),
      r.hitRatio.map((v) => `${(v * 100).toFixed(1)}%`).join(' '),
    ]),
    new Set([2, 3]),
  )}\nhit ratio of a perfect record-level cache on the same sequences (unbounded, exact, no concurrency): ${ceilings}`
}

export function memoryTable(m: MemoryResult): string {
  const perEntry = table(
    ['setup', 'entries', 'heap B/entry', 'counted B/entry', 'heap/counted', 'within 2x'],
    m.setups.map((u) => [
      u.setup,
      String(u.entries),
      String(u.heapBytesPerEntry ?? 'n/a'),
      String(u.countedBytesPerEntry),
      u.heapPerCounted === null ? 'n/a' : u.heapPerCounted.toFixed(2),
      u.withinTwice === null ? 'n/a' : u.withinTwice ? 'PASS' : 'MISS',
    ]),
    new Set([1, 2, 3, 4]),
  )
  return `${perEntry}\n\n${table(
    ['l1.maxBytes bound', 'maxBytes', 'stats().l1.bytes', 'entries kept', 'verdict'],
    m.bounds.map((b) => [
      b.setup,
      String(b.maxBytes),
      String(b.l1Bytes),
      String(b.l1Entries),
      b.withinBound ? 'PASS' : 'MISS',
    ]),
    new Set([1, 2, 3]),
  )}`
}

export function changeCaptureTable(r: ChangeCaptureResult): string {
  const head = `PostgreSQL ${r.server.version}, fsync ${r.server.fsync}; UPDATE "User" SET name by id (one row, or 100 in one statement), median of ${r.writes[0]?.sample.rounds.length} interleaved rounds, nobody listening`
  const writes = table(
    ['write', 'rows', 'triggers', 'synchronous_commit', 'µs/write', 'p25-p75', 'x no triggers', '+µs', '+µs/row'],
    r.writes.map(({ path, rows, triggers, synchronousCommit, sample: s }) => {
      const plain = r.writes.find(
        (w) => !w.triggers && w.path === path && w.rows === rows && w.synchronousCommit === synchronousCommit,
      )?.sample
      const added = triggers && plain !== undefined
      return [
        path,
        String(rows),
        triggers ? 'change capture' : 'none',
        synchronousCommit,
        us(s.median),
        `${us(s.p25)}-${us(s.p75)}`,
        added ? x(s.median / plain.median) : '-',
        added ? us(s.median - plain.median) : '-',
        added ? us((s.median - plain.median) / rows) : '-',
      ]
    }),
    new Set([1, 4, 5, 6, 7, 8]),
  )
  const ms = (n: number) => n.toFixed(2)
  const fmt = (o: Record<string, number>) =>
    Object.entries(o)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || '-'
  const delays = table(
    [
      'instances',
      'writes',
      'each p50/p99/max ms',
      'last instance p50/p99/max ms',
      'from sent p50/p99 ms',
      'UPDATE ms',
      'missed',
      'sent/change/instance',
      'server commands/change/instance',
      'bus msgs in/change/instance',
    ],
    r.delays.map((d) => [
      String(d.instances),
      String(d.writes),
      `${ms(d.p50)} / ${ms(d.p99)} / ${ms(d.max)}`,
      `${ms(d.allP50)} / ${ms(d.allP99)} / ${ms(d.allMax)}`,
      `${ms(d.sentP50)} / ${ms(d.sentP99)}`,
      ms(d.writeMs),
      String(d.missed),
      String(d.sentCommands),
      fmt(d.serverCommands),
      String(d.busMessages),
    ]),
    new Set([0, 1, 5, 6, 7, 9]),
  )
  return `${head}\n${writes}\n\ncommit -> 'invalidate' event: ms after the writer's autocommit UPDATE returned (below 0: heard before the writer's reply was handled), and after it was sent; Redis: a private redis-server\n${delays}`
}

/** The targets of the relation-heavy scenario: cached vs uncached throughput, hit ratio vs a perfect cache. */
function relationsTargets(rows: readonly RelationsRow[], verdict: (ok: boolean | null) => Target['verdict']): Target[] {
  const out: Target[] = []
  for (const [share, speedup] of [
    [0.9, 2.5],
    [0.99, 5],
  ] as const) {
    const cached = rows.find((r) => r.readShare === share && r.hitRatio !== null)
    const plain = rows.find((r) => r.readShare === share && r.hitRatio === null)
    if (!cached || !plain) continue
    const mix = `${Math.round(share * 100)}/${Math.round((1 - share) * 100)}`
    const ratio = cached.medianOpsPerSec / plain.medianOpsPerSec
    out.push({
      target: `relations ${mix}: cached >= ${speedup}x uncached [${cached.db}]`,
      measured: `${x(ratio)} (${cached.medianOpsPerSec.toFixed(0)} / ${plain.medianOpsPerSec.toFixed(0)} ops/s)`,
      value: ratio,
      verdict: verdict(Number.isFinite(ratio) ? ratio >= speedup : null),
    })
    if (share !== 0.9 || cached.medianHitRatio === null) continue
    const gap = (cached.perfectHitRatio - cached.medianHitRatio) * 100
    out.push({
      target: `relations ${mix}: hit ratio within 10 points of a perfect cache [${cached.db}]`,
      measured: `${(cached.medianHitRatio * 100).toFixed(1)}% vs ${(cached.perfectHitRatio * 100).toFixed(1)}% (${gap.toFixed(1)} points)`,
      value: gap,
      verdict: verdict(gap <= 10),
    })
  }
  return out
}

export function relationsTable(rows: readonly RelationsRow[]): string {
  return table(
    [
      'db',
      'contender',
      'ops/s (median)',
      'hit ratio (median)',
      'perfect cache',
      'ops/s per round',
      'hit ratio per round',
    ],
    rows.map((r) => [
      r.db,
      r.contender,
      r.medianOpsPerSec.toFixed(0),
      r.medianHitRatio === null ? '-' : `${(r.medianHitRatio * 100).toFixed(1)}%`,
      `${(r.perfectHitRatio * 100).toFixed(1)}%`,
      r.opsPerSec.map((v) => v.toFixed(0)).join(' '),
      r.hitRatio?.map((v) => `${(v * 100).toFixed(1)}%`).join(' ') ?? '-',
    ]),
    new Set([2, 3, 4]),
  )
}
