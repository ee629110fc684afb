import { afterAll, describe, expect, it } from 'vitest'
import { L2TimeoutError, L2UnavailableError } from '../../../src/core/errors.ts'
import type { CacheEventMap } from '../../../src/core/events.ts'
import type { TieredCacheOptions } from '../../../src/prisma/options.ts'
import { cachedInstance, type Instance } from '../../support/cached.ts'
import { type AnyPrisma, Testbed } from '../../support/factory.ts'
import { databaseUnderCache } from '../../support/gate.ts'
import { RedisServer } from '../../support/redis-server.ts'
import { disagreements, runWorkload, seedDataset } from '../../support/workload.ts'
import { nextEvent } from '../../unit/cache/support.ts'

const bed = new Testbed()
afterAll(() => bed.cleanup())
let count = 0

/** A private redis-server and instances on it, each with its own connection, under one prefix. */
async function onPrivateRedis() {
  const server = await RedisServer.start()
  bed.defer(() => server.stop())
  const prefix = `${bed.prefix}_${count++}`
  const instance = (options: TieredCacheOptions = {}, setup: Parameters<typeof cachedInstance>[3] = {}) =>
    cachedInstance(bed, 'postgres', { prefix, redis: bed.redis(server.url), ...options }, setup)
  return { server, instance }
}

const version = (instance: Instance, id: string) =>
  instance.prisma.document.findUnique({ where: { id }, cache: true }).then((d) => d?.version)

/** Resolves when `test` holds after some workload operation; fails loudly past `ms` (there is no event for progress). */
function progress() {
  const waiters = new Set<{ test: () => boolean; resolve: () => void }>()
  return {
    onOperation() {
      for (const waiter of waiters)
        if (waiter.test()) {
          waiters.delete(waiter)
          waiter.resolve()
        }
    },
    until(test: () => boolean, what: string, ms = 15_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no progress within ${ms} ms: ${what}`)), ms)
        waiters.add({
          test,
          resolve: () => {
            clearTimeout(timer)
            resolve()
          },
        })
      })
    },
  }
}

/** Resolves once `from` has applied a message `to` sent after all its earlier ones. */
async function drained(to: Instance, from: Instance, marker: string): Promise<void> {
  const heard = nextEvent<CacheEventMap['bus']>(
    from.events,
    'bus',
    (m) => m.tags?.some((t) => t.endsWith(marker)) ?? false,
  )
  await to.prisma.$cache.invalidate({ tags: [marker] })
  await heard
}

describe('Redis killed with -9 under load, then restarted on the same port', () => {
  it('fails no query, reconnects the bus by itself, replays the lost invalidations, and leaves no stale read', async () => {
    const { server, instance } = await onPrivateRedis()
    const a = await instance()
    const b = await instance()
    const data = await seedDataset(a.base, `${bed.prefix}-kill`)
    const seen = new Map<string, number>()
    for (const [name, { events }] of [
      ['A', a],
      ['B', b],
    ] as const)
      for (const event of ['error', 'breaker:open', 'breaker:close', 'bus:down', 'bus:up', 'replay'])
        events.on(event, () => seen.set(`${name} ${event}`, (seen.get(`${name} ${event}`) ?? 0) + 1))
    const replayed: number[] = []
    for (const { events } of [a, b]) events.on('replay', ({ count }: CacheEventMap['replay']) => replayed.push(count))

    let running = true
    const watch = progress()
    const workload = runWorkload([a, b], data, {
      workers: 4,
      seed: 7,
      keepGoing: () => running,
      onOperation: watch.onOperation,
    })
    const [ta, tb] = workload.tallies as [(typeof workload.tallies)[0], (typeof workload.tallies)[0]]
    const operations = () => ta.reads + ta.writes + tb.reads + tb.writes

    let atCrash = 0
    let duringOutage = 0
    let atRecovery = 0
    try {
      await watch.until(() => operations() >= 300, 'load before the crash')
      const down = [nextEvent(a.events, 'bus:down'), nextEvent(b.events, 'bus:down')]
      const opened = [nextEvent(a.events, 'breaker:open'), nextEvent(b.events, 'breaker:open')]
      await server.crash()
      await Promise.all(down)
      const [writesA, writesB] = [ta.writes, tb.writes]
      atCrash = operations()
      // Writes finished while Redis is dead: their invalidations failed and wait in the queue.
      await watch.until(() => ta.writes >= writesA + 10 && tb.writes >= writesB + 10, 'writes during the outage')
      await Promise.all(opened)
      duringOutage = operations() - atCrash

      const recovered = [a, b].flatMap(({ events }) => [
        nextEvent(events, 'bus:up'),
        nextEvent(events, 'replay'),
        nextEvent(events, 'breaker:close'),
      ])
      await server.start()
      await Promise.all(recovered)
      atRecovery = operations()
      await watch.until(() => operations() >= atRecovery + 300, 'load after recovery')
    } finally {
      // Also when a deadline above fails: a workload left running would outlive the test.
      running = false
      await workload.done
    }

    await drained(a, b, 'drain-a')
    await drained(b, a, 'drain-b')
    const disagreeing = await disagreements([a, b], a.base as AnyPrisma, data)
    console.log(
      [
        `kill -9: ${atCrash} operations before the crash, ${duringOutage} while Redis was dead, ` +
          `${operations() - atRecovery} after it came back; failed queries ${ta.failures.length + tb.failures.length}`,
        `  invalidations replayed: ${JSON.stringify(replayed)}; events: ${JSON.stringify(Object.fromEntries([...seen].sort()))}`,
      ].join('\n'),
    )
    expect(ta.failures).toEqual([])
    expect(tb.failures).toEqual([])
    expect(ta.stale).toEqual([])
    expect(tb.stale).toEqual([])
    expect(disagreeing).toEqual([])
  })

  it('stops serving an L1 entry filled before the crash once the bus is back', async () => {
    const { server, instance } = await onPrivateRedis()
    const a = await instance()
    const b = await instance()
    const { id } = await a.base.document.create({ data: { title: 'v1' } })
    expect(await version(a, id)).toBe(1)

    const down = nextEvent(a.events, 'bus:down')
    await server.crash()
    await down
    // B's invalidation cannot reach A: while Redis is down A answers from its L1 (DESIGN.md 5).
    await b.prisma.document.update({ where: { id }, data: { version: { increment: 1 } } })
    expect(await version(a, id)).toBe(1)

    const up = nextEvent(a.events, 'bus:up')
    await server.start()
    await up
    expect(await version(a, id)).toBe(2)
  })

  it('refuses to store a value loaded across the restart, even when the write it missed was never announced', async () => {
    const { server, instance } = await onPrivateRedis()
    const database = databaseUnderCache()
    const a = await instance({ l1: false }, { under: database.under })
    const { id } = await a.base.document.create({ data: { title: 'v1' } })

    const held = database.hold()
    const slow = version(a, id)
    await held.reached // A captured the tag versions and read version 1, before the crash.
    await server.crash()
    // A write whose invalidation is lost (its instance died with its queue): only the epoch is left to tell.
    await a.base.document.update({ where: { id }, data: { version: { increment: 1 } } })
    await server.start()
    await a.prisma.$cache.ready()
    held.release()
    expect(await slow).toBe(1)

    const c = await instance()
    expect(await version(c, id)).toBe(2)
    expect(await version(a, id)).toBe(2)
  })
})

describe('Redis trouble and required.l2', () => {
  it('fails a query with the Redis error when required.l2, while an instance without it answers', async () => {
    const { server, instance } = await onPrivateRedis()
    const strict = await instance({ required: { l2: true } })
    const lenient = await instance()
    const { id } = await strict.base.document.create({ data: { title: 'v1' } })
    expect(await version(strict, id)).toBe(1)
    await server.stop()

    const other = await strict.base.document.create({ data: { title: 'never cached' } })
    await expect(version(strict, other.id)).rejects.toBeInstanceOf(L2UnavailableError)
    expect(await version(lenient, other.id)).toBe(1)
    // The write is in the database; its invalidation could not be sent, and the caller is told.
    await expect(
      strict.prisma.document.update({ where: { id }, data: { version: { increment: 1 } } }),
    ).rejects.toMatchObject({ code: 'E_L2_UNAVAILABLE' })
    await lenient.prisma.document.update({ where: { id }, data: { version: { increment: 1 } } })
  })

  it.each([
    ['without', false],
    ['with', true],
  ])(
    'answers reads and writes while Redis stops answering past l2.timeoutMs, then delivers the late invalidation by itself, %s the stampede lock',
    async (_, lock) => {
      const { server, instance } = await onPrivateRedis()
      const a = await instance({ l2: { timeoutMs: 100 }, stampede: { lock } })
      const { id } = await a.base.document.create({ data: { title: 'v1' } })
      const timedOut = nextEvent<CacheEventMap['error']>(a.events, 'error', (e) => e.error instanceof L2TimeoutError)
      const replayed = nextEvent<CacheEventMap['replay']>(a.events, 'replay')

      await bed.redis(server.url).client('PAUSE', 1_000, 'ALL')
      expect(await version(a, id)).toBe(1)
      await timedOut
      await a.prisma.document.update({ where: { id }, data: { version: { increment: 1 } } })
      expect(await version(a, id)).toBe(2)

      // Once Redis answers again the invalidation that timed out is delivered, without waiting for
      // a caller to touch Redis (this instance answers from L1 meanwhile).
      expect((await replayed).count).toBeGreaterThanOrEqual(1)
      expect(await version(a, id)).toBe(2)
    },
  )
})
