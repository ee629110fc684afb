import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
// Types only: the scenario modules load the extension and every contender, which redrawing does not need.
import type { Results } from './report.ts'
import type { LatencyGroup } from './scenarios/latency.ts'

/**
 * bench/results/chart.svg, drawn from bench/results/latest.json by hand (no dependency): µs per
 * read of every contender on a log scale, one panel per database, and workload throughput on a
 * linear scale. `npm run bench` writes it after a run; `npm run bench:chart` redraws it from the JSON.
 */

/** What the chart reads of latest.json. */
export interface BenchJson {
  readonly machine: { readonly cpu: string; readonly cores: number; readonly node: string; readonly date: string }
  readonly results: Results & { readonly relations?: readonly ThroughputRow[] }
}

/** A throughput result: the Zipf rows have this shape, and so must a relation-heavy scenario's. */
export interface ThroughputRow {
  readonly db: string
  readonly contender: string
  readonly medianOpsPerSec: number
}

/**
 * The rows drawn: every contender the run measured, by the names in the JSON. The floor rows (the
 * parts of an L1 hit measured alone) and the bare GET are lower bounds, not contenders: the tables have them.
 */
const isContender = (name: string) => !name.startsWith('floor') && !name.startsWith('bare ')

const sampleOf = (group: LatencyGroup | undefined, name: string) => group?.samples.find((s) => s.name === name)

/** Three significant digits: 5.46, 17.7, 780, 1290. */
const short = (n: number) => String(Number(n.toPrecision(3)))

const COLOR = { uncached: '#6b7280', tiered: '#2563eb', per: '#d97706', bento: '#059669' } as const
const DB_NAME: Record<string, string> = { postgres: 'PostgreSQL', sqlite: 'SQLite' }

function colorOf(label: string): string {
  if (label.startsWith('tieredCache')) return COLOR.tiered
  if (label.startsWith('prisma-extension-redis')) return COLOR.per
  if (label.startsWith('bentocache')) return COLOR.bento
  return COLOR.uncached
}

const esc = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attrs}>${esc(content)}</text>`
}

// Sized for the font stack below at 12px; labels are right-aligned, so only the column width needs it.
const CHAR_WIDTH = 6.6
const WIDTH = 1000
const LEFT = 12
const BAR = 12
const ROW_HEIGHT = 2 * BAR + 8

/** Log-scale latency panels, one per database, a User and a Post bar per contender. */
function latencySection(groups: readonly LatencyGroup[], top: number): { svg: string[]; height: number } {
  const out: string[] = []
  const dbs = [...new Set(groups.map((g) => g.db))].sort((a, b) => (a === 'postgres' ? -1 : b === 'postgres' ? 1 : 0))
  const names = [...new Set(groups.flatMap((g) => g.samples.map((s) => s.name)))].filter(isContender)
  const finite = groups
    .flatMap((g) => g.samples.filter((s) => isContender(s.name)).map((s) => s.median))
    .filter((m) => Number.isFinite(m) && m > 0)
  if (finite.length === 0) return { svg: out, height: 0 }
  const lo = 10 ** Math.floor(Math.log10(Math.min(...finite)))
  // The axis ends at the first 1, 2 or 5 times a power of ten past the slowest row.
  const top10 = 10 ** Math.floor(Math.log10(Math.max(...finite)))
  const hi = [1, 2, 5, 10].map((m) => m * top10).find((v) => v >= Math.max(...finite)) ?? 10 * top10
  const labelWidth = Math.max(...names.map((name) => name.length)) * CHAR_WIDTH + 16
  const x0 = LEFT + labelWidth
  const plot = WIDTH - x0 - 70
  const xOf = (us: number) => x0 + (plot * Math.log10(us / lo)) / Math.log10(hi / lo)
  let y = top
  for (const db of dbs) {
    const byPayload = ['User', 'Post'].map((p) => groups.find((g) => g.db === db && g.payload === p))
    const rows = names.filter((name) => byPayload.some((g) => sampleOf(g, name)))
    const rounds = byPayload[0]?.samples[0]?.rounds.length ?? 0
    out.push(
      text(LEFT, y + 14, `${DB_NAME[db] ?? db}: findUnique by id, median of ${rounds} interleaved rounds`, 'class="h"'),
    )
    y += 26
    const height = rows.length * ROW_HEIGHT
    for (let d = Math.log10(lo); d <= Math.log10(hi); d++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** d
        if (v > hi) continue
        const x = xOf(v)
        out.push(
          `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${y}" y2="${y + height}" class="${m === 1 ? 'grid' : 'minor'}"/>`,
        )
        out.push(text(x, y + height + 14, short(v), 'class="tick" text-anchor="middle"'))
      }
    }
    rows.forEach((label, i) => {
      const ry = y + i * ROW_HEIGHT + 4
      out.push(text(x0 - 8, ry + BAR + 4, label, 'class="label" text-anchor="end"'))
      byPayload.forEach((group, k) => {
        const sample = sampleOf(group, label)
        if (!sample) return
        const by = ry + k * BAR
        const w = Math.max(1, xOf(sample.median) - x0)
        const opacity = k === 0 ? '' : ' fill-opacity="0.45"'
        out.push(
          `<rect x="${x0}" y="${by}" width="${w.toFixed(1)}" height="${BAR - 1}" fill="${colorOf(label)}"${opacity}/>`,
        )
        out.push(text(x0 + w + 4, by + BAR / 2 + 3.5, short(sample.median), 'class="value"'))
      })
    })
    out.push(
      text(
        x0 + plot / 2,
        y + height + 30,
        'µs per read, log scale (shorter is faster)',
        'class="axis" text-anchor="middle"',
      ),
    )
    y += height + 48
  }
  return { svg: out, height: y - top }
}

/** Linear-scale throughput bars, one panel per database; nothing when there are no rows. */
function throughputSection(title: string, rows: readonly ThroughputRow[], top: number) {
  const out: string[] = []
  if (rows.length === 0) return { svg: out, height: 0 }
  const max = Math.max(...rows.map((r) => r.medianOpsPerSec))
  const labelWidth = Math.max(...rows.map((r) => r.contender.length)) * CHAR_WIDTH + 16
  const x0 = LEFT + labelWidth
  const plot = WIDTH - x0 - 90
  let y = top
  for (const db of new Set(rows.map((r) => r.db))) {
    out.push(text(LEFT, y + 14, `${title}, ${DB_NAME[db] ?? db}`, 'class="h"'))
    y += 24
    for (const row of rows.filter((r) => r.db === db)) {
      const w = Math.max(1, (plot * row.medianOpsPerSec) / max)
      out.push(text(x0 - 8, y + BAR + 3, row.contender, 'class="label" text-anchor="end"'))
      out.push(
        `<rect x="${x0}" y="${y + 2}" width="${w.toFixed(1)}" height="${BAR + 3}" fill="${colorOf(row.contender)}"/>`,
      )
      out.push(text(x0 + w + 4, y + BAR + 3, `${Math.round(row.medianOpsPerSec)} ops/s`, 'class="value"'))
      y += BAR + 10
    }
    out.push(
      text(
        x0 + plot / 2,
        y + 14,
        'operations per second, linear scale (longer is better)',
        'class="axis" text-anchor="middle"',
      ),
    )
    y += 34
  }
  return { svg: out, height: y - top }
}

function legend(top: number): string[] {
  const items: Array<[string, string, string]> = [
    [COLOR.tiered, '', 'tieredCache'],
    [COLOR.per, '', 'prisma-extension-redis'],
    [COLOR.bento, '', 'bentocache'],
    [COLOR.uncached, '', 'no cache'],
    [COLOR.uncached, ' fill-opacity="0.45"', 'light bar: Post row (Decimal, BigInt, Bytes, Json); dark: User row'],
  ]
  let x = LEFT
  return items.flatMap(([color, opacity, label]) => {
    const item = [
      `<rect x="${x}" y="${top}" width="12" height="10" fill="${color}"${opacity}/>`,
      text(x + 17, top + 9, label, 'class="label"'),
    ]
    x += 17 + label.length * CHAR_WIDTH + 18
    return item
  })
}

/** The whole SVG document for one latest.json. */
export function chartSvg(json: BenchJson): string {
  const { machine, results } = json
  const body: string[] = [
    text(LEFT, 24, 'tieredCache benchmark', 'class="title"'),
    text(
      LEFT,
      42,
      `${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.date.slice(0, 10)}. bench/results/latest.json`,
      'class="tick"',
    ),
    ...legend(54),
  ]
  let y = 78
  const latency = latencySection(results.latency ?? [], y)
  body.push(...latency.svg)
  y += latency.height
  // The relation-heavy scenario, when the run has one: cached against uncached throughput.
  for (const [title, rows] of [
    ['Relation-heavy reads (include), throughput', results.relations ?? []],
    ['Zipf 90/10 read/write mix, 8 workers, throughput', results.zipf ?? []],
  ] as const) {
    const section = throughputSection(title, rows, y)
    body.push(...section.svg)
    y += section.height
  }
  const height = Math.ceil(y + 8)
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif">
<style>
  text { fill: #111827; font-size: 12px }
  .title { font-size: 18px; font-weight: 600 }
  .h { font-size: 14px; font-weight: 600 }
  .tick { font-size: 11px; fill: #4b5563 }
  .value { font-size: 10.5px; fill: #374151 }
  .axis { font-size: 12px; fill: #374151 }
  .grid { stroke: #d1d5db; stroke-width: 1 }
  .minor { stroke: #eef0f3; stroke-width: 1 }
</style>
<rect width="100%" height="100%" fill="#ffffff"/>
${body.join('\n')}
</svg>
`
}

/** Reads latest.json and writes the chart beside it (or to `svgFile`); returns the SVG's path. */
export function writeChart(jsonFile: string, svgFile = join(dirname(jsonFile), 'chart.svg')): string {
  writeFileSync(svgFile, chartSvg(JSON.parse(readFileSync(jsonFile, 'utf8')) as BenchJson))
  return svgFile
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const here = dirname(fileURLToPath(import.meta.url))
  console.log(`wrote ${writeChart(join(here, 'results', 'latest.json'))}`)
}
