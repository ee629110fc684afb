import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base'
import { untilL1Serves, withTieredCache } from '../contenders/tiered-cache.ts'
import { interleave, log, type Sample, scaled } from '../harness.ts'
import { type Bench, HOT_USER_ID } from '../setup.ts'

/** An exporter that drops every span: what is measured is the cache's cost, not an exporter's. */
const discard: SpanExporter = {
  export: (_spans, done) => done({ code: 0 }),
  shutdown: async () => {},
}

export interface TracingResult {
  /** µs per L1 hit: `tracing: false`, `@opentelemetry/api` loaded without a provider, with one. */
  readonly off: Sample
  readonly noProvider: Sample
  readonly offWithProvider: Sample
  readonly traced: Sample
}

/**
 * The cost of spans on the hot path: an L1 hit of a User `findUnique` on SQLite, with tracing off,
 * with the API loaded and no provider (interleaved with the first), then with a BasicTracerProvider,
 * a SimpleSpanProcessor and an AsyncLocalStorage context manager registered (interleaved with
 * tracing off again). Prints its table; not part of latest.json.
 */
export async function tracingCost(bench: Bench): Promise<TracingResult> {
  const base = bench.client('sqlite')
  const P = bench.prefix
  const args = { where: { id: HOT_USER_ID }, cache: true }
  const off = withTieredCache(base, null, { prefix: `${P}_troff`, tracing: false })
  const idle = withTieredCache(base, null, { prefix: `${P}_tridle` })
  for (const client of [off, idle]) await untilL1Serves(client.prisma, () => client.prisma.user.findUnique(args))
  const rounds = scaled(20, 5)
  const [a, b] = await interleave(
    [
      { name: 'L1 hit, tracing: false', run: () => off.prisma.user.findUnique(args) },
      { name: 'L1 hit, @opentelemetry/api, no provider', run: () => idle.prisma.user.findUnique(args) },
    ],
    { rounds },
  )
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(discard)] }))
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  try {
    const traced = withTieredCache(base, null, { prefix: `${P}_trspan` })
    await untilL1Serves(traced.prisma, () => traced.prisma.user.findUnique(args))
    const [c, d] = await interleave(
      [
        { name: 'L1 hit, tracing: false (provider registered)', run: () => off.prisma.user.findUnique(args) },
        { name: 'L1 hit, traced (a span per read)', run: () => traced.prisma.user.findUnique(args) },
      ],
      { rounds },
    )
    const result = { off: a!, noProvider: b!, offWithProvider: c!, traced: d! }
    log('== Tracing: µs per L1 hit (median of rounds)')
    for (const sample of Object.values(result)) log(`  ${sample.name.padEnd(48)} ${sample.median.toFixed(2)}`)
    return result
  } finally {
    trace.disable()
    context.disable()
  }
}
