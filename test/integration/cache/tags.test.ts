import { afterAll, describe, expect, it } from 'vitest'
import { RedisCache } from '../../../src/cache/redis/redis-cache.ts'
import { storedTag } from '../../../src/cache/stored-tag.ts'
import { TieredCache } from '../../../src/cache/tiered/tiered-cache.ts'
import { cachedInstance } from '../../support/cached.ts'
import { Testbed } from '../../support/factory.ts'
import { nextEvent, recordingEmitter } from '../../unit/cache/support.ts'

/**
 * Users give tags of up to 256 characters; the Prisma layer stores `u:<tag>` and record tags
 * with ids of any length. The cache layer takes them all and keeps a long one as a hash: no read
 * fails, and invalidation reaches the entries on every instance.
 */
const tb = new Testbed()
afterAll(() => tb.cleanup())
let count = 0
const nextPrefix = () => `${tb.prefix}_g${count++}`
const admin = tb.redis()

describe('long tags', () => {
  it('are kept hashed in Redis and invalidate entries on every instance', async () => {
    const prefix = nextPrefix()
    const make = async () => {
      const l2 = new RedisCache({ redis: tb.redis(), prefix, timeoutMs: 5_000 })
      const { emitter } = recordingEmitter()
      const cache = new TieredCache({ l2, events: emitter })
      tb.defer(() => cache.close())
      await cache.ready()
      return { cache, l2, emitter }
    }
    const a = await make()
    const b = await make()
    const long = `r:Document:"${'a'.repeat(1_000)}"`
    let loads = 0
    const load = async () => `v${++loads}`
    expect(await a.cache.getOrSet('k', load, { tags: [long] })).toBe('v1')
    await a.cache.settled()
    expect(await b.cache.getOrSet('k', load, { tags: [long] })).toBe('v1')
    // One short version key, and the entry's header names the hash.
    expect(await admin.exists(a.l2.layout.version(0, storedTag(long)))).toBe(1)
    const read = await a.l2.get('k')
    expect(read.hit && read.tags).toEqual([storedTag(long)])
    const heard = nextEvent(b.emitter, 'bus')
    await a.cache.invalidateTags([long])
    expect(await a.cache.getOrSet('k', load, { tags: [long] })).toBe('v2')
    await a.cache.settled()
    await heard
    expect(await b.cache.getOrSet('k', load, { tags: [long] })).toBe('v2')
    // The lower layer's RedisCache takes the long tag too, and means the same version.
    await a.l2.invalidate([long])
    expect((await b.l2.get('k')).hit).toBe(false)
  })
})

describe('through the extension', () => {
  it('a 256-character user tag and a record with a 300-character id never fail a read', async () => {
    const prefix = nextPrefix()
    const a = await cachedInstance(tb, 'postgres', { prefix })
    const b = await cachedInstance(tb, 'postgres', { prefix })
    const tag = 't'.repeat(256)
    const id = 'i'.repeat(300)
    await a.base.document.create({ data: { id, title: 'long' } })
    const read = (instance: typeof a) =>
      instance.prisma.document.findUnique({ where: { id }, cache: { tags: [tag] } }).then((d) => d?.title)
    expect(await read(a)).toBe('long')
    await a.prisma.$cache.settled()
    expect(await read(b)).toBe('long')
    expect(b.prisma.$cache.stats()).toMatchObject({ errors: 0, l2: { hits: 1 } })

    const heard = b.nextBusMessage()
    await a.prisma.document.update({ where: { id }, data: { title: 'moved' } })
    await heard
    expect(await read(b)).toBe('moved')

    await a.base.document.update({ where: { id }, data: { title: 'out of band' } })
    const again = b.nextBusMessage()
    await a.prisma.$cache.invalidate({ tags: [tag] })
    await again
    expect(await read(b)).toBe('out of band')
    expect(await read(a)).toBe('out of band')
    expect(a.prisma.$cache.stats().errors).toBe(0)
  })
})
