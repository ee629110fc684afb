/**
 * The collector behind the `metrics` option: it labels the counters by model and operation and
 * times cached reads, listening through the events sink and a per-read AsyncLocalStorage store.
 * Without the option it does not exist, and `$cache.metrics()` renders the totals of `stats()`.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { CacheEventMap, CacheEventSink } from '../core/events.ts'
import type { MetricFamily } from './exposition.ts'
import { Counter, DEFAULT_LATENCY_BUCKETS, Histogram } from './instruments.ts'
import type { MetricsOptions } from './options.ts'

/** How a cached read was answered. `shared`: it joined a lookup another read of its key had in flight. */
export type LatencyOutcome = 'l1_hit' | 'l2_hit' | 'miss' | 'shared'

/** What a cached read is, for the events it causes while it runs. */
interface ReadScope {
  readonly model: string
  readonly operation: string
  outcome: LatencyOutcome | undefined
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
