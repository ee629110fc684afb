export { CacheKey, EntityTag, KeyPattern } from './cache/keys.ts'
export { StampedeLock, type StampedeLockOptions } from './cache/lock.ts'
export { MemoryCache, type MemoryCacheOptions } from './cache/memory.ts'
export { RedisCache, type RedisCacheOptions } from './cache/redis/redis-cache.ts'
export { TieredCache } from './cache/tiered/tiered-cache.ts'
export type { TieredCacheOptions as TieredCacheLayerOptions } from './cache/tiered/tiered-options.ts'
export type { CachePolicy, CacheStats, GetOrSetOptions, Tier } from './cache/types.ts'
export {
  CacheClosedError,
  CacheError,
  type CacheErrorCode,
  CacheMissError,
  CacheOptionError,
  L1Error,
  L2NotDurableError,
  L2TimeoutError,
  L2UnavailableError,
} from './core/errors.ts'
export type { CacheEventMap, CacheEventName, CacheEventSink, InvalidationCause } from './core/events.ts'
export { METRICS_CONTENT_TYPE } from './metrics/exposition.ts'
export { DEFAULT_LATENCY_BUCKETS } from './metrics/instruments.ts'
export type { MetricsOption, MetricsOptions } from './metrics/options.ts'
export { ChangeCaptureError } from './prisma/change-capture/errors.ts'
export type { ChangeCaptureOptions } from './prisma/change-capture/link.ts'
export { changeCaptureDropSql, changeCaptureSql } from './prisma/change-capture/sql.ts'
export type { AccelerateCompat, CacheClient, InvalidateInput, WrapOptions } from './prisma/client-cache.ts'
export type { DebugLogger } from './prisma/debug.ts'
export type { CacheExplanation, ExplainQuery, TierState } from './prisma/explain.ts'
export { tieredCache } from './prisma/extension.ts'
export type {
  AccelerateCacheStrategy,
  CacheArgs,
  L1Options,
  L2Options,
  ModelPolicy,
  QueryCacheOptions,
  StampedeOptions,
  TieredCacheOptions,
} from './prisma/options.ts'
