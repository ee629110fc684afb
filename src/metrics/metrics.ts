/**
 * `$cache.metrics()`: the cache's counters in the Prometheus text exposition format (0.0.4).
 *
 * Without the `metrics` option the text is rendered from `stats()` when it is asked for, so it
 * costs nothing per read. With `metrics: true` a collector also labels the counters by model and
 * operation and times cached reads; it listens through the events sink and a per-read
 * AsyncLocalStorage store, and exists only when the option is on.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { CacheStats, Tier } from '../cache/types.ts'
import { CacheOptionError } from '../core/errors.ts'
import type { CacheEventMap, CacheEventSink } from '../core/events.ts'

/** The `Content-Type` of what `$cache.metrics()` returns, for an HTTP `/metrics` endpoint. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** Upper bounds, in seconds, of the read latency buckets: from an L1 hit (µs) to a slow query. */
export const DEFAULT_LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
  0.25, 0.5, 1,
])

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

/** How a cached read was answered. `shared`: it joined a lookup another read of its key had in flight. */
export type LatencyOutcome = 'l1_hit' | 'l2_hit' | 'miss' | 'shared'

/** One line of a metric family. */
export interface MetricSample {
  /** The sample's name when it is not the family's (`_bucket`, `_sum`, `_count` of a histogram). */
  readonly name?: string
  readonly labels?: Readonly<Record<string, string>>
  readonly value: number
}

/** A metric family: its HELP and TYPE lines and its samples. */
export interface MetricFamily {
  readonly name: string
  readonly help: string
  readonly type: 'counter' | 'gauge' | 'histogram'
  readonly samples: readonly MetricSample[]
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

const escapeHelp = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
const escapeLabel = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(value)
}

/** Renders families in the text exposition format: HELP and TYPE lines, then samples, `\n` after each line. */
export function renderMetrics(families: readonly MetricFamily[]): string {
  let out = ''
  for (const family of families) {
    if (!METRIC_NAME.test(family.name)) throw new TypeError(`invalid metric name ${JSON.stringify(family.name)}`)
    out += `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels ?? {})
      let text = ''
      if (labels.length > 0) {
        text = labels
          .map(([name, value]) => {
            if (!LABEL_NAME.test(name)) throw new TypeError(`invalid label name ${JSON.stringify(name)}`)
            return `${name}="${escapeLabel(value)}"`
          })
          .join(',')
        text = `{${text}}`
      }
      out += `${sample.name ?? family.name}${text} ${formatValue(sample.value)}\n`
    }
  }
  return out
}

const SEP = '\u0000'

function zipLabels(names: readonly string[], values: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {}
  for (let i = 0; i < names.length; i++) labels[names[i]!] = values[i] ?? ''
  return labels
}

/** A counter with fixed label names; label values are passed in the same order. */
export class Counter {
  readonly #values = new Map<string, { readonly labels: readonly string[]; value: number }>()

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[] = [],
  ) {}

  inc(labels: readonly string[] = [], by = 1): void {
    const id = labels.join(SEP)
    const series = this.#values.get(id)
    if (series) series.value += by
    else this.#values.set(id, { labels: [...labels], value: by })
  }

  /** The value of one series, 0 when it has none. */
  get(labels: readonly string[] = []): number {
    return this.#values.get(labels.join(SEP))?.value ?? 0
  }

  family(): MetricFamily {
    const samples = [...this.#values.values()].map((s) => ({
      labels: zipLabels(this.labelNames, s.labels),
      value: s.value,
    }))
    return { name: this.name, help: this.help, type: 'counter', samples }
  }
}

/** A histogram with fixed buckets and label names (`le` is added per bucket, cumulative). */
export class Histogram {
  readonly buckets: readonly number[]
  readonly #values = new Map<string, { readonly labels: readonly string[]; counts: number[]; sum: number }>()

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    buckets: readonly number[],
  ) {
    this.buckets = checkBuckets(buckets)
  }

  observe(labels: readonly string[], value: number): void {
    const id = labels.join(SEP)
    let series = this.#values.get(id)
    if (series === undefined) {
      series = { labels: [...labels], counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0 }
      this.#values.set(id, series)
    }
    let i = 0
    while (i < this.buckets.length && value > this.buckets[i]!) i++
    series.counts[i]!++
    series.sum += value
  }

  family(): MetricFamily {
    const samples: MetricSample[] = []
    for (const series of this.#values.values()) {
      const labels = zipLabels(this.labelNames, series.labels)
      let cumulative = 0
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += series.counts[i]!
        const le = i < this.buckets.length ? formatValue(this.buckets[i]!) : '+Inf'
        samples.push({ name: `${this.name}_bucket`, labels: { ...labels, le }, value: cumulative })
      }
      samples.push({ name: `${this.name}_sum`, labels, value: series.sum })
      samples.push({ name: `${this.name}_count`, labels, value: cumulative })
    }
    return { name: this.name, help: this.help, type: 'histogram', samples }
  }
}

function checkBuckets(buckets: unknown): readonly number[] {
  if (
    !Array.isArray(buckets) ||
    buckets.length === 0 ||
    !buckets.every((b, i) => typeof b === 'number' && Number.isFinite(b) && b > 0 && (i === 0 || b > buckets[i - 1]))
  ) {
    throw new CacheOptionError('metrics.buckets', 'ascending finite numbers of seconds > 0')
  }
  return Object.freeze([...buckets])
}

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
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) {
    throw new CacheOptionError('metrics', `expected a boolean or { buckets }, got ${typeof metrics}`)
  }
  for (const key of Object.keys(metrics)) {
    if (key !== 'buckets') throw new CacheOptionError(`metrics.${key}`, 'one of buckets, got an unknown option')
  }
  if (metrics.buckets !== undefined) checkBuckets(metrics.buckets)
  return { options: rest as T, metrics }
}

/** What a cached read is, for the events it causes while it runs. */
interface ReadScope {
  readonly model: string
  readonly operation: string
  outcome: LatencyOutcome | undefined
}

/** What `$cache.metrics()` reads from the cache when it is called. */
export interface CacheGauges {
  readonly stats: CacheStats
  /** Invalidations L2 has not received yet (queued for replay). */
  readonly pendingInvalidations: number
  /** Whether L1 is read and written now (it is not while the bus is down). */
  readonly l1Trusted: boolean
}

/**
 * The collector of detailed metrics (the `metrics` option). It learns what happened from the
 * cache's events, and which read caused them from an AsyncLocalStorage scope opened by `measure`.
 */
export class CacheMetrics {
  readonly #scope = new AsyncLocalStorage<ReadScope>()
  readonly #hits = new Counter('tiered_cache_hits_total', 'Cached reads answered by a tier.', [
    'tier',
    'model',
    'operation',
  ])
  readonly #misses = new Counter('tiered_cache_misses_total', 'Cacheable reads answered by neither tier.', [
    'model',
    'operation',
  ])
  readonly #loads = new Counter('tiered_cache_loads_total', 'Database queries (or wrap() loaders) run for the cache.', [
    'model',
    'operation',
  ])
  readonly #sets = new Counter('tiered_cache_sets_total', 'Values stored, per tier.', ['tier', 'model', 'operation'])
  readonly #invalidations = new Counter(
    'tiered_cache_invalidations_total',
    'Invalidations made on this instance, once per model they concern (model="" for caller tags and keys).',
    ['model'],
  )
  readonly #errors = new Counter(
    'tiered_cache_errors_total',
    'Failures of a tier (skipped unless the tier is required).',
    ['tier', 'model', 'operation'],
  )
  readonly #bus = new Counter('tiered_cache_bus_messages_total', "Invalidations received from other instances' writes.")
  readonly #breaker = new Counter('tiered_cache_breaker_opens_total', 'Times the L2 circuit breaker opened.')
  readonly #latency: Histogram

  constructor(options: MetricsOptions = {}) {
    this.#latency = new Histogram(
      'tiered_cache_read_duration_seconds',
      'Duration of cached reads by outcome: l1_hit, l2_hit, miss (loaded), shared (joined a read in flight).',
      ['outcome'],
      options.buckets ?? DEFAULT_LATENCY_BUCKETS,
    )
  }

  /** An events sink that counts every event and passes it on to the caller's sink, if any. */
  sink(next: CacheEventSink | undefined): CacheEventSink {
    return {
      emit: (name: string, payload: unknown) => {
        this.#observe(name, payload)
        if (next !== undefined && !(name === 'error' && next.listenerCount?.('error') === 0)) next.emit(name, payload)
      },
      listenerCount: () => 1,
    }
  }

  /** Runs one cached read (`run` starts it) inside a scope, and times it by outcome. */
  measure<T>(model: string, operation: string, run: () => PromiseLike<T>): Promise<T> {
    const scope: ReadScope = { model, operation, outcome: undefined }
    const started = performance.now()
    const done = () => this.#latency.observe([scope.outcome ?? 'shared'], (performance.now() - started) / 1000)
    return Promise.resolve(this.#scope.run(scope, run)).finally(done)
  }

  /**
   * A `wrap()` loader that counts its load and runs outside the read's scope, so the queries
   * inside it are not taken for the wrapped value's own load.
   */
  loader<T>(fn: () => Promise<T> | T): () => Promise<T> | T {
    return () => {
      const scope = this.#scope.getStore()
      if (scope !== undefined) {
        this.#loads.inc([scope.model, scope.operation])
        scope.outcome ??= 'miss'
      }
      return this.#scope.exit(fn)
    }
  }

  /** Called by the query hook for every query: a model query inside a read's scope is that read's load. */
  query(model: string | undefined): void {
    if (model === undefined) return
    const scope = this.#scope.getStore()
    if (scope === undefined) return
    this.#loads.inc([scope.model, scope.operation])
    scope.outcome ??= 'miss'
  }

  /** The detailed families, in the order they are rendered. */
  families(): MetricFamily[] {
    return [
      this.#hits,
      this.#misses,
      this.#loads,
      this.#sets,
      this.#invalidations,
      this.#errors,
      this.#bus,
      this.#breaker,
      this.#latency,
    ].map((metric) => metric.family())
  }

  #observe(name: string, payload: unknown): void {
    const scope = this.#scope.getStore()
    switch (name) {
      case 'hit': {
        const event = payload as CacheEventMap['hit']
        this.#hits.inc([event.tier, event.model ?? scope?.model ?? '', event.operation ?? scope?.operation ?? ''])
        if (scope !== undefined) scope.outcome ??= event.tier === 'l1' ? 'l1_hit' : 'l2_hit'
        break
      }
      case 'miss': {
        const event = payload as CacheEventMap['miss']
        this.#misses.inc([event.model ?? scope?.model ?? '', event.operation ?? scope?.operation ?? ''])
        if (scope !== undefined) scope.outcome ??= 'miss'
        break
      }
      case 'set': {
        const event = payload as CacheEventMap['set']
        this.#sets.inc([event.tier ?? '', scope?.model ?? '', scope?.operation ?? ''])
        break
      }
      case 'invalidate': {
        const event = payload as CacheEventMap['invalidate']
        const models = new Set<string>()
        for (const tag of event.tags) models.add(modelOfTag(tag))
        if ((event.keys?.length ?? 0) > 0) models.add('')
        for (const model of models) this.#invalidations.inc([model])
        break
      }
      case 'error': {
        const event = payload as CacheEventMap['error']
        this.#errors.inc([event.tier, scope?.model ?? '', scope?.operation ?? ''])
        break
      }
      case 'bus':
        this.#bus.inc()
        break
      case 'breaker:open':
        this.#breaker.inc()
        break
    }
  }
}

/** `m:User`, `a:User`, `r:User:1` → `User`; a caller's tag (`u:…`) → `''`. */
function modelOfTag(tag: string): string {
  const kind = tag.slice(0, 2)
  if (kind !== 'm:' && kind !== 'a:' && kind !== 'r:') return ''
  const end = tag.indexOf(':', 2)
  return end === -1 ? tag.slice(2) : tag.slice(2, end)
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
