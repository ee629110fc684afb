import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { untilL1Serves, withTieredCache } from '../contenders/tiered-cache.ts'
import { log } from '../harness.ts'
import { HOT_USER_ID, setup } from '../setup.ts'

/**
 * Profiles one tieredCache path with the V8 sampling profiler, around the hot loop only (setup,
 * seeding and warm-up are not in the profile):
 *   npx tsx bench/profile/run.ts l1|l2|miss [seconds] [out.cpuprofile]
 *   npx tsx bench/profile/summary.ts out.cpuprofile
 * SQLite only, so no PostgreSQL driver work in the profile.
 */
const mode = process.argv[2] ?? 'l1'
const seconds = Number(process.argv[3] ?? 5)
const out = process.argv[4] ?? `.tmp/tieredcache-${mode}.cpuprofile`
const bench = await setup(['sqlite'])
try {
  const base = bench.client('sqlite')
  let seq = 0
  const { prisma } = withTieredCache(base, await bench.redis('bench-profile'), {
    prefix: `${bench.prefix}_prof`,
    ...(mode === 'l2' ? { l1: false as const } : {}),
    ...(mode === 'miss' ? { context: () => `m${seq++}` } : {}),
  })
  const read = () => prisma.user.findUnique({ where: { id: HOT_USER_ID }, cache: true })
  if (mode === 'l1') await untilL1Serves(prisma, read)
  const loop = async (ms: number) => {
    const end = Date.now() + ms
    let ops = 0
    const start = process.hrtime.bigint()
    while (Date.now() < end) {
      for (let i = 0; i < 20; i++) await read()
      ops += 20
    }
    return { ops, us: Number(process.hrtime.bigint() - start) / 1000 / ops }
  }
  await loop(1_000)
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 100 })
  await session.post('Profiler.start')
  const { ops, us } = await loop(seconds * 1000)
  const { profile } = await session.post('Profiler.stop')
  session.disconnect()
  writeFileSync(out, JSON.stringify(profile))
  log(`${mode}: ${ops} reads, ${us.toFixed(2)} µs/read (profiled); wrote ${out}`)
  await prisma.$cache.close()
} finally {
  await bench.close()
}
