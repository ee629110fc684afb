import { afterAll, describe, expect, it } from 'vitest'
import { RedisCache } from '../../../src/cache/redis/redis-cache.ts'
import { TieredCache } from '../../../src/cache/tiered/tiered-cache.ts'
import { CacheClosedError, L2UnavailableError } from '../../../src/core/errors.ts'
import { cachedInstance } from '../../support/cached.ts'
import { Testbed } from '../../support/factory.ts'
import { freePort, RedisServer } from '../../support/redis-server.ts'

/**
 * Every public promise of the cache layer settles within a bound: `ready()` while Redis is down
 * (rejects with L2UnavailableError after its timeoutMs), after `close()` (rejects with
 * CacheClosedError at once) and when `close()` comes while it waits; `close()` while Redis hangs.
 * A promise that never settled would fail these tests by their timeout.
 */
const tb = new Testbed()
afterAll(() => tb.cleanup())
let count = 0
const nextPrefix = () => `${tb.prefix}_r${count++}`

async function down(): Promise<TieredCache> {
  const cache = new TieredCache({
    l2: new RedisCache({ redis: `redis://127.0.0.1:${await freePort()}`, prefix: nextPrefix() }),
  })
  tb.defer(() => cache.close())
  return cache
}

describe('ready()', () => {
  it('rejects with L2UnavailableError when Redis is down, after its timeout, and reads still work', async () => {
    const cache = await down()
    const error = await cache.ready({ timeoutMs: 100 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(L2UnavailableError)
    expect((error as L2UnavailableError).code).toBe('E_L2_UNAVAILABLE')
    expect(await cache.getOrSet('k', async () => 'loaded')).toBe('loaded')
  })

  it('rejects with CacheClosedError after close(), and when close() comes while it waits', async () => {
    const waiting = await down()
    const pending = waiting.ready({ timeoutMs: 60_000 }).catch((e: unknown) => e)
    await waiting.close()
    expect(await pending).toBeInstanceOf(CacheClosedError)
    await expect(waiting.ready()).rejects.toMatchObject({ code: 'E_CACHE_CLOSED' })

    const l2 = new RedisCache({ redis: tb.redis(), prefix: nextPrefix() })
    const cache = new TieredCache({ l2 })
    await cache.ready()
    await cache.close()
    await expect(cache.ready()).rejects.toBeInstanceOf(CacheClosedError)
    await expect(l2.ready()).rejects.toBeInstanceOf(CacheClosedError)
  })

  it('rejects when the bus cannot subscribe within its timeout though Redis answers commands', async () => {
    const server = await RedisServer.start()
    tb.defer(() => server.stop())
    const l2 = new RedisCache({ redis: tb.redis(server.url), prefix: nextPrefix() })
    await l2.ready()
    // The bus opens its own connection; a client limit of one refuses it.
    await tb.redis(server.url).config('SET', 'maxclients', '2')
    const cache = new TieredCache({ l2 })
    tb.defer(() => cache.close())
    await expect(cache.ready({ timeoutMs: 200 })).rejects.toBeInstanceOf(L2UnavailableError)
  })

  it('resolves through the extension once Redis is up, and $cache.ready() rejects after $cache.close()', async () => {
    const instance = await cachedInstance(tb, 'sqlite', { prefix: nextPrefix() })
    await instance.prisma.$cache.ready()
    await instance.prisma.$cache.close()
    await expect(instance.prisma.$cache.ready()).rejects.toBeInstanceOf(CacheClosedError)
  })
})

describe('close()', () => {
  it('settles while Redis hangs (a stopped process keeps its connections open)', async () => {
    const server = await RedisServer.start()
    tb.defer(() => server.stop())
    const l2 = new RedisCache({ redis: server.url, prefix: nextPrefix(), timeoutMs: 100 })
    const cache = new TieredCache({ l2 })
    await cache.ready()
    server.pause()
    tb.defer(() => server.resume())
    await cache.close()
    expect(l2.status).toBe('end')
  })
})
