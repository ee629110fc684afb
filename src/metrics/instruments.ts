import { fail } from '../core/validate.ts'
import { formatValue, type MetricFamily, type MetricSample } from './exposition.ts'

/** Upper bounds, in seconds, of the read latency buckets: from an L1 hit (µs) to a slow query. */
export const DEFAULT_LATENCY_BUCKETS: readonly number[] = Object.freeze([
  0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
  0.25, 0.5, 1,
])

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

export function checkBuckets(buckets: unknown): readonly number[] {
  if (
    !Array.isArray(buckets) ||
    buckets.length === 0 ||
    !buckets.every((b, i) => typeof b === 'number' && Number.isFinite(b) && b > 0 && (i === 0 || b > buckets[i - 1]))
  ) {
    return fail('metrics.buckets', 'ascending finite numbers of seconds > 0', buckets)
  }
  return Object.freeze([...buckets])
}
