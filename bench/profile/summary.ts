import { readFileSync } from 'node:fs'

/**
 * Top self-time functions of a `.cpuprofile` (V8's format: nodes with callFrame and hitCount,
 * plus samples and timeDeltas). Prints the overall top and the top in the project's own code.
 *   npx tsx bench/profile/summary.ts file.cpuprofile [count]
 */
interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
}
const file = process.argv[2]
if (!file) throw new Error('usage: summary.ts file.cpuprofile [count]')
const count = Number(process.argv[3] ?? 15)
const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] }

// Self time per node from the samples and the time deltas between them (more exact than hitCount x interval).
const selfUs = new Map<number, number>()
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0))
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0)
// The project's own code: under the working directory, outside node_modules and bench/ (src/ run
// through tsx, or a build of it: see BENCH_DIST in contenders/tiered-cache.ts).
const root = `${process.cwd()}/`
const byFunction = new Map<string, number>()
const own = new Set<string>()
for (const node of profile.nodes) {
  const { functionName, url, lineNumber } = node.callFrame
  const path = url.replace(/^file:\/\//, '')
  const where = path.startsWith(root) ? path.slice(root.length) : path.replace(/^.*\/node_modules\//, 'node_modules/')
  const name = `${functionName || '(anonymous)'}  ${where ? `${where}:${lineNumber + 1}` : ''}`.trim()
  byFunction.set(name, (byFunction.get(name) ?? 0) + (selfUs.get(node.id) ?? 0))
  if (path.startsWith(root) && !where.startsWith('node_modules/') && !where.startsWith('bench/')) own.add(name)
}
const sorted = [...byFunction].sort((a, b) => b[1] - a[1])
const print = (title: string, list: [string, number][]) => {
  console.log(`\n${title}`)
  for (const [name, us] of list.slice(0, count)) {
    console.log(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`)
  }
}
print(`top self time (total ${(total / 1e6).toFixed(2)} s)`, sorted)
print(
  "top self time in the project's code",
  sorted.filter(([name]) => own.has(name)),
)
