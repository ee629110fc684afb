// Run: npm run demo   (SQLite in .tmp/demo.db, or .tmp/$DEMO_DB.db; Redis from REDIS_URL, default redis://127.0.0.1:6379)
//
// What the cache does, in a few seconds: where each read is answered (database, L2, L1) and how
// long each takes, what a write invalidates on this instance and on another one, and the hit
// ratios at the end. Without Redis it runs with L1 only.
import { EventEmitter, once } from 'node:events'
import { tieredCache } from '../src/index.ts'
import { createDatabase, dropPrefix, REDIS_URL, redisOrNotice, sqliteClient, uniquePrefix } from './setup.ts'

const RUNS = 200
const WARMUP = 20

const file = createDatabase(process.env.DEMO_DB ?? 'demo')
const redisUp = await redisOrNotice()
const prefix = uniquePrefix('demo')
console.log(
  `tieredCache demo: SQLite ${file.slice(file.indexOf('.tmp'))}` +
    (redisUp ? `, Redis ${REDIS_URL} (prefix ${prefix})` : ''),
)

const seeder = sqliteClient(file)
await seeder.user.createMany({
  data: Array.from({ length: 200 }, (_, i) => ({ email: `user${i + 1}@example.com`, name: `User ${i + 1}` })),
})
await seeder.post.createMany({
  data: Array.from({ length: 1000 }, (_, i) => ({
    title: `Post ${i + 1}`,
    published: i % 3 !== 0,
    authorId: (i % 200) + 1,
  })),
})
console.log('Seeded 200 users and 1000 posts.\n')

/** One application instance: its own PrismaClient and cache; instances share only SQLite and Redis. */
async function instance(options: { l1?: false } = {}) {
  const base = sqliteClient(file)
  const events = new EventEmitter()
  events.on('error', () => {})
  const prisma = base.$extends(tieredCache({ redis: redisUp ? REDIS_URL : null, prefix, events, ttl: 300, ...options }))
  await prisma.$cache.ready()
  return { base, prisma, events }
}
type Instance = Awaited<ReturnType<typeof instance>>

const a = await instance()
const b = redisUp ? await instance() : undefined
// Every read of this one goes to Redis: it measures an L2 hit.
const l2Only = redisUp ? await instance({ l1: false }) : undefined

/** Runs one read and says where it was answered, from the events it caused. */
async function traced(who: string, inst: Instance, label: string, read: () => Promise<unknown>) {
  const seen: string[] = []
  const onHit = (e: { tier: string }) => seen.push(`${e.tier.toUpperCase()} hit`)
  const onMiss = () => seen.push('miss')
  inst.events.on('hit', onHit).on('miss', onMiss)
  const value = await read()
  inst.events.off('hit', onHit).off('miss', onMiss)
  const where = seen[0] === 'miss' ? 'miss -> database' : (seen[0] ?? 'not cached')
  console.log(`  ${who.padEnd(11)} ${label.padEnd(40)} ${where}`)
  return value
}

const findUser = (p: Instance['prisma'], id: number) => p.user.findUnique({ where: { id }, cache: true })

try {
  console.log('1. Where a read is answered')
  await traced('instance A', a, 'user.findUnique({ where: { id: 1 } })', () => findUser(a.prisma, 1))
  if (b) {
    // A miss answers before its L2 store lands (one round trip later): wait for it, as B would by chance.
    await a.prisma.$cache.settled()
    await traced('instance B', b, 'user.findUnique({ where: { id: 1 } })', () => findUser(b.prisma, 1))
    await traced('instance B', b, 'user.findUnique({ where: { id: 1 } })', () => findUser(b.prisma, 1))
  } else {
    await traced('instance A', a, 'user.findUnique({ where: { id: 1 } })', () => findUser(a.prisma, 1))
  }

  type Cache = boolean
  const queries: ReadonlyArray<{ label: string; run: (p: Instance['prisma'], cache: Cache) => Promise<unknown> }> = [
    { label: 'user.findUnique by id', run: (p, cache) => p.user.findUnique({ where: { id: 7 }, cache }) },
    {
      label: 'post.findMany published, with author (20)',
      run: (p, cache) =>
        p.post.findMany({
          where: { published: true },
          include: { author: true },
          orderBy: { id: 'desc' },
          take: 20,
          cache,
        }),
    },
    { label: 'post.count by author', run: (p, cache) => p.post.count({ where: { authorId: 7 }, cache }) },
  ]

  async function medianMicros(run: () => Promise<unknown>): Promise<number> {
    for (let i = 0; i < WARMUP; i++) await run()
    const times: number[] = []
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now()
      await run()
      times.push((performance.now() - started) * 1000)
    }
    times.sort((x, y) => x - y)
    return times[Math.floor(times.length / 2)]!
  }

  console.log(`\n2. Median latency of ${RUNS} reads, µs`)
  const rows: string[][] = [['query', 'uncached', 'L2 hit', 'L1 hit']]
  for (const q of queries) {
    const uncached = await medianMicros(() => q.run(a.prisma, false))
    await q.run(a.prisma, true) // a miss: fills L2 and A's L1
    const l2 = l2Only ? await medianMicros(() => q.run(l2Only.prisma, true)) : undefined
    const l1 = await medianMicros(() => q.run(a.prisma, true))
    rows.push([q.label, uncached.toFixed(0), l2 === undefined ? '-' : l2.toFixed(0), l1.toFixed(0)])
  }
  for (const row of rows) {
    console.log(
      `  ${row[0]!.padEnd(42)}${row
        .slice(1)
        .map((cell) => cell.padStart(10))
        .join('')}`,
    )
  }
  console.log(
    redisUp
      ? '  (L2 hit: a client with `l1: false`, so that every read goes to Redis. SQLite runs in-process here;\n' +
          '   against a database across a network, the uncached column grows and the cached ones do not.)'
      : '  (no Redis: no L2 column)',
  )

  console.log('\n3. A write, and what it invalidated')
  await findUser(a.prisma, 2)
  await queries[1]!.run(a.prisma, true)
  const invalidated: string[] = []
  a.events.on('invalidate', (e: { tags: readonly string[] }) => invalidated.push(...e.tags))
  // With a deadline, so that the demo ends even if the bus is broken; the message takes a millisecond or so.
  const busMessage = b ? once(b.events, 'bus', { signal: AbortSignal.timeout(5000) }) : undefined
  const before = (await findUser(a.prisma, 1))?.name
  await a.prisma.user.update({ where: { id: 1 }, data: { name: 'Ada Lovelace' } })
  console.log(`  instance A  user.update({ where: { id: 1 }, data: { name: 'Ada Lovelace' } })   (was ${before})`)
  console.log(`  A invalidated the tags ${invalidated.join(', ')}`)
  console.log('  (m:Model = any read of the model, a:Model = every record read of it, r:Model:id = one record)')
  if (b && busMessage) {
    const message = await busMessage.then(
      ([m]) => m as { tags?: readonly string[] },
      () => undefined,
    )
    console.log(
      message
        ? `  B received them over the bus: ${(message.tags ?? []).join(', ')}`
        : '  B received no bus message within 5 s (is Redis pub/sub blocked?)',
    )
  }
  const reader = b ?? a
  const who = b ? 'instance B' : 'instance A'
  const fresh = (await traced(who, reader, 'user.findUnique({ where: { id: 1 } })', () =>
    findUser(reader.prisma, 1),
  )) as { name: string } | null
  console.log(`  ${''.padEnd(11)} -> name is now ${JSON.stringify(fresh?.name)}`)
  await traced('instance A', a, 'user.findUnique({ where: { id: 2 } })', () => findUser(a.prisma, 2))
  await traced('instance A', a, 'post.findMany(... include: { author })', () => queries[1]!.run(a.prisma, true))
  console.log(
    '  (user 2 was not written, so it stays cached; the post list reloads only if it holds a post by user 1, whose author changed)',
  )

  console.log('\n4. Hit ratios ($cache.stats())')
  const ratio = (hits: number, misses: number) =>
    `${hits + misses === 0 ? '-' : `${((hits / (hits + misses)) * 100).toFixed(1)}%`} (${hits}/${hits + misses})`
  console.log(`  ${''.padEnd(12)}${'L1 hits'.padEnd(20)}${'L2 hits'.padEnd(20)}${'overall'.padEnd(10)}loads`)
  for (const [name, inst] of [
    ['instance A', a],
    ['instance B', b],
    ['L2-only', l2Only],
  ] as const) {
    if (!inst) continue
    const s = inst.prisma.$cache.stats()
    console.log(
      `  ${name.padEnd(12)}${ratio(s.l1.hits, s.l1.misses).padEnd(20)}${ratio(s.l2.hits, s.l2.misses).padEnd(20)}` +
        `${(s.hitRate * 100).toFixed(1).padStart(5)}%    ${s.loads}`,
    )
  }
} finally {
  // Closing lets the process exit; the prefix goes, so nothing of this run stays in Redis.
  for (const inst of [a, b, l2Only]) {
    if (!inst) continue
    await inst.prisma.$cache.close()
    await inst.base.$disconnect()
  }
  await seeder.$disconnect()
  if (redisUp) await dropPrefix(prefix)
}
