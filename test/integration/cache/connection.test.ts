import { createRequire } from 'node:module'
import { type Redis, Redis as ThisRedis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { connectRedis, endConnection } from '../../../src/cache/redis/connection.ts'
import { RedisCache } from '../../../src/cache/redis/redis-cache.ts'
import { TieredCache } from '../../../src/cache/tiered/tiered-cache.ts'
import type { BusEvent } from '../../../src/core/events.ts'
import { REDIS_URL } from '../../support/env.ts'
import { Testbed } from '../../support/factory.ts'
import { nextEvent, recordingEmitter } from '../../unit/cache/support.ts'

const tb = new Testbed()
afterAll(() => tb.cleanup())
let count = 0
const nextPrefix = () => `${tb.prefix}_${count++}`

/** A second, separate copy of ioredis, as an application that bundles its own would have. */
function otherIoredis(): { Redis: new (url: string) => Redis } {
  const require = createRequire(import.meta.url)
  const cached = Object.keys(require.cache).filter((id) => id.includes('/node_modules/ioredis/'))
  const saved = cached.map((id) => [id, require.cache[id]] as const)
  for (const id of cached) delete require.cache[id]
  try {
    return require('ioredis')
  } finally {
    for (const [id, module] of saved) require.cache[id] = module
  }
}

describe('connections', () => {
  it('uses an instance of another copy of ioredis, bus included', async () => {
    const { Redis: OtherRedis } = otherIoredis()
    const connect = () => {
      const redis = new OtherRedis(REDIS_URL)
      redis.on('error', () => {})
      tb.defer(() => redis.disconnect())
      return redis
    }
    const first = connect()
    expect(first).not.toBeInstanceOf(ThisRedis)
    const prefix = nextPrefix()
    const { emitter, seen } = recordingEmitter()
    const a = new TieredCache({ l2: new RedisCache({ redis: first, prefix }) })
    const b = new TieredCache({ l2: new RedisCache({ redis: connect(), prefix }), events: emitter })
    tb.defer(() => Promise.all([a.close(), b.close()]))
    await Promise.all([a.ready(), b.ready()])
    expect(await a.getOrSet('k', async () => 'v', { tags: ['t'] })).toBe('v')
    await a.settled()
    expect(await b.getOrSet('k', async () => 'unused', { tags: ['t'] })).toBe('v')
    const received = nextEvent<BusEvent>(emitter, 'bus')
    await a.invalidateTags(['t'])
    expect(await received).toMatchObject({ tags: ['t'] })
    expect(seen.filter((event) => event.name === 'error')).toEqual([])
    expect(await b.getOrSet('k', async () => 'new', { tags: ['t'] })).toBe('new')
  })

  it('opens a connection to a URL with connectRedis, commands not retried', async () => {
    const redis = connectRedis(REDIS_URL)
    tb.defer(() => redis.disconnect())
    expect(await redis.ping()).toBe('PONG')
    expect(redis.options.maxRetriesPerRequest).toBe(1)
    await endConnection(redis)
    expect(redis.status).toBe('end')
  })

  it('ends the connection it opened for a URL, and leaves an instance it was given open', async () => {
    const owned = new RedisCache({ redis: REDIS_URL, prefix: nextPrefix() })
    const given = tb.redis()
    const borrowed = new RedisCache({ redis: given, prefix: nextPrefix() })
    await Promise.all([owned.ready(), borrowed.ready()])
    await owned.close()
    await borrowed.close()
    expect(owned.status).toBe('end')
    expect(await given.ping()).toBe('PONG')
  })
})
