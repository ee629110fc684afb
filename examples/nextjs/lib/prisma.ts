// The cached client of a Next.js app (App Router), as `lib/prisma.ts`: one per process. Route
// handlers import `prisma` from here (in an app: `import { prisma } from '@/lib/prisma'`).
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaClient } from '../../../generated/sqlite/client.ts'
// In an app: import { tieredCache } from 'tiered-cache'
import { tieredCache } from '../../../src/index.ts'

function createPrisma() {
  const adapter = new PrismaBetterSqlite3({ url: process.env.DATABASE_URL ?? 'file:./dev.db' })
  return new PrismaClient({ adapter }).$extends(
    tieredCache({ redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: process.env.CACHE_PREFIX }),
  )
}

export type CachedPrismaClient = ReturnType<typeof createPrisma>

// `next dev` evaluates this module again after every edit. A new client each time would open new
// Redis connections and a new bus subscriber, and start with an empty L1: keep one on globalThis.
// In production the module is evaluated once per process anyway.
const globalForPrisma = globalThis as typeof globalThis & { prisma?: CachedPrismaClient }

export const prisma = globalForPrisma.prisma ?? createPrisma()
if (process.env.NODE_ENV !== 'production') globalForPrisma.prisma = prisma
