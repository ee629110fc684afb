import { createBentoCache } from '../contenders/bentocache.ts'
import { withChainedTieredCache } from '../contenders/chains.ts'
import { bareGet, floor, floorScope } from '../contenders/floor.ts'
import { withPrismaExtensionRedis } from '../contenders/prisma-extension-redis.ts'
import { untilL1Serves, withTieredCache } from '../contenders/tiered-cache.ts'
import { type Contender, interleave, log, type Sample, scaled } from '../harness.ts'
import { type Bench, type Db, HOT_POST_ID, HOT_USER_ID } from '../setup.ts'

/** Row names the report and the targets refer to. */
export const ROW = {
  uncached: 'prisma findUnique (uncached)',
  l1: 'tieredCache L1 hit',
  l1Chain: 'tieredCache L1 hit, query ext before + model ext after',
  l1Hook: 'tieredCache L1 hit, query ext before + result ext after (inner hook)',
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
  floorShort: 'floor with a 52-char key (ptc:Model:fingerprint:op:args)',
  floorKey: 'floor part: key (canonical)',
  floorGet: 'floor part: Map.get',
  floorClone: 'floor part: cloneValue',
  bareGet: 'bare ioredis GET + superjson.parse',
} as const

export interface LatencyGroup {
  readonly db: Db
  readonly payload: 'User' | 'Post'
  /** What the group compares, when it is not every contender on one row (the chains group). */
  readonly title?: string
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
  const hooked: Hooked[] = []
  for (const db of bench.dbs) {
    const base = bench.client(db)
    const tc = withTieredCache(base, await bench.redis('bench-tc'), { prefix: `${P}_tc_${db}` })
    // The same read through a chain (contenders/chains.ts): the model extension after the cache keeps
    // the fast path; the result extension after it moves the read into an inner query hook.
    const tcChain = withChainedTieredCache(base, await bench.redis('bench-tc-chain'), `${P}_tcchain_${db}`, 'model')
    const tcHook = withChainedTieredCache(base, await bench.redis('bench-tc-hook'), `${P}_tchook_${db}`, 'result')
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
      // Object literals, as an application writes them: on Node 20, `{ ...args(), cache: true }`
      // alone costs ~0.3 µs (a spread followed by a new property), more than the key of the read.
      const cached = () => ({ where: { id }, cache: true })
      const row = await delegate(base).findUnique(args())
      const tcRead = () => delegate(tc.prisma).findUnique(cached())
      const chainRead = () => delegate(tcChain.prisma).findUnique(cached())
      for (const [client, read] of [
        [tc, tcRead],
        [tcChain, chainRead],
      ] as const)
        if (!(await untilL1Serves(client.prisma, read))) log(`  warning: tieredCache L1 never served on ${db}`)
      const fl = floor(payload, row, args, floorScope(`${P}_tc_${db}`), [id])
      const shortFloor = floor(payload, row, args, { prefix: 'ptc', fingerprint: 'f3a9c1d07b2e' }, undefined)
      const { key: tcKey } = await tc.prisma.$cache.explain({ model: payload, operation: 'findUnique', args: args() })
      if (tcKey.length !== fl.known.length) log(`  warning: the floor's key (${fl.known}) is not as long as ${tcKey}`)
      const bareKey = `${P}_bare_${db}:${payload}`
      const perKey = `${P}_per_${db}:explicit:${payload.toLowerCase()}:${id}`
      let perMissSeq = 0
      let bentoMissSeq = 0
      const bentoKey = `${payload.toLowerCase()}:${id}`
      const load = () => delegate(base).findUnique(args())

      const contenders: Contender[] = [
        { name: ROW.uncached, run: () => delegate(base).findUnique(args()) },
        { name: ROW.l1, run: tcRead },
        { name: ROW.l1Chain, run: chainRead },
        { name: ROW.l2, run: () => delegate(tcL2.prisma).findUnique(cached()) },
        { name: ROW.miss, run: () => delegate(tcMiss.prisma).findUnique(cached()) },
        { name: ROW.perAuto, run: () => delegate(per.prisma).findUnique(args()) },
        {
          name: ROW.perExplicit,
          run: () => delegate(per.prisma).findUnique({ where: { id }, cache: { key: perKey, ttl: 3600 } }),
        },
        ...(payload === 'User' ? [{ name: ROW.perJson, run: () => delegate(perJson.prisma).findUnique(args()) }] : []),
        {
          name: ROW.perMiss,
          run: () =>
            delegate(per.prisma).findUnique({ where: { id }, cache: { key: `${perKey}:m${perMissSeq++}`, ttl: 3600 } }),
        },
        { name: ROW.bentoL1, run: () => bento.getOrSet({ key: bentoKey, factory: load }) },
        { name: ROW.bentoShared, run: () => bento.use('tieredShared').getOrSet({ key: bentoKey, factory: load }) },
        { name: ROW.bentoL2, run: () => bento.use('l2only').getOrSet({ key: bentoKey, factory: load }) },
        { name: ROW.bentoMiss, run: () => bento.getOrSet({ key: `${bentoKey}:m${bentoMissSeq++}`, factory: load }) },
        { name: ROW.floor, run: fl.total },
        { name: ROW.floorShort, run: shortFloor.total },
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
    for (const c of [tc, tcChain, tcL2, tcMiss]) await c.prisma.$cache.close()
    hooked.push({
      db,
      lone: withTieredCache(base, await bench.redis('bench-tc-lone'), { prefix: `${P}_tclone_${db}` }),
      tcHook,
    })
  }
  for (const h of hooked) groups.push(await hookGroup(h))
  return groups
}

interface Hooked {
  readonly db: Db
  readonly lone: ReturnType<typeof withTieredCache>
  readonly tcHook: ReturnType<typeof withChainedTieredCache>
}

/**
 * The L1 hit of a read cached in an inner query hook, beside the lone hit, measured last: such a
 * read runs inside an AsyncLocalStorage (as a `$transaction` does), after which Node 20 runs its
 * promise hooks on every promise of the process, hits included, and the groups measured before it
 * would not have been measured alike.
 */
async function hookGroup({ db, lone, tcHook }: Hooked): Promise<LatencyGroup> {
  const id = HOT_USER_ID
  const cached = () => ({ where: { id }, cache: true })
  const loneRead = () => lone.prisma.user.findUnique(cached())
  const hookRead = () => tcHook.prisma.user.findUnique(cached())
  for (const [client, read] of [
    [lone, loneRead],
    [tcHook, hookRead],
  ] as const)
    if (!(await untilL1Serves(client.prisma, read))) log(`  warning: tieredCache L1 never served on ${db}`)
  const contenders: Contender[] = [
    { name: `${ROW.l1} (promise hooks on)`, run: loneRead },
    { name: ROW.l1Hook, run: hookRead },
  ]
  log(`latency: ${db} User, L1 hit through an inner hook, ${contenders.length} contenders`)
  const samples = await interleave(contenders, { rounds: scaled(20, 5) })
  for (const c of [lone, tcHook]) await c.prisma.$cache.close()
  return {
    db,
    payload: 'User',
    title: 'L1 hit cached in an inner query hook, measured after the groups above',
    samples,
  }
}
