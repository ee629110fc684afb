import { readReplicas } from '@prisma/extension-read-replicas'
import { afterAll, describe, expect, it } from 'vitest'
import { type AnyPrisma, providers, Testbed } from '../../support/factory.ts'
import { runModelCheck } from '../../support/model.ts'

/**
 * The randomized model-based check through the chains applications build: the same extensions
 * under the cache, over it, and on both sides, against the same chain without the cache.
 * (Result extensions are checked in chains.test.ts: their results carry a proxy no two reads share.)
 */
const OPS = Number(process.env.MODEL_TEST_OPS ?? 600)
const SEED = Number(process.env.MODEL_TEST_SEED ?? Math.floor(Math.random() * 2 ** 31))

/** Each run seeds a database of its own. */
const beds: Testbed[] = []
afterAll(async () => {
  for (const bed of beds) await bed.cleanup()
})

const passThrough = (client: AnyPrisma) =>
  client.$extends({
    name: 'passThrough',
    query: { $allModels: { $allOperations: ({ args, query }) => query(args) } },
  }) as unknown as AnyPrisma

/** Rewrites the arguments the database gets: user lists never show one (unused) address. */
const hideAddress = (client: AnyPrisma) =>
  client.$extends({
    name: 'hideAddress',
    query: {
      user: {
        findMany: ({ args, query }) =>
          query({ ...args, where: { AND: [args.where ?? {}, { email: { not: 'hidden@x' } }] } }),
      },
    },
  }) as unknown as AnyPrisma

const greeting = (client: AnyPrisma) =>
  client.$extends({ name: 'greeting', model: { $allModels: { greet: () => 'hello' } } }) as unknown as AnyPrisma

/** Read replicas whose replica is a second client on the same database (no lag: lag is replicas.test.ts). */
async function replicas(bed: Testbed, provider: (typeof providers)[number]) {
  const replica = await bed.prisma(provider)
  return (client: AnyPrisma) => client.$extends(readReplicas({ replicas: [replica] })) as unknown as AnyPrisma
}

const all =
  (...extensions: ((client: AnyPrisma) => AnyPrisma)[]) =>
  (client: AnyPrisma) =>
    extensions.reduce((chained, extend) => extend(chained), client)

describe.each(providers)('the model-based check through extension chains on %s', (provider) => {
  it.each(['under', 'over', 'both sides'] as const)(
    `extensions %s the cache (${OPS} operations)`,
    async (where) => {
      const bed = new Testbed()
      beds.push(bed)
      const withReplicas = all(passThrough, hideAddress, greeting, await replicas(bed, provider))
      const without = all(passThrough, hideAddress, greeting)
      const { hitRate } = await runModelCheck({
        bed,
        provider,
        ops: OPS,
        seed: SEED,
        label: `${provider}, extensions ${where} the cache`,
        // Read replicas under the cache with a query extension over it is the one order whose reads
        // go uncached (README, "With other extensions"): here they go under, or over, not both.
        chain:
          where === 'under'
            ? { under: withReplicas }
            : where === 'over'
              ? { over: withReplicas }
              : { under: without, over: withReplicas },
      })
      expect(hitRate).toBeGreaterThan(0.1)
    },
    120_000,
  )
})
