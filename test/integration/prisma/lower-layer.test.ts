import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { EntityTag, KeyPattern } from '../../../src/cache/keys.ts'
import { tieredCacheOf } from '../../../src/prisma/client-cache.ts'
import { cachedInstance, type Instance } from '../../support/cached.ts'
import { Testbed } from '../../support/factory.ts'

const bed = new Testbed()
afterAll(() => bed.cleanup())

/**
 * The extension's entries are named with CacheKey and tagged with EntityTag, so the lower layer's
 * TieredCache (the one under `$cache`) invalidates them by tag and by key pattern, on every instance.
 */
describe('the lower layer invalidates what the extension cached', () => {
  let a: Instance
  let b: Instance
  let prefix: string
  let seq = 0

  beforeEach(async () => {
    a ??= await cachedInstance(bed, 'sqlite')
    b ??= await cachedInstance(bed, 'sqlite')
    prefix = `${bed.prefix}-sqlite`
    await a.base.post.deleteMany()
    await a.base.user.deleteMany()
    await a.prisma.$cache.clear()
  })

  const newUser = () => a.base.user.create({ data: { email: `lower${seq++}@example.com`, name: 'Ada' } })

  /** Every read a test caches, and which of them the last invalidation sent to the database. */
  async function reads(one: number, two: number) {
    const all = {
      one: () => a.prisma.user.findUnique({ where: { id: one }, cache: true }),
      oneNamed: () => a.prisma.user.findUnique({ where: { id: one }, select: { name: true }, cache: true }),
      two: () => a.prisma.user.findUnique({ where: { id: two }, cache: true }),
      list: () => a.prisma.user.findMany({ orderBy: { id: 'asc' }, cache: true }),
      unordered: () => a.prisma.user.findMany({ cache: true }),
      count: () => a.prisma.user.count({ cache: true }),
      posts: () => a.prisma.post.findMany({ cache: true }),
      postsWithAuthor: () => a.prisma.post.findMany({ include: { author: true }, cache: true }),
    }
    for (const read of Object.values(all)) await read()
    return async function loaded(): Promise<string[]> {
      const missed: string[] = []
      for (const [name, read] of Object.entries(all)) {
        if ((await read().withAccelerateInfo()).info.cacheStatus === 'miss') missed.push(name)
      }
      return missed
    }
  }

  it('EntityTag.entity drops every read of the model, record reads and reads through a relation too', async () => {
    const [one, two] = [await newUser(), await newUser()]
    const loaded = await reads(one.id, two.id)
    await tieredCacheOf(a.prisma).invalidateTags([EntityTag.entity('User')])
    expect(await loaded()).toEqual(['one', 'oneNamed', 'two', 'list', 'unordered', 'count', 'postsWithAuthor'])
  })

  it('EntityTag.record drops the reads of that record and keeps the other records', async () => {
    const [one, two] = [await newUser(), await newUser()]
    const loaded = await reads(one.id, two.id)
    await tieredCacheOf(a.prisma).invalidateTags([EntityTag.record('User', one.id)])
    // A list in a total order holds its rows' record tags.
    expect(await loaded()).toEqual(['one', 'oneNamed', 'list'])
  })

  it('EntityTag.list drops the reads the rules cannot narrow (an unordered list) and keeps record reads', async () => {
    const [one, two] = [await newUser(), await newUser()]
    const loaded = await reads(one.id, two.id)
    await tieredCacheOf(a.prisma).invalidateTags([EntityTag.list('User')])
    expect(await loaded()).toEqual(['unordered'])
  })

  it('KeyPattern.record matches the keys of one record read, never those of another', async () => {
    const [one, two] = [await newUser(), await newUser()]
    const loaded = await reads(one.id, two.id)
    await tieredCacheOf(a.prisma).invalidatePattern(KeyPattern.record('User', one.id, { prefix }))
    expect(await loaded()).toEqual(['one', 'oneNamed'])
  })

  it('KeyPattern.entity matches every read of the model and no other model', async () => {
    const [one, two] = [await newUser(), await newUser()]
    const loaded = await reads(one.id, two.id)
    await tieredCacheOf(a.prisma).invalidatePattern(KeyPattern.entity('User', { prefix }))
    expect(await loaded()).toEqual(['one', 'oneNamed', 'two', 'list', 'unordered', 'count'])
  })

  it('an invalidation through the lower layer reaches the L1 of another instance', async () => {
    const user = await newUser()
    const read = (instance: Instance) => instance.prisma.user.findUnique({ where: { id: user.id }, cache: true })
    await read(b)
    await a.base.user.update({ where: { id: user.id }, data: { name: 'behind the cache' } })
    expect((await read(b))?.name).toBe('Ada')
    const heard = b.nextBusMessage()
    await tieredCacheOf(a.prisma).invalidateTags([EntityTag.record('User', user.id)])
    await heard
    expect((await read(b))?.name).toBe('behind the cache')
  })

  it('KeyPattern.tenant matches the reads made under that context', async () => {
    let tenant = 'org:1'
    const scoped = await cachedInstance(bed, 'sqlite', { context: () => tenant })
    const user = await newUser()
    const read = () => scoped.prisma.user.findUnique({ where: { id: user.id }, cache: true }).withAccelerateInfo()
    await read()
    tenant = 'org:2'
    await read()
    await tieredCacheOf(scoped.prisma).invalidatePattern(KeyPattern.tenant('org:1', { prefix }))
    expect((await read()).info.cacheStatus).toBe('ttl')
    tenant = 'org:1'
    expect((await read()).info.cacheStatus).toBe('miss')
  })
})
