import { afterAll, describe, expect, it } from 'vitest'
import { RedisCache } from '../../../src/cache/redis/redis-cache.ts'
import { TieredCache } from '../../../src/cache/tiered/tiered-cache.ts'
import { cachedInstance, type Instance } from '../../support/cached.ts'
import { Testbed } from '../../support/factory.ts'
import { databaseUnderCache } from '../../support/gate.ts'
import { heldLoader } from '../../unit/cache/support.ts'

/**
 * Keys and clears are fenced as tags are: a read that loaded before `invalidateKeys`, `clear()`
 * (so `$cache.clear()`, `$accelerate.invalidateAll()`) or an invalidation of a `wrap()` key, and
 * stores after it, leaves nothing in L2 that another instance would be served.
 */
const bed = new Testbed()
afterAll(() => bed.cleanup())
let count = 0
const nextPrefix = () => `${bed.prefix}_f${count++}`

/** Three instances of the lower layer on one prefix: A loads, B invalidates, C reads afterwards. */
async function instances() {
  const prefix = nextPrefix()
  const make = async () => {
    const l2 = new RedisCache({ redis: bed.redis(), prefix, timeoutMs: 5_000 })
    const cache = new TieredCache({ l2 })
    bed.defer(() => cache.close())
    await cache.ready()
    return { cache, l2 }
  }
  return { a: await make(), b: await make(), c: await make() }
}

describe('a load in flight across an invalidation of its key or a clear', () => {
  it.each([
    ['another instance invalidates its key', (b: TieredCache) => b.invalidateKeys(['k'])],
    ['another instance clears the cache', (b: TieredCache) => b.clear()],
    ['another instance deletes its key', (b: TieredCache) => b.delete('k')],
  ])('stores nothing in L2 when %s', async (_, invalidate) => {
    const { a, b, c } = await instances()
    const held = heldLoader('old')
    const read = a.cache.getOrSet('k', held.load, { tags: ['t'] })
    await held.started // A captured before loading: the old value is on its way.
    await invalidate(b.cache)
    held.release()
    expect(await read).toBe('old') // a fair answer to a read that started first
    expect((await a.l2.get('k')).hit).toBe(false)
    expect(await c.cache.getOrSet('k', async () => 'new', { tags: ['t'] })).toBe('new')
  })

  it('stores nothing in either tier when its own instance invalidates the key or clears', async () => {
    for (const invalidate of [(a: TieredCache) => a.invalidateKeys(['k']), (a: TieredCache) => a.clear()]) {
      const { a, c } = await instances()
      const held = heldLoader('old')
      const read = a.cache.getOrSet('k', held.load)
      await held.started
      await invalidate(a.cache)
      held.release()
      expect(await read).toBe('old')
      expect(await a.cache.getOrSet('k', async () => 'new')).toBe('new')
      await a.cache.settled()
      expect(await c.cache.getOrSet('k', async () => 'other')).toBe('new')
    }
  })

  it('still stores a load that captured after the invalidation', async () => {
    const { a, b, c } = await instances()
    await b.cache.invalidateKeys(['k'])
    await b.cache.clear()
    expect(await a.cache.getOrSet('k', async () => 'v')).toBe('v')
    await a.cache.settled()
    expect((await a.l2.get('k')).hit).toBe(true)
    expect(await c.cache.getOrSet('k', async () => 'other')).toBe('v')
  })
})

describe('through the extension', () => {
  async function twoInstances() {
    const prefix = nextPrefix()
    const database = databaseUnderCache()
    const a = await cachedInstance(bed, 'postgres', { prefix }, { under: database.under })
    const b = await cachedInstance(bed, 'postgres', { prefix })
    return { a, b, database }
  }

  const version = (instance: Instance, id: string) =>
    instance.prisma.document.findUnique({ where: { id }, cache: { key: `doc-${id}` } }).then((d) => d?.version)

  it.each([
    ['$cache.invalidate({ keys })', (b: Instance, id: string) => b.prisma.$cache.invalidate({ keys: [`doc-${id}`] })],
    ['$cache.clear()', (b: Instance) => b.prisma.$cache.clear()],
    ['$accelerate.invalidateAll()', (b: Instance) => b.prisma.$accelerate.invalidateAll()],
  ])('a read that loaded before %s leaves nothing another instance is served', async (_, invalidate) => {
    const { a, b, database } = await twoInstances()
    const { id } = await b.base.document.create({ data: { title: 'v1' } })
    const held = database.hold()
    const slow = version(a, id)
    await held.reached // A's query returned version 1 and waits.
    // A change the extension did not see (a migration, another service): the caller invalidates.
    await b.base.document.update({ where: { id }, data: { version: { increment: 1 } } })
    await invalidate(b, id)
    held.release()
    expect(await slow).toBe(1)
    for (const instance of [b, a, b]) expect(await version(instance, id)).toBe(2)
  })

  it('a wrap() that loaded before its key was invalidated leaves nothing another instance is served', async () => {
    const { a, b } = await twoInstances()
    const held = heldLoader('old report')
    const slow = a.prisma.$cache.wrap('report', held.load)
    await held.started
    await b.prisma.$cache.invalidate({ keys: ['report'] })
    held.release()
    expect(await slow).toBe('old report')
    expect(await b.prisma.$cache.wrap('report', () => 'new report')).toBe('new report')
    await b.prisma.$cache.settled()
    expect(await a.prisma.$cache.wrap('report', () => 'newer report')).toBe('new report')
  })
})
