import { performance } from 'node:perf_hooks'
import { setImmediate as yieldToIo } from 'node:timers/promises'
import { afterAll, describe, expect, it } from 'vitest'
import type { BusEvent, CacheEventMap } from '../../../src/core/events.ts'
import { cachedInstance, type Instance } from '../../support/cached.ts'
import { type AnyPrisma, Testbed } from '../../support/factory.ts'
import { RedisServer } from '../../support/redis-server.ts'
import { disagreements, percentiles, runWorkload, seedDataset } from '../../support/workload.ts'
import { nextEvent } from '../../unit/cache/support.ts'

const bed = new Testbed()
afterAll(() => bed.cleanup())

const LOAD_MS = 3_000
const WORKERS_PER_INSTANCE = 4
/** A loud bound, not a timing assertion: past it the other instance never saw the write. */
const VISIBLE_WITHIN_MS = 5_000

/** Resolves once `from` has received a message that `to` sent after every earlier one: the bus is drained. */
async function drained(to: Instance, from: Instance, marker: string): Promise<void> {
  const heard = nextEvent<BusEvent>(from.events, 'bus', (m) => m.tags?.some((t) => t.endsWith(marker)) ?? false)
  await to.prisma.$cache.invalidate({ tags: [marker] })
  await heard
}

/**
 * Time from a write resolving on `writer` until a read on `reader` returns it: the window during
 * which the other instance may still serve the old value (its L1 waits for the bus message), plus
 * the time that read takes. `oldAnswers`: the reads in between that returned the old version.
 */
async function stalenessWindow(writer: Instance, reader: Instance, id: string) {
  const written = await writer.prisma.document.update({ where: { id }, data: { version: { increment: 1 } } })
  const resolved = performance.now()
  for (let oldAnswers = 0; ; oldAnswers++) {
    const seen = await reader.prisma.document.findUnique({ where: { id }, cache: true })
    if ((seen?.version ?? 0) >= written.version) return { ms: performance.now() - resolved, oldAnswers }
    if (performance.now() - resolved > VISIBLE_WITHIN_MS)
      throw new Error(`the other instance still served version ${seen?.version} of ${written.version}`)
    await yieldToIo()
  }
}

/** Bus delivery delay: from an invalidation starting on one instance to its message applied on the other. */
function busDelays(instances: readonly Instance[]) {
  const sent = new Map<string, number[]>()
  const delays: number[] = []
  for (const { events } of instances) {
    events.on('invalidate', ({ tags }: CacheEventMap['invalidate']) => {
      const key = JSON.stringify(tags)
      sent.set(key, [...(sent.get(key) ?? []), performance.now()])
    })
    events.on('bus', ({ tags }: BusEvent) => {
      const start = sent.get(JSON.stringify(tags))?.shift()
      if (start !== undefined) delays.push(performance.now() - start)
    })
  }
  return delays
}

describe.each([false, true])('two instances under concurrent reads and writes (stampede lock %s)', (lock) => {
  it('never serve the writer older data after its write, agree with the database once the load stops, and measure the cross-instance window', async () => {
    const server = await RedisServer.start()
    bed.defer(() => server.stop())
    const options = { prefix: `${bed.prefix}_${lock ? 'locked' : 'plain'}`, stampede: { lock } }
    const a = await cachedInstance(bed, 'postgres', { ...options, redis: bed.redis(server.url) })
    const b = await cachedInstance(bed, 'postgres', { ...options, redis: bed.redis(server.url) })
    const data = await seedDataset(a.base, `${bed.prefix}-${lock}`)
    const delays = busDelays([a, b])
    const errors: unknown[] = []
    for (const { events } of [a, b]) events.on('error', ({ error }: CacheEventMap['error']) => errors.push(error))

    const deadline = performance.now() + LOAD_MS
    const workload = runWorkload([a, b], data, {
      workers: WORKERS_PER_INSTANCE,
      seed: lock ? 2 : 1,
      keepGoing: () => performance.now() < deadline,
    })
    // Meanwhile, one probe writes a record on one instance and reads it on the other until it shows.
    const windows: number[] = []
    let oldAnswers = 0
    for (let i = 0; performance.now() < deadline; i++) {
      const [writer, reader] = i % 2 === 0 ? [a, b] : [b, a]
      const window = await stalenessWindow(writer, reader, data.documents[i % data.documents.length]!)
      windows.push(window.ms)
      oldAnswers += window.oldAnswers
    }
    await workload.done

    await drained(a, b, 'drain-a')
    await drained(b, a, 'drain-b')
    const disagreeing = await disagreements([a, b], a.base as AnyPrisma, data)

    const [ta, tb] = workload.tallies
    console.log(
      [
        `coherence, stampede lock ${lock}, ${LOAD_MS} ms, ${WORKERS_PER_INSTANCE} workers per instance:`,
        `  A: ${ta!.reads} reads, ${ta!.writes} writes; B: ${tb!.reads} reads, ${tb!.writes} writes; database queries A ${a.counter.count}, B ${b.counter.count}`,
        `  cache A ${JSON.stringify(pick(a))}, B ${JSON.stringify(pick(b))}; Redis errors (failed open) ${errors.length}`,
        `  staleness window (write resolved on one instance -> the other reads it), ms: ${JSON.stringify(percentiles(windows))}`,
        `    reads on the other instance that still returned the old version: ${oldAnswers} (over ${windows.length} writes)`,
        `  bus delivery delay (invalidation sent -> applied on the other instance), ms: ${JSON.stringify(percentiles(delays))}`,
      ].join('\n'),
    )
    expect(ta!.failures).toEqual([])
    expect(tb!.failures).toEqual([])
    expect(ta!.stale).toEqual([])
    expect(tb!.stale).toEqual([])
    expect(disagreeing).toEqual([])
    expect(ta!.writes + tb!.writes).toBeGreaterThan(0)
    expect(windows.length).toBeGreaterThan(0)
  })
})

function pick({ prisma }: Instance) {
  const { hits, misses, loads } = prisma.$cache.stats()
  return { hits, misses, loads }
}
