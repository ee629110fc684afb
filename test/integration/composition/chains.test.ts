import { AsyncLocalStorage } from 'node:async_hooks'
import { Prisma } from '@prisma/client/extension'
import { readReplicas } from '@prisma/extension-read-replicas'
import { afterAll, describe, expect, it } from 'vitest'
import { tieredCache } from '../../../src/prisma/extension.ts'
import { passThrough } from '../../support/extensions.ts'
import { type AnyPrisma, providers, Testbed } from '../../support/factory.ts'

/**
 * The client a real application builds is a chain: `base.$extends(a).$extends(tieredCache()).$extends(b)`.
 * A read through any chain, in any order, returns what the same chain returns without the cache,
 * and a write invalidates from the arguments that reached the database.
 */
const bed = new Testbed()
afterAll(() => bed.cleanup())

/** Rejects when `promise` has not settled within `ms`: a hang fails the test instead of stalling it. */
function settles<T>(promise: PromiseLike<T>, ms = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`never settled within ${ms} ms`)), ms)
  })
  return Promise.race([Promise.resolve(promise), bound]).finally(() => clearTimeout(timer))
}

let prefixes = 0
const cache = (options: Parameters<typeof tieredCache>[0] = {}) =>
  tieredCache({ redis: bed.redis(), prefix: `${bed.prefix}-chain${prefixes++}`, auto: true, ...options })

const tenant = new AsyncLocalStorage<string>()
/** Adds `name: <tenant>` to every user read: the classic row-level tenancy extension. */
const tenantFilter = {
  name: 'tenantFilter',
  query: {
    user: {
      async findMany({ args, query }: { args: { where?: object }; query: (a: unknown) => Promise<unknown> }) {
        const name = tenant.getStore()
        return query(name === undefined ? args : { ...args, where: { ...args.where, name } })
      },
    },
  },
} as const

const displayName = {
  name: 'displayName',
  result: {
    user: {
      display: {
        needs: { name: true, email: true },
        compute: (u: { name: string | null; email: string }) => `${u.name} <${u.email}>`,
      },
    },
  },
} as const

/** The data of a result, without the proxy Prisma wraps results of result extensions in. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value))

function close(client: unknown) {
  bed.defer(() => (client as { $cache?: { close(): Promise<void> } }).$cache?.close())
}

describe.each(providers)('extension chains on %s', (provider) => {
  let seq = 0
  const email = () => `c${seq++}-${provider}@example.com`
  const base = () => bed.prisma(provider)

  it.each([
    ['a query extension', passThrough],
    ['a result extension', displayName],
    ['a model extension', { name: 'm', model: { $allModels: { hello: () => 'hi' } } }],
    ['a client extension', { name: 'c', client: { $hello: () => 'hi' } }],
  ])('a read settles, and is cached, with %s applied after tieredCache', async (_, outer) => {
    const plain = await base()
    const user = await plain.user.create({ data: { email: email(), name: 'chain' } })
    const cached = plain.$extends(cache())
    close(cached)
    await cached.$cache.ready()
    const client = cached.$extends(outer as never) as unknown as AnyPrisma
    expect(await settles(client.user.findUnique({ where: { id: user.id } }))).toMatchObject(user)
    expect(await settles(client.user.findUnique({ where: { id: user.id } }))).toMatchObject(user)
    expect(cached.$cache.stats()).toMatchObject({ hits: 1, misses: 1 })
  })

  it('batch and interactive transactions settle through a chain with an extension after tieredCache', async () => {
    const plain = await base()
    const user = await plain.user.create({ data: { email: email() } })
    const cached = plain.$extends(cache())
    close(cached)
    await cached.$cache.ready()
    const client = cached.$extends(passThrough) as unknown as AnyPrisma
    const [found, count] = await settles(
      client.$transaction([client.user.findUnique({ where: { id: user.id } }), client.user.count()]),
    )
    expect(found).toEqual(user)
    expect(count).toBeGreaterThan(0)
    const inside = await settles(client.$transaction(async (tx) => tx.user.findUnique({ where: { id: user.id } })))
    expect(inside).toEqual(user)
  })

  it("an outer query extension's tenant filter is applied to cached reads", async () => {
    const plain = await base()
    await plain.user.create({ data: { email: email(), name: 'tenant-a' } })
    await plain.user.create({ data: { email: email(), name: 'tenant-b' } })
    const cached = plain.$extends(cache())
    close(cached)
    await cached.$cache.ready()
    const client = cached.$extends(tenantFilter) as unknown as AnyPrisma
    const uncached = plain.$extends(tenantFilter) as unknown as AnyPrisma
    for (let round = 0; round < 2; round++)
      for (const name of ['tenant-a', 'tenant-b']) {
        const got = await settles(tenant.run(name, async () => await client.user.findMany({ orderBy: { id: 'asc' } })))
        expect(got).toEqual(
          await tenant.run(name, async () => await uncached.user.findMany({ orderBy: { id: 'asc' } })),
        )
        expect(got.every((u) => u.name === name)).toBe(true)
      }
  })

  it("an outer result extension's computed field is on every cached read, and can be selected", async () => {
    const bare = await base()
    const user = await bare.user.create({ data: { email: email(), name: 'Ada' } })
    const cached = bare.$extends(cache())
    close(cached)
    await cached.$cache.ready()
    const client = cached.$extends(displayName)
    const uncached = bare.$extends(displayName)
    for (let round = 0; round < 2; round++) {
      const found = await settles(client.user.findUnique({ where: { id: user.id } }))
      expect(found?.display).toBe(`Ada <${user.email}>`)
      expect(plain(found)).toEqual(plain(await uncached.user.findUnique({ where: { id: user.id } })))
      const selected = await settles(client.user.findUnique({ where: { id: user.id }, select: { display: true } }))
      expect(selected?.display).toBe(`Ada <${user.email}>`)
      expect(plain(selected)).toEqual(
        plain(await uncached.user.findUnique({ where: { id: user.id }, select: { display: true } })),
      )
    }
    expect(cached.$cache.stats().hits).toBeGreaterThan(0)
  })

  it('a write whose arguments an outer extension rewrote invalidates from the rewritten arguments', async () => {
    const plain = await base()
    const cached = plain.$extends(cache())
    close(cached)
    await cached.$cache.ready()
    const client = cached.$extends({
      name: 'welcomePost',
      query: {
        user: {
          create({ args, query }) {
            return query({ ...args, data: { ...args.data, posts: { create: { title: 'welcome' } } } })
          },
        },
      },
    }) as unknown as AnyPrisma
    const before = await client.post.findMany({ where: { title: 'welcome' } })
    await client.user.create({ data: { email: email() } })
    expect(await client.post.findMany({ where: { title: 'welcome' } })).toEqual(
      await plain.post.findMany({ where: { title: 'welcome' } }),
    )
    expect((await plain.post.findMany({ where: { title: 'welcome' } })).length).toBe(before.length + 1)
  })

  it('read replicas under the cache with a query extension over it: reads are right, and uncached', async () => {
    const plain = await base()
    const replica = await base()
    const user = await plain.user.create({ data: { email: email(), name: 'routed' } })
    const cached = plain.$extends(readReplicas({ replicas: [replica] })).$extends(cache())
    close(cached)
    await cached.$cache.ready()
    const client = cached.$extends(passThrough) as unknown as AnyPrisma
    expect(await settles(client.user.findUnique({ where: { id: user.id } }))).toEqual(user)
    expect(await settles(client.user.findUnique({ where: { id: user.id } }))).toEqual(user)
    expect(cached.$cache.stats()).toMatchObject({ hits: 0, misses: 0 })
  })

  it('a soft delete applied after tieredCache (delete rerouted to an update of the cached client) is invalidated', async () => {
    const plain = await base()
    const cached = plain.$extends(cache())
    close(cached)
    await cached.$cache.ready()
    const client = cached.$extends(
      Prisma.defineExtension((inner) =>
        inner.$extends({
          name: 'softDelete',
          query: {
            document: {
              delete({ args }) {
                return (inner as unknown as AnyPrisma).document.update({
                  where: args.where as { id: string },
                  data: { title: 'deleted' },
                })
              },
            },
          },
        }),
      ),
    ) as unknown as AnyPrisma
    const doc = await plain.document.create({ data: { title: 'alive' } })
    expect(await client.document.findUnique({ where: { id: doc.id } })).toEqual(doc)
    await client.document.delete({ where: { id: doc.id } })
    expect(await client.document.findUnique({ where: { id: doc.id } })).toEqual(
      await plain.document.findUnique({ where: { id: doc.id } }),
    )
    expect((await plain.document.findUnique({ where: { id: doc.id } }))?.title).toBe('deleted')
  })

  it('a destructured read method works as on the plain client', async () => {
    const plain = await base()
    const user = await plain.user.create({ data: { email: email() } })
    const client = plain.$extends(cache())
    close(client)
    await client.$cache.ready()
    const { findUnique } = client.user
    expect(await settles(findUnique({ where: { id: user.id } }))).toEqual(user)
  })
})
