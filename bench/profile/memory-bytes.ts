import { Decimal } from '@prisma/client/runtime/client'
import { MemoryCache } from '../../src/cache/memory.ts'
import { cloneValue } from '../../src/core/clone.ts'
import { estimateBytes, heapBytes } from '../../src/core/size.ts'
import { getGc } from '../harness.ts'

/**
 * What a MemoryCache entry costs on the heap, against what the cache counts for it (the figures the
 * constants of src/core/size.ts and src/cache/memory.ts come from), and what counting costs a set:
 *   npx tsx bench/profile/memory-bytes.ts [entries]
 *
 * For each kind of row: heap = (heapUsed + arrayBuffers) after N sets minus before, both after full
 * collections, over N; "values" = the same for N copies of the row alone (what heapBytes models),
 * so the entry's own cost is the difference. Strings are made flat, as a database driver's are.
 */
const entries = Number(process.argv[2] ?? 20_000)
const gc = getGc()
if (!gc) throw new Error('no gc: run with node --expose-gc')

/** A flat copy of a string built by `+` (a driver decodes each field into one flat string). */
const flat = (s: string) => Buffer.from(s).toString()
const epoch = Date.UTC(2024, 0, 1)

const user = (i: number) => ({
  id: i + 1,
  email: flat(`user${i + 1}@example.com`),
  name: flat(`User number ${i + 1}`),
  createdAt: new Date(epoch + i * 60_000),
})

const post = (i: number, j: number) => ({
  id: i * 10 + j,
  title: flat(`A post about caching, part ${i * 10 + j}`),
  published: j % 2 === 0,
  views: 9_007_199_254_740_993n + BigInt(i),
  price: new Decimal(`1234567.${String(j).padStart(4, '0')}`),
  cover: new Uint8Array(64).fill(i % 256),
  meta: { lang: 'en', words: 1200 + i, tags: ['db', 'cache'] },
  createdAt: new Date(epoch + i * 3_600_000),
  authorId: i + 1,
})

/** A user with its profile and 5 posts (`include: { profile: true, posts: true }`). */
const nested = (i: number) => ({
  ...user(i),
  profile: { id: i + 1, bio: flat(`Writes about databases, ${i}`), userId: i + 1 },
  posts: Array.from({ length: 5 }, (_, j) => post(i, j)),
})

const key = (model: string, i: number, args: string) =>
  flat(`ptc:${model}:id:${i + 1}:32effbff182e.VkiCYVbnUSri:findUnique:${args.replace('#', String(i + 1))}`)

interface Kind {
  readonly name: string
  readonly row: (i: number) => unknown
  readonly key: (i: number) => string
  readonly tags: (i: number) => string[]
}

const kinds: Kind[] = [
  {
    name: 'User row',
    row: user,
    key: (i) => key('User', i, '{"where":{"id":#}}'),
    tags: (i) => [flat('a:User'), flat(`r:User:${i + 1}`), flat('n:User')],
  },
  {
    name: 'User + profile + 5 posts',
    row: nested,
    key: (i) => key('User', i, '{"include":{"posts":true,"profile":true},"where":{"id":#}}'),
    tags: (i) => [
      flat('a:User'),
      flat(`r:User:${i + 1}`),
      flat('n:User'),
      flat('a:Profile'),
      flat('a:Post'),
      flat(`c:Post:authorId:${i + 1}`),
    ],
  },
  { name: 'number, untagged', row: (i) => i, key: (i) => flat(`k${i}`), tags: () => [] },
]

function heap(): number {
  for (let i = 0; i < 4; i++) gc!()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

/**
 * ns per call of each function, interleaved: rounds of ~5 ms each, the median over 31 rounds (other
 * processes on the machine land in a few rounds, not in the median).
 */
function timeNs(runs: readonly (() => unknown)[]): number[] {
  const batch = runs.map((run) => {
    let calls = 1
    for (;;) {
      const start = process.hrtime.bigint()
      for (let i = 0; i < calls; i++) run()
      if (Number(process.hrtime.bigint() - start) > 5e6) return calls
      calls *= 2
    }
  })
  const samples: number[][] = runs.map(() => [])
  for (let round = 0; round < 31; round++)
    runs.forEach((run, r) => {
      const calls = batch[r]!
      const start = process.hrtime.bigint()
      for (let i = 0; i < calls; i++) run()
      samples[r]!.push(Number(process.hrtime.bigint() - start) / calls)
    })
  return samples.map((s) => s.sort((a, b) => a - b)[15]!)
}

const rows: string[][] = [
  ['row', 'heap B/entry', 'counted B/entry', 'heap/counted', 'value heap', 'heapBytes', 'estimateBytes'],
]
const timings: string[][] = [['row', 'heapBytes ns', 'estimateBytes ns', 'cloneValue ns', 'set ns']]
for (const kind of kinds) {
  const values: unknown[] = new Array(entries).fill(0)
  let before = heap()
  for (let i = 0; i < entries; i++) values[i] = cloneValue(kind.row(i))
  const valueHeap = (heap() - before) / entries
  values.fill(0)

  const cache = new MemoryCache({ max: entries + 10, ttl: 3600 })
  before = heap()
  for (let i = 0; i < entries; i++) cache.set(kind.key(i), kind.row(i), { tags: kind.tags(i) })
  const entryHeap = (heap() - before) / entries
  const counted = cache.bytes / cache.size
  const sample = kind.row(7)
  rows.push([
    kind.name,
    entryHeap.toFixed(0),
    counted.toFixed(0),
    (entryHeap / counted).toFixed(2),
    valueHeap.toFixed(0),
    String(heapBytes(cloneValue(sample))),
    String(estimateBytes(sample)),
  ])

  const timed = new MemoryCache({ max: 1_000, ttl: 3600 })
  const tags = kind.tags(7)
  let n = 0
  timings.push([
    kind.name,
    ...timeNs([
      () => heapBytes(sample),
      () => estimateBytes(sample),
      () => cloneValue(sample),
      () => timed.set(`k${n++ & 1023}`, sample, { tags }),
    ]).map((ns) => ns.toFixed(0)),
  ])
  cache.clear()
}

const print = (table: string[][]) => {
  const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)))
  for (const r of table)
    console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '))
}
console.log(`${entries} entries per row kind; Node ${process.version}`)
print(rows)
console.log()
print(timings)
