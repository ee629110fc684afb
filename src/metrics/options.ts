import { object } from '../core/validate.ts'
import { checkBuckets } from './instruments.ts'

/** Detailed metrics: counters by model and operation, and a latency histogram of cached reads. */
export interface MetricsOptions {
  /**
   * Upper bounds, in seconds, of the `tiered_cache_read_duration_seconds` buckets, ascending.
   * @default DEFAULT_LATENCY_BUCKETS (5 µs to 1 s)
   */
  readonly buckets?: readonly number[]
}

/** The `metrics` option of `tieredCache()`. */
export interface MetricsOption {
  /**
   * Collect detailed metrics for `$cache.metrics()`: hits, misses, loads, sets, errors by model
   * and operation, invalidations by model, and a latency histogram of cached reads by outcome.
   * Costs a little on every cached read (an AsyncLocalStorage scope and a few counter updates).
   * Without it `$cache.metrics()` still reports the totals of `stats()`, for free.
   * @default false
   */
  readonly metrics?: boolean | MetricsOptions
}

const METRICS_KEYS: ReadonlySet<string> = new Set(['buckets'])

/**
 * Takes `metrics` out of the options of `tieredCache()` and checks it; the rest goes to
 * `resolveOptions()`. Anything that is not a plain object is left for `resolveOptions()` to reject.
 */
export function splitMetricsOption<T extends object>(
  options: (T & MetricsOption) | undefined,
): { readonly options: T | undefined; readonly metrics: MetricsOptions | undefined } {
  if (typeof options !== 'object' || options === null || Array.isArray(options) || !('metrics' in options)) {
    return { options, metrics: undefined }
  }
  const { metrics, ...rest } = options
  if (metrics === undefined || metrics === false) return { options: rest as T, metrics: undefined }
  if (metrics === true) return { options: rest as T, metrics: {} }
  object('metrics', metrics, METRICS_KEYS, 'a boolean or { buckets }')
  if (metrics.buckets !== undefined) checkBuckets(metrics.buckets)
  return { options: rest as T, metrics }
}
