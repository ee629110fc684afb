import { once } from 'node:events'
import { afterAll, describe, expect, it } from 'vitest'
import type { CacheEventMap } from '../../../src/core/events.ts'
import { cachedInstance } from '../../support/cached.ts'
import { Testbed } from '../../support/factory.ts'

/** "Why was this evicted?": causes on events and bus messages, debug lines, $cache.explain(). */
const bed = new Testbed()
afterAll(() => bed.cleanup())
let seq = 0
const email = () => `c${seq++}@example.com`

describe('invalidation causes', () => {
  it("a write's 'invalidate' event and the bus message other instances get name the write and the instance", async () => {
    const a = await cachedInstance(bed, 'sqlite', { auto: true })
    const b = await cachedInstance(bed, 'sqlite', { auto: true })
    const user = await a.base.user.create({ data: { email: email() } })
    const local = once(a.events, 'invalidate') as Promise<[CacheEventMap['invalidate']]>
    const remote = b.nextBusMessage() as Promise<[CacheEventMap['bus']]>
    await a.prisma.user.update({ where: { id: user.id }, data: { name: 'n' } })
    const [[event], [message]] = await Promise.all([local, remote])
    expect(event.cause).toMatchObject({ model: 'User', operation: 'update', transaction: false })
    expect(event.cause?.instance).toBe(message.from)
    expect(message.cause).toEqual(event.cause)
    expect(message.tags).toEqual(expect.arrayContaining([...event.tags]))
  })

  it('the writes of a $transaction are invalidated once, after commit, with a $transaction cause', async () => {
    const a = await cachedInstance(bed, 'sqlite', { auto: true })
    const user = await a.base.user.create({ data: { email: email() } })
    const causes: CacheEventMap['invalidate'][] = []
    a.events.on('invalidate', (event: CacheEventMap['invalidate']) => causes.push(event))
    await a.prisma.$transaction([
      a.prisma.user.update({ where: { id: user.id }, data: { name: 'x' } }),
      a.prisma.post.create({ data: { title: 't', authorId: user.id } }),
    ])
    expect(causes.map((event) => event.cause)).toEqual([
      { operation: '$transaction', transaction: true, instance: expect.any(String) },
    ])
  })

  it('$cache.invalidate says so', async () => {
    const a = await cachedInstance(bed, 'sqlite')
    const seen = once(a.events, 'invalidate') as Promise<[CacheEventMap['invalidate']]>
    await a.prisma.$cache.invalidate({ tags: ['feed'] })
    expect((await seen)[0].cause).toMatchObject({ operation: '$cache.invalidate', transaction: false })
  })
})

describe('debug', () => {
  it('logs one line for a miss, a hit, a refused store and an invalidation with its cause', async () => {
    const lines: string[] = []
    const a = await cachedInstance(bed, 'sqlite', { auto: true, debug: (line) => lines.push(line), maxEntryBytes: 200 })
    const user = await a.base.user.create({ data: { email: email(), name: 'x'.repeat(300) } })
    const small = await a.base.user.create({ data: { email: email() } })
    await a.prisma.user.findUnique({ where: { id: small.id } })
    await a.prisma.user.findUnique({ where: { id: small.id } })
    await a.prisma.user.findUnique({ where: { id: user.id } })
    await a.prisma.user.update({ where: { id: small.id }, data: { name: 'y' } })
    const { keyHash } = await a.prisma.$cache.explain({
      model: 'User',
      operation: 'findUnique',
      args: { where: { id: small.id } },
    })
    expect(lines).toContain(`tiered-cache miss User.findUnique key #${keyHash}`)
    expect(lines).toContain(`tiered-cache hit l1 User.findUnique key #${keyHash}`)
    expect(lines.some((line) => /^tiered-cache not stored in l\d key #[0-9a-f]{8}: too-large/.test(line))).toBe(true)
    expect(lines.some((line) => /^tiered-cache invalidate tags .*m:User.* by User\.update on \S+$/.test(line))).toBe(
      true,
    )
  })

  it('debug: false stays quiet', async () => {
    const lines: string[] = []
    const original = console.error
    console.error = (line: string) => lines.push(line)
    try {
      const a = await cachedInstance(bed, 'sqlite', { auto: true, debug: false })
      await a.prisma.user.findMany()
    } finally {
      console.error = original
    }
    expect(lines.filter((line) => String(line).startsWith('tiered-cache'))).toEqual([])
  })
})

describe('$cache.explain()', () => {
  it("gives a read's key and tags, and which tier holds it, before and after it is cached and invalidated", async () => {
    const a = await cachedInstance(bed, 'sqlite')
    const user = await a.base.user.create({ data: { email: email() } })
    const query = { model: 'User', operation: 'findUnique', args: { where: { id: user.id }, cache: true } }
    const before = await a.prisma.$cache.explain(query)
    expect(before).toMatchObject({ cached: true, l1: 'absent', l2: 'absent', resultTags: [] })
    expect(before.tags.length).toBeGreaterThan(0)
    expect(await a.prisma.$cache.explain(query)).toEqual(before)
    await a.prisma.user.findUnique({ where: { id: user.id }, cache: true })
    const stats = a.prisma.$cache.stats()
    const held = await a.prisma.$cache.explain(query)
    expect(held.key).toBe(before.key)
    expect(held.l1).toBe('fresh')
    // Explaining counts nothing.
    expect(a.prisma.$cache.stats()).toEqual(stats)
    await a.prisma.user.update({ where: { id: user.id }, data: { name: 'z' } })
    expect(await a.prisma.$cache.explain(query)).toMatchObject({ l1: 'absent', l2: 'absent' })
  })

  it('says a read without a cache option is not cached, and rejects a model that does not exist', async () => {
    const a = await cachedInstance(bed, 'sqlite')
    expect((await a.prisma.$cache.explain({ model: 'User', operation: 'findMany' })).cached).toBe(false)
    await expect(a.prisma.$cache.explain({ model: 'Nope', operation: 'findMany' })).rejects.toThrow(/explain\.model/)
    await expect(a.prisma.$cache.explain({ model: 'User', operation: 'update' })).rejects.toThrow(/explain\.operation/)
  })
})
