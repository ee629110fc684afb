/** One sample of a Prometheus text exposition, parsed. */
export interface ParsedSample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

export interface ParsedExposition {
  readonly help: ReadonlyMap<string, string>
  readonly types: ReadonlyMap<string, string>
  readonly samples: readonly ParsedSample[]
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y

/**
 * A strict reader of the text format (0.0.4): every line is a HELP, a TYPE or a sample; every
 * sample belongs to a family whose HELP and TYPE came before it. Throws on anything else.
 */
export function parseExposition(text: string): ParsedExposition {
  if (text !== '' && !text.endsWith('\n')) throw new Error('the exposition must end with a newline')
  const help = new Map<string, string>()
  const types = new Map<string, string>()
  const samples: ParsedSample[] = []
  for (const line of text.split('\n').slice(0, -1)) {
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line)
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string]
      if (kind === 'HELP') help.set(name, rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\'))
      else if (['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) types.set(name, rest)
      else throw new Error(`unknown type in ${JSON.stringify(line)}`)
      continue
    }
    const match = SAMPLE.exec(line)
    if (!match) throw new Error(`not a sample: ${JSON.stringify(line)}`)
    const [, name, labelText = '', valueText] = match as unknown as [string, string, string | undefined, string]
    const labels: Record<string, string> = {}
    LABEL.lastIndex = 0
    while (LABEL.lastIndex < labelText.length) {
      const label = LABEL.exec(labelText)
      if (!label) throw new Error(`bad labels in ${JSON.stringify(line)}`)
      labels[label[1]!] = label[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c))
    }
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '')
    if (!types.has(family) || !help.has(family)) throw new Error(`sample ${name} before its HELP and TYPE`)
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText)
    if (Number.isNaN(value) && valueText !== 'NaN') throw new Error(`bad value in ${JSON.stringify(line)}`)
    samples.push({ name, labels, value })
  }
  return { help, types, samples }
}

/** The value of the one sample named `name` whose labels include `labels`; throws unless exactly one. */
export function sampleValue(
  exposition: ParsedExposition,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  const found = exposition.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} ${JSON.stringify(labels)}`)
  return found[0]!.value
}

/** Like {@link sampleValue}, but 0 when there is no such sample (a counter that never moved). */
export function counterValue(
  exposition: ParsedExposition,
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  const found = exposition.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )
  return found.reduce((sum, s) => sum + s.value, 0)
}
