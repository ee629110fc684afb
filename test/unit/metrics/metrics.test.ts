import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import type { CacheStats } from '../../../src/cache/types.ts'
import { CacheOptionError } from '../../../src/core/errors.ts'
import { CacheMetrics } from '../../../src/metrics/collector.ts'
import { renderMetrics } from '../../../src/metrics/exposition.ts'
import { Counter, Histogram } from '../../../src/metrics/instruments.ts'
import { splitMetricsOption } from '../../../src/metrics/options.ts'
import { renderCacheMetrics } from '../../../src/metrics/render.ts'
import { counterValue, parseExposition, sampleValue } from '../../support/prometheus.ts'

const stats = (overrides: Partial<CacheStats> = {}): CacheStats => ({
  hits: 5,
  misses: 2,
  hitRate: 5 / 7,
  loads: 2,
  sets: 2,
  deletes: 0,
  invalidations: 1,
  errors: 3,
  l1: { hits: 4, misses: 3, entries: 2, bytes: 120 },
  l2: { hits: 1, misses: 2, errors: 1 },
  ...overrides,
})

describe('renderMetrics', () => {
  it('writes HELP and TYPE before the samples of each family, and ends every line with a newline', () => {
    const text = renderMetrics([
      { name: 'a_total', help: 'As.', type: 'counter', samples: [{ value: 1 }] },
      { name: 'b', help: 'Bs.', type: 'gauge', samples: [{ labels: { x: '1' }, value: 2.5 }] },
    ])
    expect(text).toBe(
      '# HELP a_total As.\n# TYPE a_total counter\na_total 1\n# HELP b Bs.\n# TYPE b gauge\nb{x="1"} 2.5\n',
    )
  })

  it('escapes backslashes, quotes and newlines in label values, and backslashes and newlines in HELP', () => {
    const text = renderMetrics([
      {
        name: 'c_total',
        help: 'line one\nback\\slash',
        type: 'counter',
        samples: [{ labels: { model: 'a"b\\c\nd' }, value: 1 }],
      },
    ])
    expect(text).toContain('# HELP c_total line one\\nback\\\\slash\n')
    expect(text).toContain('c_total{model="a\\"b\\\\c\\nd"} 1\n')
    const parsed = parseExposition(text)
    expect(parsed.samples[0]?.labels.model).toBe('a"b\\c\nd')
    expect(parsed.help.get('c_total')).toBe('line one\nback\\slash')
  })

  it('writes infinities and NaN as the format spells them', () => {
    const text = renderMetrics([
      {
        name: 'g',
        help: 'G.',
        type: 'gauge',
        samples: [
          { labels: { k: 'p' }, value: Infinity },
          { labels: { k: 'n' }, value: -Infinity },
          { labels: { k: 'x' }, value: Number.NaN },
        ],
      },
    ])
    expect(text).toContain('g{k="p"} +Inf\ng{k="n"} -Inf\ng{k="x"} NaN\n')
  })

  it('rejects a metric or label name the format does not allow', () => {
    expect(() => renderMetrics([{ name: 'bad-name', help: '', type: 'gauge', samples: [] }])).toThrow(TypeError)
    expect(() =>
      renderMetrics([{ name: 'ok', help: '', type: 'gauge', samples: [{ labels: { 'bad-label': 'x' }, value: 1 }] }]),
    ).toThrow(TypeError)
  })
})

describe('Counter and Histogram', () => {
  it('a counter keeps one series per label values and adds to it', () => {
    const counter = new Counter('hits_total', 'Hits.', ['tier'])
    counter.inc(['l1'])
    counter.inc(['l1'], 2)
    counter.inc(['l2'])
    expect(counter.get(['l1'])).toBe(3)
    const parsed = parseExposition(renderMetrics([counter.family()]))
    expect(sampleValue(parsed, 'hits_total', { tier: 'l1' })).toBe(3)
    expect(sampleValue(parsed, 'hits_total', { tier: 'l2' })).toBe(1)
  })

  it('a histogram writes cumulative buckets, +Inf equal to the count, and the sum', () => {
    const histogram = new Histogram('d_seconds', 'D.', ['outcome'], [0.001, 0.01])
    histogram.observe(['hit'], 0.0005)
    histogram.observe(['hit'], 0.005)
    histogram.observe(['hit'], 0.5)
    const parsed = parseExposition(renderMetrics([histogram.family()]))
    expect(parsed.types.get('d_seconds')).toBe('histogram')
    expect(sampleValue(parsed, 'd_seconds_bucket', { outcome: 'hit', le: '0.001' })).toBe(1)
    expect(sampleValue(parsed, 'd_seconds_bucket', { outcome: 'hit', le: '0.01' })).toBe(2)
    expect(sampleValue(parsed, 'd_seconds_bucket', { outcome: 'hit', le: '+Inf' })).toBe(3)
    expect(sampleValue(parsed, 'd_seconds_count', { outcome: 'hit' })).toBe(3)
    expect(sampleValue(parsed, 'd_seconds_sum', { outcome: 'hit' })).toBeCloseTo(0.5055)
  })

  it('a histogram refuses buckets that are not ascending positive numbers', () => {
    expect(() => new Histogram('h', 'H.', [], [0.1, 0.01])).toThrow(CacheOptionError)
    expect(() => new Histogram('h', 'H.', [], [])).toThrow(CacheOptionError)
  })
})

describe('the metrics option', () => {
  it('is taken out of the options, so the rest goes on unchanged', () => {
    expect(splitMetricsOption({ ttl: 5, metrics: true })).toEqual({ options: { ttl: 5 }, metrics: {} })
    expect(splitMetricsOption({ ttl: 5, metrics: false })).toEqual({ options: { ttl: 5 }, metrics: undefined })
    expect(splitMetricsOption({ ttl: 5 })).toEqual({ options: { ttl: 5 }, metrics: undefined })
    expect(splitMetricsOption(undefined)).toEqual({ options: undefined, metrics: undefined })
  })

  it('a bad value throws a CacheOptionError naming it', () => {
    expect(() => splitMetricsOption({ metrics: 'yes' } as never)).toThrow(/^metrics: /)
    expect(() => splitMetricsOption({ metrics: { bucket: [1] } } as never)).toThrow(/^metrics\.bucket: /)
    expect(() => splitMetricsOption({ metrics: { buckets: [2, 1] } })).toThrow(/^metrics\.buckets: /)
  })
})

describe('renderCacheMetrics', () => {
  it('without a collector, reports the totals of stats() per tier and the gauges', () => {
    const parsed = parseExposition(
      renderCacheMetrics({ stats: stats(), pendingInvalidations: 4, l1Trusted: false }, undefined),
    )
    expect(sampleValue(parsed, 'tiered_cache_hits_total', { tier: 'l1' })).toBe(4)
    expect(sampleValue(parsed, 'tiered_cache_hits_total', { tier: 'l2' })).toBe(1)
    expect(sampleValue(parsed, 'tiered_cache_misses_total')).toBe(2)
    expect(sampleValue(parsed, 'tiered_cache_loads_total')).toBe(2)
    expect(sampleValue(parsed, 'tiered_cache_errors_total', { tier: 'l1' })).toBe(2)
    expect(sampleValue(parsed, 'tiered_cache_errors_total', { tier: 'l2' })).toBe(1)
    expect(sampleValue(parsed, 'tiered_cache_tier_misses_total', { tier: 'l1' })).toBe(3)
    expect(sampleValue(parsed, 'tiered_cache_l1_entries')).toBe(2)
    expect(sampleValue(parsed, 'tiered_cache_l1_bytes')).toBe(120)
    expect(sampleValue(parsed, 'tiered_cache_l1_trusted')).toBe(0)
    expect(sampleValue(parsed, 'tiered_cache_pending_invalidations')).toBe(4)
    expect(parsed.types.has('tiered_cache_read_duration_seconds')).toBe(false)
  })
})

describe('CacheMetrics', () => {
  const render = (metrics: CacheMetrics) =>
    parseExposition(renderCacheMetrics({ stats: stats(), pendingInvalidations: 0, l1Trusted: true }, metrics))

  it('counts the events it hears by model and operation, and passes them on to the caller’s sink', () => {
    const metrics = new CacheMetrics()
    const events = new EventEmitter()
    const heard: string[] = []
    events.on('hit', () => heard.push('hit'))
    const sink = metrics.sink(events)
    sink.emit('hit', { key: 'k', tier: 'l1', model: 'User', operation: 'findUnique' })
    sink.emit('hit', { key: 'k', tier: 'l2', model: 'User', operation: 'findUnique' })
    sink.emit('miss', { key: 'k', model: 'Post', operation: 'findMany' })
    sink.emit('invalidate', { tags: ['m:User', 'r:User:1', 'a:Post', 'u:mine'] })
    sink.emit('bus', { from: 'x', tags: ['m:User'] })
    const parsed = render(metrics)
    expect(heard).toEqual(['hit', 'hit'])
    expect(sampleValue(parsed, 'tiered_cache_hits_total', { tier: 'l1', model: 'User' })).toBe(1)
    expect(sampleValue(parsed, 'tiered_cache_hits_total', { tier: 'l2', model: 'User' })).toBe(1)
    expect(sampleValue(parsed, 'tiered_cache_misses_total', { model: 'Post', operation: 'findMany' })).toBe(1)
    expect(sampleValue(parsed, 'tiered_cache_invalidations_total', { model: 'User' })).toBe(1)
    expect(sampleValue(parsed, 'tiered_cache_invalidations_total', { model: 'Post' })).toBe(1)
    expect(sampleValue(parsed, 'tiered_cache_invalidations_total', { model: '' })).toBe(1)
    expect(sampleValue(parsed, 'tiered_cache_bus_messages_total')).toBe(1)
  })

  it('does not pass an error event to a caller’s EventEmitter that has no error listener', () => {
    const metrics = new CacheMetrics()
    const sink = metrics.sink(new EventEmitter())
    expect(() => sink.emit('error', { tier: 'l2', error: new Error('down') })).not.toThrow()
    expect(sampleValue(render(metrics), 'tiered_cache_errors_total', { tier: 'l2' })).toBe(1)
  })

  it('times a read by the outcome its own events report, and labels what happens inside it by its model', async () => {
    const metrics = new CacheMetrics()
    const sink = metrics.sink(undefined)
    await metrics.measure('User', 'findMany', async () => {
      sink.emit('hit', { key: 'k', tier: 'l1' })
    })
    await metrics.measure('User', 'findMany', async () => {
      await Promise.resolve()
      sink.emit('miss', { key: 'k' })
      metrics.query('User')
      sink.emit('set', { key: 'k', tier: 'l1' })
    })
    await metrics.measure('User', 'findMany', async () => {})
    const parsed = render(metrics)
    expect(sampleValue(parsed, 'tiered_cache_read_duration_seconds_count', { outcome: 'l1_hit' })).toBe(1)
    expect(sampleValue(parsed, 'tiered_cache_read_duration_seconds_count', { outcome: 'miss' })).toBe(1)
    expect(sampleValue(parsed, 'tiered_cache_read_duration_seconds_count', { outcome: 'shared' })).toBe(1)
    expect(sampleValue(parsed, 'tiered_cache_hits_total', { model: 'User', operation: 'findMany' })).toBe(1)
    expect(sampleValue(parsed, 'tiered_cache_loads_total', { model: 'User', operation: 'findMany' })).toBe(1)
    expect(sampleValue(parsed, 'tiered_cache_sets_total', { tier: 'l1', model: 'User' })).toBe(1)
  })

  it('a query outside any cached read is not counted as a load', () => {
    const metrics = new CacheMetrics()
    metrics.query('User')
    expect(counterValue(render(metrics), 'tiered_cache_loads_total')).toBe(0)
  })

  it('a wrap() loader counts one load, and the queries inside it none', async () => {
    const metrics = new CacheMetrics()
    const loader = metrics.loader(async () => {
      metrics.query('User')
      return 1
    })
    await metrics.measure('', 'wrap', async () => loader())
    expect(sampleValue(render(metrics), 'tiered_cache_loads_total', { operation: 'wrap' })).toBe(1)
    expect(counterValue(render(metrics), 'tiered_cache_loads_total', { model: 'User' })).toBe(0)
  })
})
