import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cachedInstance } from '../../support/cached.ts'
import { Testbed } from '../../support/factory.ts'
import {
  expectNothingStale,
  invalidateThenKillMaster,
  loadThroughFault,
  starveReplica,
} from '../../support/failover.ts'
import { RedisSentinelGroup } from '../../support/redis-sentinel.ts'

/**
 * A Sentinel-managed Redis (1 master, 1 replica, 3 Sentinels on loopback, started and stopped by
 * this file): the cache works through an ioredis Sentinel connection, a master failover under
 * load from two instances fails no query and leaves nothing stale, and with `durable` an
 * invalidation the replica had not received when the master died is not lost.
 */
const bed = new Testbed()
let group: RedisSentinelGroup

beforeAll(async () => {
  group = await RedisSentinelGroup.start()
}, 60_000)
afterAll(async () => {
  await bed.cleanup()
  await group?.stop()
})

async function instances(prefix: string) {
  const connect = () => {
    const redis = group.client()
    bed.defer(() => redis.disconnect())
    return redis
  }
  const a = await cachedInstance(bed, 'postgres', { auto: true, redis: connect(), prefix })
  const b = await cachedInstance(bed, 'postgres', { auto: true, redis: connect(), prefix })
  return [a, b] as const
}

describe('through Redis Sentinel', () => {
  it("serves L2 hits and carries one instance's invalidation to the other", async () => {
    const [a, b] = await instances('basic')
    const doc = await a.base.document.create({ data: { title: 'sentinel' } })
    await a.prisma.document.findUnique({ where: { id: doc.id } })
    await a.prisma.$cache.settled()
    const before = b.counter.count
    expect(await b.prisma.document.findUnique({ where: { id: doc.id } })).toEqual(doc)
    expect(b.counter.count).toBe(before)
    expect(b.prisma.$cache.stats().l2.hits).toBe(1)

    const heard = b.nextBusMessage()
    const updated = await a.prisma.document.update({ where: { id: doc.id }, data: { title: 'moved' } })
    await heard
    expect(await b.prisma.document.findUnique({ where: { id: doc.id } })).toEqual(updated)
  })

  it('keeps answering while the master is killed and a replica promoted, and serves nothing stale after', async () => {
    const [a, b] = await instances('failover')
    const ids: string[] = []
    for (let i = 0; i < 40; i++) ids.push((await a.base.document.create({ data: { title: `d${i}` } })).id)
    let failover = { killed: 0, promoted: 0 }
    const tally = await loadThroughFault([a, b], ids, async () => {
      failover = await group.crashMaster()
    })
    console.log(
      `[sentinel fault] killed master :${failover.killed}, promoted :${failover.promoted}; ` +
        `${tally.reads} reads, ${tally.writes} writes (${tally.afterFault} after the kill), ${tally.errors.length} failed; ` +
        `L2 errors A ${a.prisma.$cache.stats().l2.errors}, B ${b.prisma.$cache.stats().l2.errors}`,
    )
    expect(tally.errors).toEqual([])
    expect(failover.promoted).not.toBe(failover.killed)
    const compared = await expectNothingStale([a, b], ids, (actual, expected) => expect(actual).toEqual(expected))
    expect(compared).toBe(160)
  })
})

/** A write's invalidation, then a kill of the master (see invalidateThenKillMaster). */
async function killRightAfterAWrite(durable: boolean) {
  if (!group.replica) await group.rejoin()
  const filler = new Redis({ port: group.masterPort, host: '127.0.0.1', maxRetriesPerRequest: 0 })
  filler.on('error', () => {})
  bed.defer(() => filler.disconnect())
  return invalidateThenKillMaster({
    label: 'sentinel',
    durable,
    prefix: `${bed.prefix}-durable-${durable}`,
    connect: () => {
      const redis = group.client()
      bed.defer(() => redis.disconnect())
      return redis
    },
    defer: (fn) => bed.defer(fn),
    replicated: async (_, redis) => {
      if ((await redis.call('WAIT', 1, 5_000)) !== 1) throw new Error('the replica did not acknowledge')
    },
    starve: (key) => starveReplica(group.replica!, (text) => filler.set(key, text)),
    failover: async (resume) => {
      const { killed, promoted } = await group.crashMaster({ afterKill: resume })
      return `master :${killed} killed, :${promoted} promoted`
    },
  })
}

describe('durable invalidations through Sentinel', () => {
  it('without durable: the master dies before the lagging replica has the invalidation, and it is lost', async () => {
    const { reads, owed } = await killRightAfterAWrite(false)
    expect(owed).toBe(0)
    // The caveat durable closes: the promoted replica serves the entry the write dropped.
    expect(reads.b).toBe('v1')
  })

  it('with durable: the unacknowledged invalidation stays queued, is replayed on the promoted replica, nothing stale', async () => {
    const { reads, owed, notDurable } = await killRightAfterAWrite(true)
    expect(owed).toBe(1)
    expect(notDurable).toBeGreaterThan(0)
    expect(reads).toEqual({ a: 'v2', b: 'v2' })
  })
})
