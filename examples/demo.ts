// Run: npm run demo   (SQLite in .tmp/demo.db; Redis from REDIS_URL, default redis://127.0.0.1:6379)
import { mkdirSync, rmSync } from 'node:fs'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import Database from 'better-sqlite3'
import { Redis } from 'ioredis'
import { PrismaClient } from '../generated/sqlite/client.ts'
import { migrationSql } from '../test/support/migrations.ts'

const file = '.tmp/demo.db'
mkdirSync('.tmp', { recursive: true })
rmSync(file, { force: true })
const db = new Database(file)
db.exec(migrationSql('sqlite'))
db.close()

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const redis = new Redis(redisUrl, {
  lazyConnect: true,
  maxRetriesPerRequest: 0,
  connectTimeout: 500,
  retryStrategy: () => null,
})
redis.on('error', () => {})
const redisUp = await redis.connect().then(
  () => true,
  () => false,
)
if (!redisUp) console.log(`Redis at ${redisUrl} is not answering: running with the in-process L1 only.`)

const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) })
for (let i = 1; i <= 100; i++) {
  await prisma.user.create({ data: { email: `user${i}@example.com`, name: `User ${i}` } })
}
const started = performance.now()
for (let i = 0; i < 1000; i++) await prisma.user.findUnique({ where: { id: (i % 100) + 1 } })
const us = ((performance.now() - started) * 1000) / 1000
console.log(`seeded 100 users; uncached findUnique: ${us.toFixed(1)} µs per query`)
await prisma.$disconnect()
if (redisUp) redis.disconnect()
