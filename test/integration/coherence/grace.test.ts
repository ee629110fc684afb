import type { EventEmitter } from 'node:events'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { RedisCache } from '../../../src/cache/redis/redis-cache.ts'
import { TieredCache } from '../../../src/cache/tiered/tiered-cache.ts'
import type { CacheEventMap } from '../../../src/core/events.ts'
import { cachedInstance, type Instance } from '../../support/cached.ts'
import { Testbed } from '../../support/factory.ts'
import { databaseUnderCache } from '../../support/gate.ts'
import { manualClock, nextEvent, recordingEmitter } from '../../unit/cache/support.ts'

const bed = new Testbed()
afterAll(() => bed.cleanup())
let count = 0
const nextPrefix = () => `${bed.prefix}_${count++}`

const down = async (): Promise<string> => {
  throw new Error('the database is down')
}

describe('grace over Redis', () => {
  async function instance(prefix: string, now: () => number) {
    const { emitter, seen } = recordingEmitter()
    const l2 = new RedisCache({ redis: bed.redis(), prefix, timeoutMs: 5_000, now })
    const cache = new TieredCache({ l2, now, events: emitter })
    bed.defer(() => cache.close())
    await cache.ready()
    return { cache, events: emitter as EventEmitter, seen }
  }
  const options = { ttl: 10, grace: 600, tags: ['t'] }

  it('serves another instance the value kept in L2 when its loader fails', async () => {
    const clock = manualClock()
    const prefix = nextPrefix()
    const writer = await instance(prefix, clock.now)
    await writer.cache.getOrSet('k', async () => 'kept', options)
    await writer.cache.settled()
    clock.advance(60_000)
    const reader = await instance(prefix, clock.now)
    const event = nextEvent<CacheEventMap['grace']>(reader.events, 'grace')
    expect(await reader.cache.getOrSet('k', down, options)).toBe('kept')
    expect(await event).toMatchObject({ key: 'k', tier: 'l2' })
    // Past its stale window the kept value is only a fallback: a working loader replaces it.
    expect(await reader.cache.getOrSet('k', async () => 'new', { ...options, policy: 'network-first' })).toBe('new')
  })

  it('never serves a value kept in L2 once its tag was invalidated, by any instance', async () => {
    const clock = manualClock()
    const prefix = nextPrefix()
    const writer = await instance(prefix, clock.now)
    await writer.cache.getOrSet('k', async () => 'kept', options)
    await writer.cache.settled()
    clock.advance(60_000)
    const reader = await instance(prefix, clock.now)
    await writer.cache.invalidateTags(['t'])
    await expect(reader.cache.getOrSet('k', down, options)).rejects.toThrow('the database is down')
    expect(reader.seen.some((e) => e.name === 'grace')).toBe(false)
  })
})

describe('grace in the Prisma extension', () => {
  // Only Date is faked: entries' freshness follows it, while Redis, PostgreSQL and timers run in real time.
  afterEach(() => {
    vi.useRealTimers()
  })

  async function twoInstances(options: Parameters<typeof cachedInstance>[2]) {
    vi.useFakeTimers({ toFake: ['Date'] })
    const prefix = nextPrefix()
    const database = databaseUnderCache()
    const a = await cachedInstance(bed, 'postgres', { prefix, ...options }, { under: database.under })
    const b = await cachedInstance(bed, 'postgres', { prefix, ...options })
    return { a, b, database }
  }
  const title = (instance: Instance, id: string) =>
    instance.prisma.document.findUnique({ where: { id }, cache: true }).then((d) => d?.title)

  it('answers an expired read with the kept value while the database fails, and says so in an event', async () => {
    const { a, b, database } = await twoInstances({ ttl: 60, grace: 3_600 })
    const { id } = await a.base.document.create({ data: { title: 'kept' } })
    expect(await title(a, id)).toBe('kept')
    vi.setSystemTime(Date.now() + 120_000)
    database.fail()
    const event = nextEvent<CacheEventMap['grace']>(a.events, 'grace')
    expect(await title(a, id)).toBe('kept')
    expect(await event).toMatchObject({ tier: 'l1', model: 'Document', operation: 'findUnique' })
    expect((await event).error).toMatchObject({ message: 'the database is down' })

    // A write elsewhere: the kept value is invalidated, and the database's error comes through.
    const heard = a.nextBusMessage()
    await b.prisma.document.update({ where: { id }, data: { title: 'changed' } })
    await heard
    await expect(title(a, id)).rejects.toThrow('the database is down')
    database.recover()
    expect(await title(a, id)).toBe('changed')
  })

  it("takes grace from a model's policy, and keeps other models' errors", async () => {
    const { a, database } = await twoInstances({ ttl: 60, models: { Document: { grace: 3_600 }, User: true } })
    const { id } = await a.base.document.create({ data: { title: 'kept' } })
    const user = await a.base.user.create({ data: { email: `grace-${bed.prefix}@example.com` } })
    expect(await title(a, id)).toBe('kept')
    expect(await a.prisma.user.findUnique({ where: { id: user.id } })).toEqual(user)
    vi.setSystemTime(Date.now() + 120_000)
    database.fail()
    expect(await title(a, id)).toBe('kept')
    await expect(a.prisma.user.findUnique({ where: { id: user.id } })).rejects.toThrow('the database is down')
  })

  it('surfaces the database error for an expired read without grace, the default', async () => {
    const { a, database } = await twoInstances({ ttl: 60 })
    const { id } = await a.base.document.create({ data: { title: 'kept' } })
    expect(await title(a, id)).toBe('kept')
    vi.setSystemTime(Date.now() + 120_000)
    database.fail()
    await expect(title(a, id)).rejects.toThrow('the database is down')
  })
})
