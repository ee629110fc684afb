import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { cachedInstance } from '../../support/cached.ts'
import { Testbed } from '../../support/factory.ts'

/** Spans through the OpenTelemetry SDK's in-memory exporter; the global provider is this file's alone. */
const bed = new Testbed()
const exporter = new InMemorySpanExporter()
afterAll(async () => {
  trace.disable()
  context.disable()
  await bed.cleanup()
})
beforeEach(() => exporter.reset())

let seq = 0
const spans = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((span) => span.name === name)

describe('without a tracer provider', () => {
  it('a miss, a hit and a write record no span', async () => {
    const a = await cachedInstance(bed, 'sqlite', { auto: true })
    // A provider that is not registered: the cache must not find it.
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer('x')
    const user = await a.base.user.create({ data: { email: `t${seq++}@example.com` } })
    await a.prisma.user.findUnique({ where: { id: user.id } })
    await a.prisma.user.findUnique({ where: { id: user.id } })
    await a.prisma.user.update({ where: { id: user.id }, data: { name: 'x' } })
    expect(a.prisma.$cache.stats().hits).toBe(1)
    expect(exporter.getFinishedSpans()).toEqual([])
  })
})

describe('with a tracer provider', () => {
  beforeAll(() => {
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }))
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  })

  it('a miss, an L2 hit on another instance and an L1 hit each make a tiered_cache.read span', async () => {
    const a = await cachedInstance(bed, 'sqlite', { auto: true })
    const b = await cachedInstance(bed, 'sqlite', { auto: true })
    const user = await a.base.user.create({ data: { email: `t${seq++}@example.com` } })
    exporter.reset()
    await a.prisma.user.findUnique({ where: { id: user.id } })
    await a.prisma.$cache.settled()
    await b.prisma.user.findUnique({ where: { id: user.id } })
    await b.prisma.user.findUnique({ where: { id: user.id } })
    const reads = spans('tiered_cache.read')
    expect(reads.map((span) => [span.attributes['cache.hit'], span.attributes['tiered_cache.tier']])).toEqual([
      [false, 'db'],
      [true, 'l2'],
      [true, 'l1'],
    ])
    for (const span of reads) {
      expect(span.attributes['tiered_cache.model']).toBe('User')
      expect(span.attributes['tiered_cache.operation']).toBe('findUnique')
      expect(span.attributes['tiered_cache.key_hash']).toMatch(/^[0-9a-f]{8}$/)
      expect(span.instrumentationScope.name).toBe('tiered-cache')
    }
    expect(new Set(reads.map((span) => span.attributes['tiered_cache.key_hash'])).size).toBe(1)
    // The key's text (it holds the arguments) is in no attribute.
    const key = (
      await a.prisma.$cache.explain({ model: 'User', operation: 'findUnique', args: { where: { id: user.id } } })
    ).key
    expect(JSON.stringify(reads.map((span) => span.attributes))).not.toContain(key)
  })

  it('a read span is a child of the caller active span', async () => {
    const a = await cachedInstance(bed, 'sqlite', { auto: true })
    const user = await a.base.user.create({ data: { email: `t${seq++}@example.com` } })
    exporter.reset()
    const tracer = trace.getTracer('test')
    const parentId = await tracer.startActiveSpan('request', async (parent) => {
      await a.prisma.user.findUnique({ where: { id: user.id } })
      await a.prisma.user.findUnique({ where: { id: user.id } })
      parent.end()
      return parent.spanContext().spanId
    })
    const reads = spans('tiered_cache.read')
    expect(reads).toHaveLength(2)
    for (const span of reads) expect(span.parentSpanContext?.spanId).toBe(parentId)
  })

  it('a write makes a tiered_cache.invalidate span with its tag count, and a transaction one for its commit', async () => {
    const a = await cachedInstance(bed, 'sqlite', { auto: true })
    const user = await a.base.user.create({ data: { email: `t${seq++}@example.com` } })
    exporter.reset()
    await a.prisma.user.update({ where: { id: user.id }, data: { name: 'y' } })
    await a.prisma.$transaction(async (tx) => {
      await tx.user.update({ where: { id: user.id }, data: { name: 'z' } })
    })
    const invalidations = spans('tiered_cache.invalidate')
    expect(invalidations.map((span) => span.attributes['tiered_cache.operation'])).toEqual(['update', '$transaction'])
    const [write, commit] = invalidations
    expect(write!.attributes['tiered_cache.model']).toBe('User')
    expect(write!.attributes['tiered_cache.transaction']).toBe(false)
    expect(write!.attributes['tiered_cache.tag_count']).toBeGreaterThan(0)
    expect(commit!.attributes['tiered_cache.transaction']).toBe(true)
  })

  it('an invalidation received from another instance makes a tiered_cache.bus span', async () => {
    const a = await cachedInstance(bed, 'sqlite', { auto: true })
    const b = await cachedInstance(bed, 'sqlite', { auto: true })
    const user = await a.base.user.create({ data: { email: `t${seq++}@example.com` } })
    exporter.reset()
    const received = b.nextBusMessage()
    await a.prisma.user.delete({ where: { id: user.id } })
    await received
    const [bus] = spans('tiered_cache.bus')
    expect(bus?.attributes['tiered_cache.model']).toBe('User')
    expect(bus?.attributes['tiered_cache.operation']).toBe('delete')
    expect(bus?.attributes['tiered_cache.tag_count']).toBeGreaterThan(0)
  })

  it('tracing: false records nothing', async () => {
    const a = await cachedInstance(bed, 'sqlite', { auto: true, tracing: false })
    const user = await a.base.user.create({ data: { email: `t${seq++}@example.com` } })
    exporter.reset()
    await a.prisma.user.findUnique({ where: { id: user.id } })
    await a.prisma.user.update({ where: { id: user.id }, data: { name: 'w' } })
    expect(exporter.getFinishedSpans()).toEqual([])
  })
})
