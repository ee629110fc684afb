import { createBentoCache } from '../contenders/bentocache.ts'
import { bareGet, floor } from '../contenders/floor.ts'
import { withPrismaExtensionRedis } from '../contenders/prisma-extension-redis.ts'
import { untilL1Serves, withTieredCache } from '../contenders/tiered-cache.ts'
import { type Contender, interleave, log, type Sample, scaled } from '../harness.ts'
import { type Bench, type Db, HOT_POST_ID, HOT_USER_ID } from '../setup.ts'

/** Row names the report and the targets refer to. */
export const ROW = {
  uncached: 'prisma findUnique (uncached)',
  l1: 'tieredCache L1 hit',
  l2: 'tieredCache L2 hit (l1: false)',
  miss: 'tieredCache miss (unique key)',
  perAuto: 'prisma-extension-redis hit (auto)',
  perExplicit: 'prisma-extension-redis hit (explicit key)',
  perJson: 'prisma-extension-redis hit (auto, default JSON: Date->string)',
  perMiss: 'prisma-extension-redis miss (unique key)',
  bentoL1: 'bentocache L1 hit (serialize: true)',
  bentoShared: 'bentocache L1 hit (serialize: false, shared refs)',
  bentoL2: 'bentocache L2 hit (L2-only store)',
  bentoMiss: 'bentocache miss (unique key)',
  floor: 'floor: key + Map.get + cloneValue',
  floorKey: 'floor part: key (canonical)',
  floorGet: 'floor part: Map.get',
  floorClone: 'floor part: cloneValue',
  bareGet: 'bare ioredis GET + superjson.parse',
} as const

export interface LatencyGroup {
  readonly db: Db
  readonly payload: 'User' | 'Post'
  readonly samples: readonly Sample[]
}

/**
 * Items 1–5 of the brief: single-row `findUnique` latency of every contender, on each database and
 * for two payloads (a User row; a Post row with Decimal, BigInt, Bytes, Json, DateTime). All
 * contenders of one group run interleaved in the same rounds.
 */
export async function latency(bench: Bench): Promise<LatencyGroup[]> {
  const groups: LatencyGroup[] = []
  const P = bench.prefix
  for (const db of bench.dbs) {
    const base = bench.client(db)
    const tc = withTieredCache(base, await bench.redis('bench-tc'), { prefix: `${P}_tc_${db}` })
    const tcL2 = withTieredCache(base, await bench.redis('bench-tc-l2'), { prefix: `${P}_tcl2_${db}`, l1: false })
    let missSeq = 0
    // A context that changes on every call gives every read its own key: a miss in both tiers.
    const tcMiss = withTieredCache(base, await bench.redis('bench-tc-miss'), {
      prefix: `${P}_tcmiss_${db}`,
      context: () => `m${missSeq++}`,
    })
    const per = withPrismaExtensionRedis(base, await bench.redis('bench-per'), `${P}_per_${db}`)
    const perJson = withPrismaExtensionRedis(base, await bench.redis('bench-per-json'), `${P}_perjson_${db}`, true)
    const bento = createBentoCache(await bench.redis('bench-bento'), await bench.redis('bench-bento-bus'), `${P}_${db}`)
    const bareRedis = await bench.redis('bench-bare')

    for (const payload of ['User', 'Post'] as const) {
      const id = payload === 'User' ? HOT_USER_ID : HOT_POST_ID
      const delegate = <T extends { user: unknown; post: unknown }>(client: T) =>
        (payload === 'User' ? client.user : client.post) as {
          findUnique(args: Record<string, unknown>): Promise<unknown>
        }
      const args = () => ({ where: { id } })
      const row = await delegate(base).findUnique(args())
      const tcRead = () => delegate(tc.prisma).findUnique({ ...args(), cache: true })
      if (!(await untilL1Serves(tc.prisma, tcRead))) log(`  warning: tieredCache L1 never served on ${db}`)
      const fl = floor(payload, row, args)
      const bareKey = `${P}_bare_${db}:${payload}`
      const perKey = `${P}_per_${db}:explicit:${payload.toLowerCase()}:${id}`
      let perMissSeq = 0
      let bentoMissSeq = 0
      const bentoKey = `${payload.toLowerCase()}:${id}`
      const load = () => delegate(base).findUnique(args())

      const contenders: Contender[] = [
        { name: ROW.uncached, run: () => delegate(base).findUnique(args()) },
        { name: ROW.l1, run: tcRead },
        { name: ROW.l2, run: () => delegate(tcL2.prisma).findUnique({ ...args(), cache: true }) },
        { name: ROW.miss, run: () => delegate(tcMiss.prisma).findUnique({ ...args(), cache: true }) },
        { name: ROW.perAuto, run: () => delegate(per.prisma).findUnique(args()) },
        {
          name: ROW.perExplicit,
          run: () => delegate(per.prisma).findUnique({ ...args(), cache: { key: perKey, ttl: 3600 } }),
        },
        ...(payload === 'User' ? [{ name: ROW.perJson, run: () => delegate(perJson.prisma).findUnique(args()) }] : []),
        {
          name: ROW.perMiss,
          run: () =>
            delegate(per.prisma).findUnique({ ...args(), cache: { key: `${perKey}:m${perMissSeq++}`, ttl: 3600 } }),
        },
        { name: ROW.bentoL1, run: () => bento.getOrSet({ key: bentoKey, factory: load }) },
        { name: ROW.bentoShared, run: () => bento.use('tieredShared').getOrSet({ key: bentoKey, factory: load }) },
        { name: ROW.bentoL2, run: () => bento.use('l2only').getOrSet({ key: bentoKey, factory: load }) },
        { name: ROW.bentoMiss, run: () => bento.getOrSet({ key: `${bentoKey}:m${bentoMissSeq++}`, factory: load }) },
        { name: ROW.floor, run: fl.total },
        { name: ROW.floorKey, run: fl.key },
        { name: ROW.floorGet, run: fl.mapGet },
        { name: ROW.floorClone, run: fl.clone },
        { name: ROW.bareGet, run: await bareGet(bareRedis, bareKey, row) },
      ]
      const rounds = scaled(40, 8)
      log(`latency: ${db} ${payload}, ${contenders.length} contenders x ${rounds} rounds`)
      const samples = await interleave(contenders, { rounds })
      groups.push({ db, payload, samples })
    }
    await bento.disconnectAll()
    for (const c of [tc, tcL2, tcMiss]) await c.prisma.$cache.close()
  }
  return groups
}
