import { isAbsolute, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Redis } from 'ioredis'
import type { CacheClient } from '../../src/prisma/client-cache.ts'
import { tieredCache as fromSource } from '../../src/prisma/extension.ts'
import type { QueryCacheOptions, TieredCacheOptions } from '../../src/prisma/options.ts'
import type { BasePrisma } from '../setup.ts'
import { readCounter } from './prisma.ts'

/**
 * The extension under test: `src/` through tsx by default; with `BENCH_DIST=<dir>`, the package as
 * built by `tsc -p tsconfig.build.json --outDir <dir>` (the dir must be inside the project, for
 * node_modules). tsx compiles with esbuild's keepNames, which wraps every closure created at run
 * time in a `__name()` call; the built package has no such cost.
 */
const tieredCache: typeof fromSource = process.env.BENCH_DIST
  ? (
      (await import(
        pathToFileURL(
          join(
            isAbsolute(process.env.BENCH_DIST) ? process.env.BENCH_DIST : resolve(process.env.BENCH_DIST),
            'index.js',
          ),
        ).href
      )) as { tieredCache: typeof fromSource }
    ).tieredCache
  : fromSource

interface CachedReads {
  findUnique(args: { where: { id: number }; cache?: boolean | QueryCacheOptions }): Promise<unknown>
}

/**
 * What the benchmark uses of an extended client, typed by hand: the inferred type of
 * `base.$extends(tieredCache())` does not survive being returned from a function (TypeScript 5.9
 * with Prisma 7.10's generated client sees `unknown` outside), and the benchmark should compile
 * whatever state the extension's typing is in. Runtime behaviour is the real extension's.
 */
export interface TieredPrisma {
  readonly user: CachedReads & {
    update(args: { where: { id: number }; data: { name: string } }): Promise<unknown>
  }
  readonly post: CachedReads
  readonly $cache: CacheClient
}

/**
 * tieredCache as an application would use it, with the read counter under it (see prisma.ts).
 * Long TTLs by default, so no entry expires in the middle of a latency measurement.
 */
export function withTieredCache(base: BasePrisma, redis: Redis | null, options: TieredCacheOptions) {
  const { counter, apply } = readCounter()
  const prisma = apply(base).$extends(
    tieredCache({
      redis,
      ttl: 3600,
      l1: { max: 50_000, ttl: 3600 },
      l2: { ttl: 3600, timeoutMs: 1_000 },
      ...options,
    }),
  ) as unknown as TieredPrisma
  return { prisma, counter }
}

/**
 * Waits until the extension serves L1 hits. With Redis, L1 is trusted only once the bus has
 * subscribed (an instance that could miss invalidations must not serve from memory).
 */
export async function untilL1Serves(prisma: TieredPrisma, read: () => Promise<unknown>, timeoutMs = 5_000) {
  const end = Date.now() + timeoutMs
  await read()
  while (Date.now() < end) {
    const before = prisma.$cache.stats().l1.hits
    await read()
    if (prisma.$cache.stats().l1.hits > before) return true
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  return false
}
