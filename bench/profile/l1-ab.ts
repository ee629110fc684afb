import { isAbsolute, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { tieredCache as fromSource } from '../../src/prisma/extension.ts'
import type { TieredPrisma } from '../contenders/tiered-cache.ts'
import { untilL1Serves } from '../contenders/tiered-cache.ts'
import { type Contender, interleave, log } from '../harness.ts'
import { HOT_USER_ID, setup } from '../setup.ts'

/**
 * The L1 hit of two or more builds of the package, in one process and the same interleaved rounds,
 * so that a change of a few tens of nanoseconds shows through the noise of a loaded machine:
 *   npx tsx bench/profile/l1-ab.ts .tmp/dist-before .tmp/dist-after [rounds]
 * (each a `tsc -p tsconfig.build.json --outDir <dir>` of a version of src/, inside the project).
 * SQLite client, no Redis: the hit path is the same with it.
 */
const dirs = process.argv.slice(2).filter((a) => !/^\d+$/.test(a))
const rounds = Number(process.argv.slice(2).find((a) => /^\d+$/.test(a)) ?? 60)
if (dirs.length < 2) throw new Error('usage: l1-ab.ts <dist> <dist> [...] [rounds]')
const bench = await setup(['sqlite'])
try {
  const base = bench.client('sqlite')
  const id = HOT_USER_ID
  const contenders: Contender[] = []
  const clients: TieredPrisma[] = []
  for (const dir of dirs) {
    const url = pathToFileURL(join(isAbsolute(dir) ? dir : resolve(dir), 'index.js')).href
    const { tieredCache } = (await import(url)) as { tieredCache: typeof fromSource }
    const prisma = base.$extends(tieredCache({ ttl: 3600, l1: { max: 50_000, ttl: 3600 } })) as unknown as TieredPrisma
    const read = () => prisma.user.findUnique({ where: { id }, cache: true })
    if (!(await untilL1Serves(prisma, read))) log(`warning: ${dir} never served from L1`)
    clients.push(prisma)
    contenders.push({ name: dir, run: read })
  }
  for (const s of await interleave(contenders, { rounds })) {
    console.log(
      `${s.name.padEnd(30)} median ${s.median.toFixed(3)} µs  min ${s.min.toFixed(3)}  p25-p75 ${s.p25.toFixed(2)}-${s.p75.toFixed(2)}`,
    )
  }
  for (const prisma of clients) await prisma.$cache.close()
} finally {
  await bench.close()
}
