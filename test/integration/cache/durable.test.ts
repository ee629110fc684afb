import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisCache } from '../../../src/cache/redis/redis-cache.ts'
import { TieredCache } from '../../../src/cache/tiered/tiered-cache.ts'
import { L2NotDurableError } from '../../../src/core/errors.ts'
import type { CacheEventMap } from '../../../src/core/events.ts'
import { Testbed } from '../../support/factory.ts'
import { starveReplica } from '../../support/failover.ts'
import { RedisServer } from '../../support/redis-server.ts'
import { nextEvent, recordingEmitter } from '../../unit/cache/support.ts'

/**
 * `durable` on a master with one replica of this file: an invalidation resolves once the replica
 * has it; one the replica does not acknowledge in time is an L2NotDurableError, which a
 * TieredCache keeps queued (an error event, L2 not read) and replays once the replica answers.
 * (The failovers themselves are in the Sentinel and cluster tests.)
 */
const tb = new Testbed()
let master: RedisServer
let replica: RedisServer
let count = 0
const nextPrefix = () => `${tb.prefix}_d${count++}`

beforeAll(async () => {
  master = await RedisServer.start()
  replica = await RedisServer.start({ args: ['--replicaof', '127.0.0.1', String(master.port)] })
  const admin = tb.redis(master.url)
  for (let i = 0; !/slave0:.*state=online/.test(await admin.info('replication')); i++) {
    if (i > 200) throw new Error('the replica did not come online')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
})
afterAll(async () => {
  replica?.resume()
  await tb.cleanup()
  await replica?.stop()
  await master?.stop()
})

const durableCache = (prefix: string, redis: Redis = tb.redis(master.url)) =>
  new RedisCache({ redis, prefix, timeoutMs: 1_000, durable: { replicas: 1, timeoutMs: 200 } })

describe('durable invalidations', () => {
  it('resolve once the replica holds the new version', async () => {
    const cache = durableCache(nextPrefix())
    await cache.ready()
    const onReplica = tb.redis(replica.url)
    for (let i = 0; i < 20; i++) {
      await cache.invalidate(['t'])
      // Read on the replica right after: already there, not on its way.
      expect(await onReplica.get(cache.layout.version(0, 't'))).toBe(
        await tb.redis(master.url).get(cache.layout.version(0, 't')),
      )
    }
  })

  it('fail with L2NotDurableError when the replica does not acknowledge in time', async () => {
    const cache = durableCache(nextPrefix())
    await cache.ready()
    const filler = tb.redis(master.url)
    const starved = await starveReplica(replica, (text) => filler.set(`${cache.prefix}:filler`, text))
    try {
      const error = await cache.invalidate(['t'], ['k']).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(L2NotDurableError)
      expect(error).toMatchObject({ code: 'E_L2_NOT_DURABLE', acknowledged: 0, replicas: 1 })
      // The master has it all the same.
      expect(await filler.exists(cache.layout.version(0, 't'))).toBe(1)
    } finally {
      starved.resume()
    }
  })

  it('stay queued in a TieredCache until the replica acknowledges, and L2 is not read meanwhile', async () => {
    const prefix = nextPrefix()
    const { emitter, seen } = recordingEmitter()
    const cache = new TieredCache({ l2: durableCache(prefix), events: emitter })
    tb.defer(() => cache.close())
    await cache.ready()
    await cache.getOrSet('k', async () => 'v1', { tags: ['t'] })
    const filler = tb.redis(master.url)
    const starved = await starveReplica(replica, (text) => filler.set(`${prefix}:filler`, text))
    await cache.invalidateTags(['t'])
    expect(cache.pendingInvalidations).toBe(1)
    const errors = seen.filter((e) => e.name === 'error').map((e) => e.payload as CacheEventMap['error'])
    expect(errors.at(-1)?.error).toBeInstanceOf(L2NotDurableError)
    // Owed an invalidation, L2 is skipped: the read loads.
    expect(await cache.getOrSet('k', async () => 'v2', { tags: ['t'] })).toBe('v2')
    const replayed = nextEvent(emitter, 'replay')
    starved.resume()
    expect(await replayed).toEqual({ count: 1 })
    expect(cache.pendingInvalidations).toBe(0)
  })

  it('resolve at once on a master without replicas: a failover has nothing to promote', async () => {
    const alone = await RedisServer.start()
    tb.defer(() => alone.stop())
    const cache = new RedisCache({
      redis: tb.redis(alone.url),
      prefix: nextPrefix(),
      timeoutMs: 1_000,
      durable: { timeoutMs: 60_000 },
    })
    await cache.ready()
    await expect(cache.invalidate(['t'])).resolves.toBeUndefined()
    await expect(cache.clear()).resolves.toBe(0)
  })

  it('reject bad options with a CacheOptionError naming them', () => {
    const redis = tb.redis(master.url)
    expect(() => new RedisCache({ redis, durable: { replicas: 0 } })).toThrow(
      expect.objectContaining({ option: 'durable.replicas' }),
    )
    expect(() => new RedisCache({ redis, durable: { timeoutMs: -1 } })).toThrow(
      expect.objectContaining({ option: 'durable.timeoutMs' }),
    )
    expect(() => new RedisCache({ redis, durable: { wait: 1 } as never })).toThrow(
      expect.objectContaining({ option: 'durable.wait' }),
    )
    expect(() => new RedisCache({ redis, durable: 'yes' as never })).toThrow(
      expect.objectContaining({ option: 'durable' }),
    )
  })
})
