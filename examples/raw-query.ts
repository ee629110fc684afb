// Run: npx tsx examples/raw-query.ts   (SQLite in .tmp/; Redis at REDIS_URL when it answers)
//
// `$queryRaw` is not cached by itself (the cache cannot tell what SQL depends on), so a report
// written in SQL goes through `$cache.wrap(key, fn, options)`: the same tiers and coalescing as a
// cached read, invalidated by the `models` it names (any write to them) and by its `tags`.
import { tieredCache } from '../src/index.ts'
import {
  createDatabase,
  dropPrefix,
  REDIS_URL,
  redisOrNotice,
  removeDatabase,
  sqliteClient,
  uniquePrefix,
} from './setup.ts'

const file = createDatabase(`raw-query-${process.pid}`)
const redisUp = await redisOrNotice()
const prefix = uniquePrefix('raw-query')

const base = sqliteClient(file)
const prisma = base.$extends(tieredCache({ redis: redisUp ? REDIS_URL : null, prefix }))
await prisma.$cache.ready()

for (const [i, name] of ['Ada', 'Alan', 'Grace'].entries()) {
  await base.user.create({
    data: {
      email: `${name.toLowerCase()}@example.com`,
      name,
      posts: { create: Array.from({ length: 3 - i }, (_, n) => ({ title: `${name} ${n + 1}`, published: true })) },
    },
  })
}

interface Row {
  name: string
  posts: bigint | number
}

/** Authors by published posts: SQL the cache cannot read, so it names what it depends on. */
const topAuthors = () =>
  prisma.$cache.wrap(
    'report:top-authors',
    () => prisma.$queryRaw<Row[]>`
      SELECT u.name AS name, COUNT(p.id) AS posts
      FROM "User" u JOIN "Post" p ON p."authorId" = u.id
      WHERE p.published = 1
      GROUP BY u.id ORDER BY posts DESC, u.name`,
    { ttl: 300, models: ['User', 'Post'], tags: ['reports'] },
  )

async function show(what: string) {
  const before = prisma.$cache.stats().loads
  const rows = await topAuthors()
  const from = prisma.$cache.stats().loads > before ? 'database' : 'cache'
  const text = rows.map((row) => `${row.name} ${Number(row.posts)}`).join(', ')
  console.log(`${what.padEnd(44)} ${from.padEnd(9)} ${text}`)
}

await show('topAuthors()')
await show('topAuthors() again')
const grace = await base.user.findUniqueOrThrow({ where: { email: 'grace@example.com' } })
await prisma.post.createMany({
  data: ['Grace 2', 'Grace 3', 'Grace 4'].map((title) => ({ title, published: true, authorId: grace.id })),
})
await show('after post.createMany(...), a write to Post')
await show('topAuthors() again')
await prisma.$cache.invalidate({ tags: ['reports'] })
await show("after $cache.invalidate({ tags: ['reports'] })")
// A raw read is never taken for a write: it invalidates nothing.
await prisma.$queryRaw`SELECT COUNT(*) FROM "Post"`
await show('after a $queryRaw read')

await prisma.$cache.close()
await base.$disconnect()
if (redisUp) await dropPrefix(prefix)
removeDatabase(file)
