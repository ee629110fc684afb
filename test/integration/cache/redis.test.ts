import { once } from 'node:events'
import { Decimal } from '@prisma/client/runtime/client'
import type { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { KeyPattern } from '../../../src/cache/keys.ts'
import { parseBusMessage } from '../../../src/cache/redis/bus-message.ts'
import type { L2Read } from '../../../src/cache/redis/operations.ts'
import { RedisCache, type RedisCacheOptions } from '../../../src/cache/redis/redis-cache.ts'
import { L2TimeoutError, L2UnavailableError } from '../../../src/core/errors.ts'
import { createSerializer } from '../../../src/core/serializer.ts'
import { Testbed } from '../../support/factory.ts'
import { freePort, RedisServer } from '../../support/redis-server.ts'
import { manualClock } from '../../unit/cache/support.ts'

const tb = new Testbed()
afterAll(() => tb.cleanup())
const admin = tb.redis()
let count = 0
const nextPrefix = () => `${tb.prefix}_${count++}`

async function l2(options: Partial<RedisCacheOptions> = {}): Promise<RedisCache> {
  const cache = new RedisCache({ redis: tb.redis(), prefix: nextPrefix(), timeoutMs: 5_000, ...options })
  await cache.ready()
  return cache
}

function hitValue<T>(read: L2Read<T>): T | undefined {
  return read.hit ? read.value : undefined
}

/** Calls of each command since the server started, from INFO commandstats. */
async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats')
  const calls = new Map<string, number>()
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(match[1]!, Number(match[2]))
  return calls
}

describe('RedisCache', () => {
  it('stores a value with its tags and reads it back', async () => {
    const cache = await l2()
    expect(await cache.set('k', { a: 1 }, { tags: ['t1', 't2'] })).toBe(true)
    const read = await cache.get('k')
    expect(read).toMatchObject({ hit: true, value: { a: 1 }, fresh: true, tags: ['t1', 't2'] })
    expect((await cache.get('other')).hit).toBe(false)
  })

  it('round-trips Decimal, BigInt, Date, Uint8Array, Buffer, null and nested relations exactly', async () => {
    const cache = await l2({ serializer: createSerializer({ Decimal }) })
    const row = {
      id: 1,
      views: 9007199254740993n,
      price: new Decimal('19.99'),
      createdAt: new Date('2024-05-06T07:08:09.010Z'),
      cover: new Uint8Array([0, 128, 255]),
      raw: Buffer.from([1, 2]),
      deletedAt: null,
      author: { id: 2, posts: [{ id: 3, price: new Decimal('0.5'), tags: [] }] },
    }
    await cache.set('row', row)
    const back = hitValue(await cache.get<typeof row>('row'))!
    expect(back).toEqual(row)
    expect(Decimal.isDecimal(back.price)).toBe(true)
    expect(back.price.toString()).toBe('19.99')
    expect(back.views).toBe(9007199254740993n)
    expect(back.createdAt.toISOString()).toBe('2024-05-06T07:08:09.010Z')
    expect(back.cover.constructor).toBe(Uint8Array)
    expect(Buffer.isBuffer(back.raw)).toBe(true)
    expect(Decimal.isDecimal(back.author.posts[0]!.price)).toBe(true)
    await cache.set('null', null)
    expect(await cache.get('null')).toMatchObject({ hit: true, value: null })
  })

  it('captures the current versions of the asked tags in the same round trip as the read, creating missing ones', async () => {
    const cache = await l2()
    const before = await cache.get('k', ['t', 'u'])
    // A tag never seen gets a version at once (never ''): the group's sequence value, which no
    // stale entry can hold (docs/design.md, "Ordered versions").
    expect([...before.versions!.keys()]).toEqual(['t', 'u'])
    for (const version of before.versions!.values()) expect(version).toBe(await admin.get(cache.layout.sequence(0)))
    expect(await admin.exists(cache.layout.version(0, 't'), cache.layout.version(0, 'u'))).toBe(2)
    await cache.invalidate(['t'])
    const after = await cache.get('k', ['t', 'u'])
    expect(after.versions!.get('t')).toBe(await admin.get(cache.layout.sequence(0)))
    expect(after.versions!.get('t')).not.toBe(before.versions!.get('t'))
    expect(after.versions!.get('u')).toBe(before.versions!.get('u'))
    expect((await cache.capture(['t', 'u'], 'k')).versions).toEqual(after.versions)
  })

  it('turns every entry carrying an invalidated tag into a miss and deletes it, leaving the others', async () => {
    const cache = await l2()
    await cache.set('a', 1, { tags: ['t'] })
    await cache.set('b', 2, { tags: ['t', 'u'] })
    await cache.set('c', 3, { tags: ['u'] })
    await cache.invalidate(['t'])
    expect((await cache.get('a')).hit).toBe(false)
    expect((await cache.get('b')).hit).toBe(false)
    expect(hitValue(await cache.get('c'))).toBe(3)
    expect(await admin.exists(cache.layout.entry('a'), cache.layout.entry('b'))).toBe(0)
  })

  it('deletes keys and publishes the invalidation on its bus channel in the same call', async () => {
    const cache = await l2()
    const subscriber = tb.redis()
    await subscriber.subscribe(cache.channel)
    await cache.set('k', 1)
    const received = once(subscriber, 'message')
    await cache.invalidate(['t'], ['k'])
    const [, text] = (await received) as [string, string]
    expect(parseBusMessage(text)).toEqual({ from: cache.instanceId, tags: ['t'], keys: ['k'] })
    expect((await cache.get('k')).hit).toBe(false)
  })

  it('refuses a set whose captured tag versions moved since they were captured', async () => {
    const cache = await l2()
    const { versions } = await cache.get('k', ['t'])
    await cache.invalidate(['t'])
    expect(await cache.set('k', 'old', { captured: versions })).toBe(false)
    expect(await admin.exists(cache.layout.entry('k'))).toBe(0)
    const fresh = await cache.get('k', ['t'])
    expect(await cache.set('k', 'new', { captured: fresh.versions })).toBe(true)
    expect(hitValue(await cache.get('k'))).toBe('new')
  })

  it('refuses a set whose guard moved, and stores late tags with their versions at store time', async () => {
    const cache = await l2()
    const { versions: guards } = await cache.capture(['entity:User'], 'k')
    await cache.invalidate(['entity:User'])
    expect(await cache.set('k', 1, { guards })).toBe(false)

    const { versions: current } = await cache.capture(['entity:User'], 'k')
    await cache.invalidate(['record:User:1'])
    expect(await cache.set('k', 1, { guards: current, tags: ['record:User:1'] })).toBe(true)
    const read = await cache.get('k')
    expect(read.hit && read.tags).toEqual(['record:User:1'])
    await cache.invalidate(['record:User:1'])
    expect((await cache.get('k')).hit).toBe(false)
  })

  it('treats a corrupted or foreign value under its prefix as a miss and deletes it', async () => {
    const cache = await l2()
    const at = (key: string) => cache.layout.entry(key)
    await admin.set(at('garbage'), 'not an entry at all')
    await admin.set(at('bad-header'), 'soon\tlater\n{"json":1}')
    await admin.set(at('odd-header'), `0\t${Date.now() + 60_000}\tlonely-tag\n{"json":1}`)
    await admin.set(at('bad-payload'), `0\t${Date.now() + 60_000}\n{not json`)
    await admin.set(at('foreign-json'), `0\t${Date.now() + 60_000}\n{"something":"else"}`)
    await admin.hset(at('hash'), 'field', 'value')
    for (const key of ['garbage', 'bad-header', 'odd-header', 'bad-payload', 'foreign-json', 'hash']) {
      expect((await cache.get(key, ['t'])).hit).toBe(false)
      expect(await admin.exists(at(key))).toBe(0)
    }
  })

  it('answers a fresh hit without reading versions or the epoch, and a stale one with the capture a refresh needs', async () => {
    const clock = manualClock()
    const cache = await l2({ now: clock.now })
    await cache.set('k', 'v', { ttl: 10, swr: 5, tags: ['t'] })
    const fresh = await cache.get('k', ['u'])
    expect(fresh).toMatchObject({ hit: true, fresh: true, value: 'v' })
    expect(fresh.versions).toBeUndefined()
    // The epoch is created by the first read that needs one: a fresh hit does not.
    expect(await admin.exists(cache.layout.epoch(0))).toBe(0)
    await cache.invalidate(['u'])
    clock.advance(10_000)
    const stale = await cache.get('k', ['u'])
    expect(stale).toMatchObject({ hit: true, fresh: false, value: 'v' })
    expect(stale.versions?.get('u')).toBe(await admin.get(cache.layout.sequence(0)))
    expect(stale.epoch).toBe(await admin.get(cache.layout.epoch(0)))
  })

  it('expires an entry by its clock after ttl, serving it as stale until ttl + swr', async () => {
    const clock = manualClock()
    const cache = await l2({ now: clock.now })
    await cache.set('k', 'v', { ttl: 10, swr: 5 })
    expect(await cache.get('k')).toMatchObject({ hit: true, fresh: true })
    clock.advance(10_000)
    expect(await cache.get('k')).toMatchObject({ hit: true, fresh: false, value: 'v' })
    clock.advance(5_000)
    expect((await cache.get('k')).hit).toBe(false)
    const pttl = await admin.pttl(cache.layout.entry('k'))
    expect(pttl).toBeGreaterThan(0)
    expect(pttl).toBeLessThanOrEqual(15_000)
  })

  it('keeps an invalidated version at least as long as the longest entry ever stored', async () => {
    const cache = await l2()
    await cache.invalidate(['short'])
    const floor = await admin.pttl(cache.layout.version(0, 'short'))
    expect(floor).toBeGreaterThan(23 * 3600_000)
    await cache.set('k', 1, { ttl: 3 * 86_400 })
    expect(Number(await admin.get(cache.layout.maxLifetime(0)))).toBe(3 * 86_400_000)
    await cache.invalidate(['long'])
    expect(await admin.pttl(cache.layout.version(0, 'long'))).toBeGreaterThan(2 * 86_400_000)
    expect(await admin.pttl(cache.layout.maxLifetime(0))).toBe(-1)
  })

  it('clears every entry under its prefix and nothing outside it, even with glob characters in the prefix', async () => {
    const cache = await l2({ prefix: `${nextPrefix()}[x]*` })
    const base = cache.prefix.slice(0, -'[x]*'.length)
    await admin.set(`${base}-sentinel`, 'keep')
    await admin.set(`${base}x:k`, 'keep')
    await admin.set(`${base}[x]*-no-colon`, 'keep')
    await cache.set('a', 1)
    await cache.set('b', 2, { tags: ['t'] })
    await cache.invalidate(['u'])
    expect(await cache.clear()).toBe(2)
    expect(await admin.exists(cache.layout.entry('a'), cache.layout.entry('b'))).toBe(0)
    expect(await admin.get(`${base}-sentinel`)).toBe('keep')
    expect(await admin.get(`${base}x:k`)).toBe('keep')
    expect(await admin.get(`${base}[x]*-no-colon`)).toBe('keep')
    // Tag versions stay, so a read that captured one before the clear still cannot store old data.
    expect(await admin.exists(cache.layout.version(0, 'u'))).toBe(1)
  })

  it('deletes exactly the keys a pattern matches', async () => {
    const cache = await l2()
    for (const id of [1, 10, 21]) await cache.set(`ptc:User:id:${id}`, id)
    await cache.set('ptc:User:id:1:rel:posts', 'posts')
    await cache.set('ptc:Post:id:1', 'post')
    expect(await cache.invalidatePattern(KeyPattern.record('User', 1))).toBe(2)
    expect((await cache.get('ptc:User:id:10')).hit).toBe(true)
    expect((await cache.get('ptc:User:id:21')).hit).toBe(true)
    expect(await cache.invalidatePattern('ptc:User:*')).toBe(2)
    expect((await cache.get('ptc:Post:id:1')).hit).toBe(true)
  })

  it('rejects reserved keys and tags the format cannot hold with a TypeError naming them', async () => {
    const cache = await l2()
    await expect(cache.get('#ml')).rejects.toMatchObject({ name: 'CacheOptionError', option: 'key' })
    await expect(cache.set('#v:x', 1)).rejects.toBeInstanceOf(TypeError)
    await expect(cache.set('k', 1, { tags: ['a\tb'] })).rejects.toMatchObject({ option: 'tags' })
    await expect(cache.invalidate(['a\nb'])).rejects.toMatchObject({ option: 'tags' })
  })

  it('rejects bad options with a TypeError naming the option', () => {
    expect(() => new RedisCache({ redis: admin, ttl: 0 })).toThrow(expect.objectContaining({ option: 'ttl' }))
    expect(() => new RedisCache({ redis: admin, timeoutMs: -5 })).toThrow(
      expect.objectContaining({ option: 'timeoutMs' }),
    )
    expect(() => new RedisCache({ redis: admin, prefix: '' })).toThrow(expect.objectContaining({ option: 'prefix' }))
    expect(() => new RedisCache({ redis: 42 as never })).toThrow(expect.objectContaining({ option: 'redis' }))
    const prefixed = tb.redis(undefined, { keyPrefix: 'app:' })
    expect(() => new RedisCache({ redis: prefixed })).toThrow(expect.objectContaining({ option: 'redis' }))
  })

  it('closes the connection it opened from a URL and never a connection it was given', async () => {
    const given = tb.redis()
    const borrowed = new RedisCache({ redis: given, prefix: nextPrefix() })
    await borrowed.ready()
    await borrowed.close()
    expect(given.status).toBe('ready')
    const owned = new RedisCache({ redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', prefix: nextPrefix() })
    await owned.ready()
    await owned.close()
    await owned.close()
    expect(owned.status).toBe('end')
  })

  it('fails at once with L2UnavailableError when Redis cannot be reached', async () => {
    const cache = new RedisCache({ redis: `redis://127.0.0.1:${await freePort()}`, prefix: nextPrefix() })
    tb.defer(() => cache.close())
    const error = await cache.get('k').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(L2UnavailableError)
    expect((error as L2UnavailableError).code).toBe('E_L2_UNAVAILABLE')
  })

  it('fails with L2TimeoutError when Redis does not answer within timeoutMs', async () => {
    const server = await RedisServer.start()
    tb.defer(() => server.stop())
    const cache = new RedisCache({ redis: tb.redis(server.url), prefix: nextPrefix(), timeoutMs: 50 })
    await cache.ready()
    await tb.redis(server.url).client('PAUSE', 2_000, 'ALL')
    const error = await cache.get('k').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(L2TimeoutError)
    expect((error as L2TimeoutError).code).toBe('E_L2_TIMEOUT')
  })

  it.each([1, 10_000])(
    'invalidates a tag carried by %i entries in one script call, without SCAN or KEYS',
    async (entries) => {
      const server = await RedisServer.start()
      tb.defer(() => server.stop())
      const redis = tb.redis(server.url)
      const cache = new RedisCache({ redis, prefix: nextPrefix(), timeoutMs: 10_000 })
      await cache.ready()
      for (let i = 0; i < entries; i += 1000)
        await Promise.all(
          Array.from({ length: Math.min(1000, entries - i) }, (_, j) => cache.set(`k${i + j}`, i + j, { tags: ['t'] })),
        )
      await cache.set('other', 'stays', { tags: ['u'] })
      await cache.invalidate(['warm-up']) // loads the script, so the measured call is one EVALSHA
      const before = await commandCalls(redis)
      await cache.invalidate(['t'])
      const after = await commandCalls(redis)
      const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0)
      expect(delta('evalsha')).toBe(1)
      expect(delta('eval')).toBe(0)
      expect(delta('scan')).toBe(0)
      expect(delta('keys')).toBe(0)
      const reads = await Promise.all(Array.from({ length: entries }, (_, i) => cache.get(`k${i}`)))
      expect(reads.every((read) => !read.hit)).toBe(true)
      expect(hitValue(await cache.get('other'))).toBe('stays')
    },
  )
})
