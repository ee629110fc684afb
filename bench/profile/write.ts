import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { withTieredCache } from '../contenders/tiered-cache.ts'
import { log } from '../harness.ts'
import { HOT_USER_ID, setup } from '../setup.ts'

/**
 * Profiles a write through the extension (`user.update` by id on SQLite), around the hot loop only,
 * and times the same write without the cache beside it:
 *   npx tsx bench/profile/write.ts [seconds] [out.cpuprofile]
 *   npx tsx bench/profile/summary.ts out.cpuprofile
 */
const seconds = Number(process.argv[2] ?? 4)
const out = process.argv[3] ?? '.tmp/tieredcache-write.cpuprofile'
const bench = await setup(['sqlite'])
try {
  const base = bench.client('sqlite')
  const { prisma } = withTieredCache(base, await bench.redis('bench-profile-write'), { prefix: `${bench.prefix}_pw` })
  await prisma.$cache.ready()
  const write = (client: typeof base, i: number) =>
    client.user.update({ where: { id: HOT_USER_ID }, data: { name: `n${i % 7}` } })
  const loop = async (client: typeof base, ms: number) => {
    const end = Date.now() + ms
    let ops = 0
    const start = process.hrtime.bigint()
    while (Date.now() < end) for (let i = 0; i < 20; i++) await write(client, ops++)
    return Number(process.hrtime.bigint() - start) / 1000 / ops
  }
  const cached = prisma as unknown as typeof base
  await loop(cached, 500)
  await loop(base, 500)
  log(
    `update: ${(await loop(base, 1_000)).toFixed(1)} µs without the cache, ${(await loop(cached, 1_000)).toFixed(1)} µs through it`,
  )
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 100 })
  await session.post('Profiler.start')
  const us = await loop(cached, seconds * 1000)
  const { profile } = await session.post('Profiler.stop')
  session.disconnect()
  writeFileSync(out, JSON.stringify(profile))
  log(`update through the cache: ${us.toFixed(1)} µs/write (profiled); wrote ${out}`)
  await prisma.$cache.close()
} finally {
  await bench.close()
}
