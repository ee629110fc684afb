import { afterAll, describe, expect, it } from 'vitest'
import { KeyLayout } from '../../../src/cache/redis/layout.ts'
import { tieredCache } from '../../../src/prisma/extension.ts'
import { cachedInstance, type Instance } from '../../support/cached.ts'
import { Testbed } from '../../support/factory.ts'

const bed = new Testbed()
afterAll(() => bed.cleanup())
let count = 0

const title = (instance: Instance, id: string) =>
  instance.prisma.document.findUnique({ where: { id }, cache: true }).then((d) => d?.title)

/** The keys under `prefix` that are entries (not tag versions, epoch or locks, which start with '#'). */
async function entriesUnder(prefix: string): Promise<string[]> {
  const keys = await bed.redis().keys(`${prefix}:*`)
  const layout = new KeyLayout(prefix, 1)
  return keys.filter((key) => layout.parse(key) !== undefined)
}

describe('l2: false with a redis', () => {
  it("carries a write on one instance to another instance's L1 over Redis, storing no entry there", async () => {
    const prefix = `${bed.prefix}_${count++}`
    const a = await cachedInstance(bed, 'postgres', { prefix, l2: false })
    const b = await cachedInstance(bed, 'postgres', { prefix, l2: false })
    const { id } = await a.base.document.create({ data: { title: 'v1' } })
    expect(await title(a, id)).toBe('v1')
    expect(await title(b, id)).toBe('v1')
    expect(b.counter.count).toBe(1)

    const heard = a.nextBusMessage()
    await b.prisma.document.update({ where: { id }, data: { title: 'v2' } })
    await heard
    expect(await title(a, id)).toBe('v2')
    expect(await title(b, id)).toBe('v2')

    expect(await entriesUnder(prefix)).toEqual([])
    for (const { prisma } of [a, b]) expect(prisma.$cache.stats().l2).toEqual({ hits: 0, misses: 0, errors: 0 })
  })

  it('lets an instance without any cache tier still invalidate the others', async () => {
    const prefix = `${bed.prefix}_${count++}`
    const reader = await cachedInstance(bed, 'postgres', { prefix, l2: false })
    const writer = await cachedInstance(bed, 'postgres', { prefix, l1: false, l2: false })
    const { id } = await reader.base.document.create({ data: { title: 'v1' } })
    expect(await title(reader, id)).toBe('v1')
    const heard = reader.nextBusMessage()
    await writer.prisma.document.update({ where: { id }, data: { title: 'v2' } })
    await heard
    expect(await title(reader, id)).toBe('v2')
  })

  it('rejects the stampede lock with l2: false, since waiters would have nowhere to read the value', () => {
    expect(() => tieredCache({ l2: false, stampede: { lock: true } })).toThrow(/stampede\.lock/)
    expect(() => tieredCache({ l2: false, stampede: { lock: true } })).toThrow(TypeError)
  })
})
