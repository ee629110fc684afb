// Run: npx tsx examples/accelerate-migration.ts   (SQLite in .tmp/; Redis at REDIS_URL when it answers)
//
// Moving off Prisma Accelerate: the queries keep their `cacheStrategy`, `$accelerate.invalidate`
// and `withAccelerateInfo()` keep working; only the client's construction changes.
//
// Before, with Accelerate:
//
//   import { withAccelerate } from '@prisma/extension-accelerate'
//   import { PrismaClient } from './generated/client'
//   const prisma = new PrismaClient({ accelerateUrl: process.env.DATABASE_URL }).$extends(withAccelerate())
//
// After, with tieredCache (a driver adapter for your database, and your Redis):
//
//   import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
//   import { tieredCache } from 'tiered-cache'
//   const adapter = new PrismaBetterSqlite3({ url: 'file:./dev.db' })
//   const prisma = new PrismaClient({ adapter }).$extends(tieredCache({ redis: process.env.REDIS_URL }))
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

const file = createDatabase(`accelerate-${process.pid}`)
const redisUp = await redisOrNotice()
const prefix = uniquePrefix('accelerate')

const base = sqliteClient(file)
const prisma = base.$extends(tieredCache({ redis: redisUp ? REDIS_URL : null, prefix }))
await prisma.$cache.ready()

// ---- The application's code, exactly as it was written for Accelerate. ----

async function publishedPosts() {
  const { data, info } = await prisma.post
    .findMany({
      where: { published: true },
      orderBy: { id: 'asc' },
      cacheStrategy: { ttl: 60, swr: 30, tags: ['published_posts'] },
    })
    .withAccelerateInfo()
  return { titles: data.map((post) => post.title), cacheStatus: info.cacheStatus }
}

async function publish(title: string, authorId: number) {
  const post = await prisma.post.create({ data: { title, published: true, authorId } })
  // With Accelerate a write does not touch the cache, so the code invalidated by hand.
  await prisma.$accelerate.invalidate({ tags: ['published_posts'] })
  return post
}

// ---- End of the application's code. ----

const author = await base.user.create({ data: { email: 'ada@example.com', name: 'Ada' } })
await base.post.create({ data: { title: 'Notes on the Analytical Engine', published: true, authorId: author.id } })

const show = async (what: string) => {
  const { titles, cacheStatus } = await publishedPosts()
  console.log(`${what.padEnd(48)} cacheStatus ${cacheStatus.padEnd(5)} ${titles.join(' | ')}`)
}
await show('publishedPosts()')
await show('publishedPosts()')
await publish('Sketch of the Analytical Engine', author.id)
await show('publish(...), then publishedPosts()')
// tieredCache also invalidates on writes by itself: the manual invalidate is no longer needed.
await prisma.post.create({ data: { title: 'A third post', published: true, authorId: author.id } })
await show('a plain post.create(...), then publishedPosts()')

await prisma.$cache.close()
await base.$disconnect()
if (redisUp) await dropPrefix(prefix)
removeDatabase(file)
