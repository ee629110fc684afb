// Run: npx tsx examples/multi-tenant.ts   (SQLite in .tmp/; Redis at REDIS_URL when it answers)
//
// Multi-tenant keys. The application scopes every membership query to the current tenant with a
// query extension (a common pattern), so `membership.findMany()` reads the same in the code of
// every tenant but returns different rows. The cache keys a read by its arguments, so it needs to
// know the tenant: `context` returns it (here from AsyncLocalStorage, set per request) and it
// becomes part of every derived key.
import { AsyncLocalStorage } from 'node:async_hooks'
import { tieredCache } from '../src/index.ts'
import {
  createDatabase,
  dropPrefix,
  REDIS_URL,
  redisOrNotice,
  removeDatabase,
  sqliteClient,
  uniquePrefix,
} from './setup.ts'

const file = createDatabase(`multi-tenant-${process.pid}`)
const redisUp = await redisOrNotice()
const redis = redisUp ? REDIS_URL : null

/** The tenant of the request being served; a web framework's middleware would set it. */
const tenant = new AsyncLocalStorage<{ readonly orgId: number }>()
const asTenant = <T>(orgId: number, fn: () => Promise<T>) => tenant.run({ orgId }, fn)

const base = sqliteClient(file)
// Under the cache: the cache sees the query as the application wrote it, without `orgId`.
const scoped = base.$extends({
  name: 'tenantScope',
  query: {
    membership: {
      findMany({ args, query }) {
        const orgId = tenant.getStore()?.orgId
        if (orgId === undefined) throw new Error('membership.findMany outside a tenant')
        return query({ ...args, where: { ...args.where, orgId } })
      },
    },
  },
})

await base.membership.createMany({
  data: [
    { orgId: 1, userId: 1, role: 'owner' },
    { orgId: 1, userId: 2, role: 'member' },
    { orgId: 2, userId: 3, role: 'owner' },
  ],
})

const wrongPrefix = uniquePrefix('tenant-wrong')
const shared = scoped.$extends(tieredCache({ redis, prefix: wrongPrefix }))
const prefix = uniquePrefix('tenant')
const prisma = scoped.$extends(tieredCache({ redis, prefix, context: () => tenant.getStore()?.orgId.toString() }))
await shared.$cache.ready()
await prisma.$cache.ready()

/** The application's query: the same code for every tenant. */
const members = (client: typeof prisma) =>
  client.membership
    .findMany({ orderBy: { userId: 'asc' }, cache: true })
    .then((rows) => rows.map((row) => `user ${row.userId} (${row.role})`).join(', '))

console.log('without `context`: one key for both tenants')
console.log(`  org 1: ${await asTenant(1, () => members(shared))}`)
console.log(`  org 2: ${await asTenant(2, () => members(shared))}   <- org 1's rows, from the cache: wrong`)

console.log('with `context: () => tenant`: one key per tenant')
const read = async (orgId: number) => {
  const before = prisma.$cache.stats().loads
  const rows = await asTenant(orgId, () => members(prisma))
  console.log(`  org ${orgId}: ${rows.padEnd(33)} ${prisma.$cache.stats().loads > before ? 'database' : 'cache'}`)
}
await read(1)
await read(2)
await read(1)
await read(2)

console.log('org 2 adds a member: tags are per model, not per tenant, so both tenants reload (never stale)')
await asTenant(2, () => prisma.membership.create({ data: { orgId: 2, userId: 4, role: 'member' } }))
await read(1)
await read(2)

for (const client of [shared, prisma]) await client.$cache.close()
await base.$disconnect()
if (redisUp) for (const p of [wrongPrefix, prefix]) await dropPrefix(p)
removeDatabase(file)
