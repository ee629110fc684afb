import { afterAll, describe, expect, it } from 'vitest'
import { KeyLayout } from '../../../src/cache/redis/layout.ts'
import { cachedInstance } from '../../support/cached.ts'
import { Testbed } from '../../support/factory.ts'

const bed = new Testbed()
afterAll(() => bed.cleanup())

describe('tier lifetimes on the Prisma path', () => {
  it('l2.ttl bounds the life of an L2 entry: min(query ttl, l2.ttl)', async () => {
    const { prisma, base } = await cachedInstance(bed, 'sqlite', { l2: { ttl: 5 } })
    const user = await base.user.create({ data: { email: 'l2-ttl@example.com' } })
    const layout = new KeyLayout(`${bed.prefix}-sqlite`, 1)
    const redis = bed.redis()
    const pttlOf = async (ttl: number) => {
      const { info } = await prisma.user.findUnique({ where: { id: user.id }, cache: { ttl } }).withAccelerateInfo()
      expect(info.cacheStatus).toBe('miss')
      await prisma.$cache.settled()
      return redis.pttl(layout.entry(info.signature))
    }
    const capped = await pttlOf(60)
    expect(capped).toBeGreaterThan(0)
    expect(capped).toBeLessThanOrEqual(5_000)
    await prisma.$cache.clear()
    const shorter = await pttlOf(2)
    expect(shorter).toBeGreaterThan(0)
    expect(shorter).toBeLessThanOrEqual(2_000)
  })
})
