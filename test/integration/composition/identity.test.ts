import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { afterAll, describe, expect, it } from 'vitest'
import { PrismaClient as SqliteClient } from '../../../generated/sqlite/client.ts'
import { tieredCache } from '../../../src/prisma/extension.ts'
import { Testbed } from '../../support/factory.ts'

/**
 * Everything that can change a result is part of an entry's identity: two clients that would
 * answer one query differently never share its entry, whatever prefix they share.
 */
const bed = new Testbed()
afterAll(() => bed.cleanup())

const prefix = `${bed.prefix}-identity`
/** A cached client sharing Redis and the prefix with every other one here, L2 ready before it is used. */
async function cached<C extends { $extends: unknown }>(client: C) {
  const extended = (client as unknown as SqliteClient).$extends(tieredCache({ redis: bed.redis(), prefix, auto: true }))
  bed.defer(() => extended.$cache.close())
  await extended.$cache.ready()
  return extended
}

async function sqlite(options: { omit?: { user?: { email?: boolean } } } = {}) {
  const file = await bed.database('sqlite')
  const client = new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }), ...options })
  bed.defer(() => client.$disconnect())
  return client
}

describe('entry identity', () => {
  it("a client with a global omit never receives another client's entry with the omitted field", async () => {
    const full = await cached(await sqlite())
    const omitting = await cached(await sqlite({ omit: { user: { email: true } } }))
    const user = await full.user.create({ data: { email: 'omit@example.com', name: 'omit' } })
    expect(await full.user.findUnique({ where: { id: user.id } })).toEqual(user)
    const read = await omitting.user.findUnique({ where: { id: user.id } })
    expect(read).not.toHaveProperty('email')
    expect(await full.user.findMany({ where: { id: user.id } })).toEqual([user])
    expect((await omitting.user.findMany({ where: { id: user.id } }))[0]).not.toHaveProperty('email')
  })

  it('a client with a result extension below the cache never shares an entry with one without it', async () => {
    const plain = await cached(await sqlite())
    const shouting = await cached(
      (await sqlite()).$extends({
        result: { user: { name: { needs: { name: true }, compute: (u) => u.name?.toUpperCase() ?? null } } },
      }),
    )
    const user = await plain.user.create({ data: { email: 'shout@example.com', name: 'quiet' } })
    expect((await plain.user.findUnique({ where: { id: user.id } }))?.name).toBe('quiet')
    expect((await shouting.user.findUnique({ where: { id: user.id } }))?.name).toBe('QUIET')
    expect((await plain.user.findUnique({ where: { id: user.id } }))?.name).toBe('quiet')
  })

  it('two databases of the same schema under one prefix never share entries', async () => {
    const other = new Testbed()
    bed.defer(() => other.cleanup())
    const first = await cached(await sqlite())
    const file = await other.database('sqlite')
    const secondBase = new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: `file:${file}` }) })
    bed.defer(() => secondBase.$disconnect())
    const second = await cached(secondBase)
    const one = await first.document.create({ data: { id: 'same-id', title: 'first database' } })
    const two = await second.document.create({ data: { id: 'same-id', title: 'second database' } })
    expect(await first.document.findUnique({ where: { id: 'same-id' } })).toEqual(one)
    expect(await second.document.findUnique({ where: { id: 'same-id' } })).toEqual(two)
  })
})
