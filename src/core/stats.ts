/** Counters of one cache; all numbers. */
export interface CacheStats {
  /** `l1.hits + l2.hits` */
  readonly hits: number
  /** Reads served by neither tier. */
  readonly misses: number
  /** hits / (hits + misses), 0 when there were none. */
  readonly hitRate: number
  /** Loader calls made on a miss (database queries, for the Prisma layer). */
  readonly loads: number
  readonly sets: number
  readonly deletes: number
  readonly invalidations: number
  /** Errors of either tier (including those that were skipped because the tier is optional). */
  readonly errors: number
  readonly l1: { readonly hits: number; readonly misses: number; readonly entries: number; readonly bytes: number }
  readonly l2: { readonly hits: number; readonly misses: number; readonly errors: number }
}

/** Mutable counters behind `stats()`; the cache increments the fields directly (hot path). */
export class StatsCounters {
  l1Hits = 0
  l1Misses = 0
  l2Hits = 0
  l2Misses = 0
  l2Errors = 0
  l1Errors = 0
  misses = 0
  loads = 0
  sets = 0
  deletes = 0
  invalidations = 0

  /** A frozen snapshot in the shape of {@link CacheStats}; `l1` gives the live size of the L1. */
  snapshot(l1: { readonly entries: number; readonly bytes: number }): CacheStats {
    const hits = this.l1Hits + this.l2Hits
    const total = hits + this.misses
    return Object.freeze({
      hits,
      misses: this.misses,
      hitRate: total === 0 ? 0 : hits / total,
      loads: this.loads,
      sets: this.sets,
      deletes: this.deletes,
      invalidations: this.invalidations,
      errors: this.l1Errors + this.l2Errors,
      l1: Object.freeze({ hits: this.l1Hits, misses: this.l1Misses, entries: l1.entries, bytes: l1.bytes }),
      l2: Object.freeze({ hits: this.l2Hits, misses: this.l2Misses, errors: this.l2Errors }),
    })
  }

  reset(): void {
    this.l1Hits = this.l1Misses = this.l2Hits = this.l2Misses = this.l2Errors = this.l1Errors = 0
    this.misses = this.loads = this.sets = this.deletes = this.invalidations = 0
  }
}
