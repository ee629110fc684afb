import { EventEmitter } from 'node:events'
import { afterAll, describe, expect, it, vi } from 'vitest'
import { KeyPattern } from '../../../src/cache/keys.ts'
import { RedisCache } from '../../../src/cache/redis/redis-cache.ts'
import { TieredCache } from '../../../src/cache/tiered/tiered-cache.ts'
import type { BusEvent } from '../../../src/core/events.ts'
import { Testbed } from '../../support/factory.ts'
import { nextEvent } from '../../unit/cache/support.ts'

const tb = new Testbed()
afterAll(() => tb.cleanup())
const admin = tb.redis()
let count = 0
const nextPrefix = () => `${tb.prefix}_${count++}`

async function instance(prefix: string) {
  const events = new EventEmitter()
  const l2 = new RedisCache({ redis: tb.redis(), prefix, timeoutMs: 5_000 })
  const cache = new TieredCache({ l2, events })
  tb.defer(() => cache.close())
  await cache.ready()
  return { cache, l2, events }
}

describe('the invalidation bus', () => {
  it("removes an entry from another instance's L1 when one instance invalidates its tag", async () => {
    const prefix = nextPrefix()
    const a = await instance(prefix)
    const b = await instance(prefix)
    await a.cache.getOrSet('k', async () => 'v1', { tags: ['t'] })
    await a.cache.settled()
    expect(await b.cache.getOrSet('k', async () => 'unused', { tags: ['t'] })).toBe('v1')
    expect(await b.cache.getOrSet('k', async () => 'unused', { tags: ['t'] })).toBe('v1')
    expect(b.cache.stats().l1.hits).toBe(1)

    const received = nextEvent<BusEvent>(b.events, 'bus')
    await a.cache.invalidateTags(['t'])
    expect(await received).toEqual({ from: a.l2.instanceId, tags: ['t'], keys: [] })
    expect(b.cache.stats().l1.entries).toBe(0)
    const loader = vi.fn(async () => 'v2')
    expect(await b.cache.getOrSet('k', loader, { tags: ['t'] })).toBe('v2')
    expect(loader).toHaveBeenCalledTimes(1)
  })

  it("carries key deletions, patterns and clears to other instances' L1", async () => {
    const prefix = nextPrefix()
    const a = await instance(prefix)
    const b = await instance(prefix)
    for (const key of ['ptc:User:id:1', 'ptc:User:id:10', 'ptc:Post:id:1', 'plain']) {
      await a.cache.set(key, key)
      await b.cache.getOrSet(key, async () => 'unused')
    }
    expect(b.cache.stats().l1.entries).toBe(4)

    let received = nextEvent<BusEvent>(b.events, 'bus')
    await a.cache.delete('plain')
    await received
    expect(b.cache.stats().l1.entries).toBe(3)

    received = nextEvent<BusEvent>(b.events, 'bus')
    await a.cache.invalidatePattern(KeyPattern.record('User', 1))
    expect(await received).toMatchObject({ pattern: ['ptc:User:id:1', 'ptc:User:id:1:*'] })
    expect(await b.cache.getOrSet('ptc:User:id:10', async () => 'unused')).toBe('ptc:User:id:10')
    expect(b.cache.stats().l1.entries).toBe(2)

    received = nextEvent<BusEvent>(b.events, 'bus')
    await a.cache.clear()
    expect(await received).toMatchObject({ clear: true })
    expect(b.cache.stats().l1.entries).toBe(0)
  })

  it('stops trusting L1 when its connection drops and empties L1 before trusting it again', async () => {
    const { cache, l2, events } = await instance(nextPrefix())
    await cache.getOrSet('k', async () => 'v', { tags: ['t'] })
    expect(cache.stats().l1.entries).toBe(1)

    const clients = await admin.client('LIST')
    const line = String(clients)
      .split('\n')
      .find((l) => l.includes(` name=${l2.prefix}:bus:${l2.instanceId} `))
    const id = /\bid=(\d+)/.exec(line ?? '')?.[1]
    expect(id).toBeDefined()

    const down = nextEvent(events, 'bus:down')
    const up = nextEvent(events, 'bus:up')
    await admin.client('KILL', 'ID', id!)
    await down
    expect(cache.l1Trusted).toBe(false)
    // Redis itself is fine, so reads skip L1 and go to L2.
    expect(await cache.getOrSet('k', async () => 'unused', { tags: ['t'] })).toBe('v')
    expect(cache.stats()).toMatchObject({ l1: { hits: 0 }, l2: { hits: 1 } })

    await up
    expect(cache.l1Trusted).toBe(true)
    expect(cache.stats().l1.entries).toBe(0)
  })
})
