import { describe, expectTypeOf, it } from 'vitest'
import type { PrismaClient } from '../../generated/sqlite/client.ts'
import { tieredCache } from '../../src/prisma/extension.ts'

declare const base: PrismaClient

describe('the metrics option and $cache.metrics()', () => {
  it('metrics() returns the exposition text', () => {
    const prisma = base.$extends(tieredCache({ metrics: true }))
    expectTypeOf(prisma.$cache.metrics()).toEqualTypeOf<string>()
  })

  it('accepts true, false or { buckets }, and nothing else', () => {
    tieredCache({ metrics: false })
    tieredCache({ ttl: 30, metrics: { buckets: [0.001, 0.01] } })
    // @ts-expect-error metrics is a boolean or { buckets }
    tieredCache({ metrics: 'yes' })
    // @ts-expect-error buckets are numbers of seconds
    tieredCache({ metrics: { buckets: ['1ms'] } })
    // @ts-expect-error a misspelt option
    tieredCache({ metrics: { bucket: [1] } })
  })
})
