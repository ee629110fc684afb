import type { CacheStats, Tier } from '../cache/types.ts'
import type { CacheMetrics } from './collector.ts'
import { type MetricFamily, renderMetrics } from './exposition.ts'

/** What `$cache.metrics()` reads from the cache when it is called. */
export interface CacheGauges {
  readonly stats: CacheStats
  /** Invalidations L2 has not received yet (queued for replay). */
  readonly pendingInvalidations: number
  /** Whether L1 is read and written now (it is not while the bus is down). */
  readonly l1Trusted: boolean
}

const tierCount = (stats: CacheStats, tier: Tier, field: 'hits' | 'misses' | 'errors'): number =>
  tier === 'l1' ? (field === 'errors' ? stats.errors - stats.l2.errors : stats.l1[field]) : stats.l2[field]

/**
 * The text of `$cache.metrics()`: gauges and per-tier lookup misses from the cache itself, and
 * either the totals of `stats()` or, when a collector is given, its labelled families.
 */
export function renderCacheMetrics(gauges: CacheGauges, detailed: CacheMetrics | undefined): string {
  const { stats } = gauges
  const families: MetricFamily[] = []
  if (detailed !== undefined) families.push(...detailed.families())
  else {
    const perTier = (field: 'hits' | 'errors') =>
      (['l1', 'l2'] as const).map((tier) => ({ labels: { tier }, value: tierCount(stats, tier, field) }))
    families.push(
      {
        name: 'tiered_cache_hits_total',
        help: 'Cached reads answered by a tier.',
        type: 'counter',
        samples: perTier('hits'),
      },
      {
        name: 'tiered_cache_misses_total',
        help: 'Cacheable reads answered by neither tier.',
        type: 'counter',
        samples: [{ value: stats.misses }],
      },
      {
        name: 'tiered_cache_loads_total',
        help: 'Database queries (or wrap() loaders) run for the cache.',
        type: 'counter',
        samples: [{ value: stats.loads }],
      },
      { name: 'tiered_cache_sets_total', help: 'Values stored.', type: 'counter', samples: [{ value: stats.sets }] },
      {
        name: 'tiered_cache_invalidations_total',
        help: 'Invalidations made on this instance (tag sets, patterns and clears).',
        type: 'counter',
        samples: [{ value: stats.invalidations }],
      },
      {
        name: 'tiered_cache_errors_total',
        help: 'Failures of a tier (skipped unless the tier is required).',
        type: 'counter',
        samples: perTier('errors'),
      },
    )
  }
  families.push(
    {
      name: 'tiered_cache_tier_misses_total',
      help: 'Lookups a tier could not answer (the next tier or the database was asked).',
      type: 'counter',
      samples: (['l1', 'l2'] as const).map((tier) => ({ labels: { tier }, value: tierCount(stats, tier, 'misses') })),
    },
    {
      name: 'tiered_cache_l1_entries',
      help: 'Entries held in L1.',
      type: 'gauge',
      samples: [{ value: stats.l1.entries }],
    },
    { name: 'tiered_cache_l1_bytes', help: 'Bytes held in L1.', type: 'gauge', samples: [{ value: stats.l1.bytes }] },
    {
      name: 'tiered_cache_l1_trusted',
      help: 'Whether L1 is used now (0 while the invalidation bus is down).',
      type: 'gauge',
      samples: [{ value: gauges.l1Trusted ? 1 : 0 }],
    },
    {
      name: 'tiered_cache_pending_invalidations',
      help: 'Invalidations queued until Redis answers again.',
      type: 'gauge',
      samples: [{ value: gauges.pendingInvalidations }],
    },
  )
  return renderMetrics(families)
}
