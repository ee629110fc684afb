/**
 * Shapes shared by the cache layer (memory, redis, tiered) and the Prisma layer above it. Tags
 * are versioned and captured before a load (docs/design.md).
 */

export type { Tier } from '../core/events.ts'
export type { CacheStats } from '../core/stats.ts'

/** How a read uses the cache. */
export type CachePolicy = 'cache-first' | 'network-first' | 'cache-only' | 'network-only'

/** Options of one `getOrSet` call. Durations are in seconds. */
export interface GetOrSetOptions<T = unknown> {
  /** Seconds the value is fresh. */
  readonly ttl?: number
  /** Seconds after `ttl` during which a stale value is served while one background refresh runs. */
  readonly swr?: number
  /**
   * Seconds after `ttl + swr` during which the entry is kept, and served only if the loader
   * fails (with a `grace` event) instead of the loader's error. Never an invalidated entry:
   * invalidation removes it from L1, and L2 checks its tag versions as for any read.
   * @default 0
   */
  readonly grace?: number
  /** Tags the value depends on; their versions are captured before the loader runs. */
  readonly tags?: readonly string[]
  /**
   * Tags captured before the loader runs and checked when the value is stored, but not stored
   * with it: if one moved meanwhile, the value is returned and not cached. The Prisma layer uses
   * the model tag as a guard for a `findUnique` whose record is known only after the read.
   */
  readonly guards?: readonly string[]
  /**
   * Tags derived from the loaded value. Their versions are read when the value is stored, which
   * is only sound when `guards` cover every write that could change them. Both tiers check these
   * tags by order instead (L1 against its clock, L2 against the sequence value its load captured),
   * and consult the guards only where a version cannot tell (in L2, a missing version).
   */
  readonly lateTags?: (value: T) => readonly string[]
  /** @default 'cache-first' */
  readonly policy?: CachePolicy
  /** What the value is, for events (`model`, `operation`). */
  readonly meta?: { readonly model?: string; readonly operation?: string }
}
