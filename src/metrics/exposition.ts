/** The Prometheus text exposition format (0.0.4): families of samples rendered as text. */

/** The `Content-Type` of what `$cache.metrics()` returns, for an HTTP `/metrics` endpoint. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

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

export function formatValue(value: number): string {
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
