import type { Redis } from 'ioredis'
import { afterAll, describe, expect, it } from 'vitest'
import { RedisCache } from '../../../src/cache/redis/redis-cache.ts'
import { Testbed } from '../../support/factory.ts'
import { RedisServer } from '../../support/redis-server.ts'

/**
 * Redis used as a cache evicts any key under `maxmemory`, tag versions included. A private
 * redis-server at a small `maxmemory` is filled until it evicts; then no entry invalidated before
 * is served, whichever of its keys went: a missing version is never "never invalidated".
 */
const tb = new Testbed()
afterAll(() => tb.cleanup())

const ENTRIES = 3_000
const JUNK = 'x'.repeat(1_024)

/** Evicted keys since the server started (INFO stats). */
async function evicted(redis: Redis): Promise<number> {
  return Number(/^evicted_keys:(\d+)/m.exec(await redis.info('stats'))?.[1] ?? 'NaN')
}

describe.each(['allkeys-lfu', 'volatile-lru'])('under maxmemory-policy %s', (policy) => {
  it('serves no invalidated entry after evicting tag versions, and only costs misses', async () => {
    const server = await RedisServer.start({ args: ['--maxmemory', '4mb', '--maxmemory-policy', policy] })
    tb.defer(() => server.stop())
    const admin = tb.redis(server.url)
    const cache = new RedisCache({ redis: tb.redis(server.url), prefix: 'ev', timeoutMs: 10_000 })
    await cache.ready()
    const key = (i: number) => `k${i}`
    const tag = (i: number) => `t${i}`
    // Even entries are invalidated (each by its own tag); odd ones stay valid.
    for (let i = 0; i < ENTRIES; i += 500)
      await Promise.all(
        Array.from({ length: 500 }, (_, j) => cache.set(key(i + j), i + j, { ttl: 3_600, tags: [tag(i + j)] })),
      )
    // Each entry read once (its entry and version keys are used alike, as they are in service).
    for (let i = 0; i < ENTRIES; i += 500)
      await Promise.all(Array.from({ length: 500 }, (_, j) => cache.get(key(i + j))))
    const invalidated = Array.from({ length: ENTRIES / 2 }, (_, i) => tag(2 * i))
    for (let i = 0; i < invalidated.length; i += 500) await cache.invalidate(invalidated.slice(i, i + 500))

    // Fill with keys of someone else, each read once too (with a TTL, so volatile-lru may evict
    // them too), until Redis has evicted more keys than the cache wrote.
    let filled = 0
    while ((await evicted(admin)) < 2 * ENTRIES) {
      const batch = admin.pipeline()
      for (let j = 0; j < 200; j++) batch.set(`junk:${filled + j}`, JUNK, 'EX', 3_600).get(`junk:${filled + j}`)
      filled += 200
      await batch.exec()
    }

    const survivors = { invalidated: 0, withoutVersion: 0, valid: 0, validHits: 0 }
    for (let i = 0; i < ENTRIES; i++) {
      const [entryLeft, versionLeft] = await Promise.all([
        admin.exists(cache.layout.entry(key(i))),
        admin.exists(cache.layout.version(0, tag(i))),
      ])
      if (entryLeft === 0) continue
      const read = await cache.get(key(i))
      if (i % 2 === 0) {
        survivors.invalidated++
        if (versionLeft === 0) survivors.withoutVersion++
        expect(read.hit, `${key(i)} was invalidated`).toBe(false)
      } else {
        survivors.valid++
        if (read.hit) survivors.validHits++
        // Losing a version costs a miss; keeping it keeps the hit.
        expect(read.hit).toBe(versionLeft === 1)
      }
    }
    console.log(
      `[eviction ${policy}] maxmemory 4mb: ${await evicted(admin)} keys evicted (${filled} junk keys written); ` +
        `of ${ENTRIES / 2} invalidated entries ${survivors.invalidated} survived, ${survivors.withoutVersion} ` +
        `of them without their tag version: 0 served; of ${ENTRIES / 2} valid entries ${survivors.valid} survived, ` +
        `${survivors.validHits} still hits`,
    )
    expect(await evicted(admin)).toBeGreaterThan(0)
    // The case the old rule got wrong happened: an invalidated entry outlived its tag's version.
    expect(survivors.withoutVersion).toBeGreaterThan(0)
  })
})
