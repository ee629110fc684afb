import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { PrismaInstrumentation, registerInstrumentations } from '@prisma/instrumentation'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { tieredCache } from '../../../src/prisma/extension.ts'
import { passThrough } from '../../support/extensions.ts'
import { type AnyPrisma, Testbed } from '../../support/factory.ts'

/**
 * `@prisma/instrumentation` with the OpenTelemetry SDK (in-memory exporter): reads and writes work
 * with the cache on either side of another extension, a miss makes Prisma's spans, and a write
 * still invalidates.
 */
const bed = new Testbed()
const exporter = new InMemorySpanExporter()
let unregister: (() => void) | undefined

beforeAll(() => {
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  trace.setGlobalTracerProvider(provider)
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  unregister = registerInstrumentations({ tracerProvider: provider, instrumentations: [new PrismaInstrumentation()] })
})
afterAll(async () => {
  unregister?.()
  trace.disable()
  context.disable()
  await bed.cleanup()
})
beforeEach(() => exporter.reset())

let prefixes = 0
async function client(order: 'cache first' | 'cache last') {
  const base = await bed.prisma('postgres')
  const cache = tieredCache({ redis: bed.redis(), prefix: `${bed.prefix}-otel${prefixes++}`, auto: true })
  const cached =
    order === 'cache first' ? base.$extends(cache).$extends(passThrough) : base.$extends(passThrough).$extends(cache)
  const prisma = cached as unknown as AnyPrisma & {
    $cache: { ready(): Promise<void>; close(): Promise<void>; stats(): { hits: number } }
  }
  bed.defer(() => prisma.$cache.close())
  await prisma.$cache.ready()
  return { base, prisma }
}

const operationSpans = () => exporter.getFinishedSpans().filter((span) => span.name === 'prisma:client:operation')

describe.each(['cache first', 'cache last'] as const)('with @prisma/instrumentation, %s', (order) => {
  it('a miss makes Prisma spans, a hit answers, and a write invalidates', async () => {
    const { base, prisma } = await client(order)
    const doc = await base.document.create({ data: { title: 'traced' } })
    exporter.reset()
    expect(await prisma.document.findUnique({ where: { id: doc.id } })).toEqual(doc)
    expect(operationSpans().length).toBeGreaterThan(0)
    expect(await prisma.document.findUnique({ where: { id: doc.id } })).toEqual(doc)
    expect(prisma.$cache.stats().hits).toBe(1)
    const updated = await prisma.document.update({ where: { id: doc.id }, data: { title: 'retraced' } })
    expect(await prisma.document.findUnique({ where: { id: doc.id } })).toEqual(updated)
    expect(operationSpans().some((span) => span.attributes['method'] === 'update')).toBe(true)
  })

  it('transactions work, batch and interactive', async () => {
    const { base, prisma } = await client(order)
    const doc = await base.document.create({ data: { title: 'tx' } })
    const [found] = await prisma.$transaction([prisma.document.findUnique({ where: { id: doc.id } })])
    expect(found).toEqual(doc)
    const updated = await prisma.$transaction((tx) =>
      tx.document.update({ where: { id: doc.id }, data: { title: 'tx2' } }),
    )
    expect(await prisma.document.findUnique({ where: { id: doc.id } })).toEqual(updated)
  })
})
