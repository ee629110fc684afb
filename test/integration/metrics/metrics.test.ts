import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import type { MetricsOption } from '../../../src/metrics/options.ts'
import type { TieredCacheOptions } from '../../../src/prisma/options.ts'
import { cachedInstance, type Instance } from '../../support/cached.ts'
import { Testbed } from '../../support/factory.ts'
import { counterValue, parseExposition, sampleValue } from '../../support/prometheus.ts'

const bed = new Testbed()
afterAll(() => bed.cleanup())

const withMetrics: TieredCacheOptions & MetricsOption = { metrics: true }
const read = (instance: Instance, id: number) =>
  instance.prisma.user.findUnique({ where: { id }, cache: true }) as Promise<{ name: string | null } | null>

describe('$cache.metrics()', () => {
  let a: Instance
  let b: Instance
  let plain: Instance
  let seq = 0

  beforeEach(async () => {
    a ??= await cachedInstance(bed, 'sqlite', withMetrics)
    b ??= await cachedInstance(bed, 'sqlite', withMetrics)
    plain ??= await cachedInstance(bed, 'sqlite')
    await a.prisma.$cache.clear()
  })

  const newUser = () => a.base.user.create({ data: { email: `m${seq++}@example.com`, name: 'Ada' } })

  it('without the metrics option, reports the totals of stats() in the text format', async () => {
    const user = await newUser()
    await read(plain, user.id)
    await read(plain, user.id)
    const stats = plain.prisma.$cache.stats()
    const parsed = parseExposition(plain.prisma.$cache.metrics())
    expect(sampleValue(parsed, 'tiered_cache_hits_total', { tier: 'l1' })).toBe(stats.l1.hits)
    expect(sampleValue(parsed, 'tiered_cache_hits_total', { tier: 'l2' })).toBe(stats.l2.hits)
    expect(sampleValue(parsed, 'tiered_cache_misses_total')).toBe(stats.misses)
    expect(sampleValue(parsed, 'tiered_cache_loads_total')).toBe(stats.loads)
    expect(sampleValue(parsed, 'tiered_cache_l1_entries')).toBe(stats.l1.entries)
    expect(sampleValue(parsed, 'tiered_cache_l1_trusted')).toBe(1)
    expect(parsed.types.has('tiered_cache_read_duration_seconds')).toBe(false)
  })

  it('with metrics: true, a miss on A and an L2 then an L1 hit on B move their counters by model and operation', async () => {
    const user = await newUser()
    const before = { a: parseExposition(a.prisma.$cache.metrics()), b: parseExposition(b.prisma.$cache.metrics()) }
    await read(a, user.id)
    await a.prisma.$cache.settled()
    await read(b, user.id)
    await read(b, user.id)
    const after = { a: parseExposition(a.prisma.$cache.metrics()), b: parseExposition(b.prisma.$cache.metrics()) }
    const moved = (instance: 'a' | 'b', name: string, labels: Record<string, string>) =>
      counterValue(after[instance], name, labels) - counterValue(before[instance], name, labels)
    const op = { model: 'User', operation: 'findUnique' }

    expect(moved('a', 'tiered_cache_misses_total', op)).toBe(1)
    expect(moved('a', 'tiered_cache_loads_total', op)).toBe(1)
    expect(moved('a', 'tiered_cache_sets_total', { ...op, tier: 'l2' })).toBe(1)
    expect(moved('a', 'tiered_cache_sets_total', { ...op, tier: 'l1' })).toBe(1)
    expect(moved('b', 'tiered_cache_hits_total', { ...op, tier: 'l2' })).toBe(1)
    expect(moved('b', 'tiered_cache_hits_total', { ...op, tier: 'l1' })).toBe(1)
    expect(moved('b', 'tiered_cache_loads_total', op)).toBe(0)
    expect(moved('a', 'tiered_cache_read_duration_seconds_count', { outcome: 'miss' })).toBe(1)
    expect(moved('b', 'tiered_cache_read_duration_seconds_count', { outcome: 'l2_hit' })).toBe(1)
    expect(moved('b', 'tiered_cache_read_duration_seconds_count', { outcome: 'l1_hit' })).toBe(1)
  })

  it('with metrics: true, a write counts an invalidation of its model here and a bus message on the other instance', async () => {
    const user = await newUser()
    const before = {
      a: counterValue(parseExposition(a.prisma.$cache.metrics()), 'tiered_cache_invalidations_total', {
        model: 'User',
      }),
      b: counterValue(parseExposition(b.prisma.$cache.metrics()), 'tiered_cache_bus_messages_total'),
    }
    const delivered = b.nextBusMessage()
    await a.prisma.user.update({ where: { id: user.id }, data: { name: 'Grace' } })
    await delivered
    const parsedA = parseExposition(a.prisma.$cache.metrics())
    const parsedB = parseExposition(b.prisma.$cache.metrics())
    expect(counterValue(parsedA, 'tiered_cache_invalidations_total', { model: 'User' })).toBe(before.a + 1)
    expect(counterValue(parsedB, 'tiered_cache_bus_messages_total')).toBeGreaterThan(before.b)
  })

  it('with metrics: true, a cached read still joins a batch transaction and keeps withAccelerateInfo()', async () => {
    const user = await newUser()
    const [found, count] = await a.prisma.$transaction([
      a.prisma.user.findUnique({ where: { id: user.id }, cache: true }),
      a.prisma.user.count({ cache: true }),
    ])
    expect(found?.id).toBe(user.id)
    expect(count).toBeGreaterThan(0)
    const first = await a.prisma.user.findUnique({ where: { id: user.id }, cache: true }).withAccelerateInfo()
    const second = await a.prisma.user.findUnique({ where: { id: user.id }, cache: true }).withAccelerateInfo()
    expect(first.info.cacheStatus).toBe('miss')
    expect(second.info.cacheStatus).toBe('ttl')
    expect(second.data?.id).toBe(user.id)
  })

  it('with metrics: true, $cache.wrap is counted under operation="wrap"', async () => {
    const before = parseExposition(a.prisma.$cache.metrics())
    const key = `report-${seq++}`
    expect(await a.prisma.$cache.wrap(key, async () => 41 + 1)).toBe(42)
    expect(await a.prisma.$cache.wrap(key, async () => 0)).toBe(42)
    const after = parseExposition(a.prisma.$cache.metrics())
    const moved = (name: string, labels: Record<string, string>) =>
      counterValue(after, name, labels) - counterValue(before, name, labels)
    expect(moved('tiered_cache_loads_total', { operation: 'wrap' })).toBe(1)
    expect(moved('tiered_cache_hits_total', { operation: 'wrap', tier: 'l1' })).toBe(1)
  })
})
