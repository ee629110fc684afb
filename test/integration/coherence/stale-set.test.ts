import { afterAll, describe, expect, it } from 'vitest'
import type { TieredCacheOptions } from '../../../src/prisma/options.ts'
import { cachedInstance, type Instance } from '../../support/cached.ts'
import { Testbed } from '../../support/factory.ts'
import { databaseUnderCache } from '../../support/gate.ts'
import { nextEvent } from '../../unit/cache/support.ts'

const bed = new Testbed()
afterAll(() => bed.cleanup())
let count = 0

/** Instance A reads through a database that can be held; B is an ordinary instance. Same prefix. */
async function twoInstances(aOptions: TieredCacheOptions = {}, shared: TieredCacheOptions = {}) {
  const prefix = `${bed.prefix}_${count++}`
  const database = databaseUnderCache()
  const a = await cachedInstance(bed, 'postgres', { prefix, ...shared, ...aOptions }, { under: database.under })
  const b = await cachedInstance(bed, 'postgres', { prefix, ...shared })
  return { a, b, database }
}

const readDocument = (instance: Instance, id: string) =>
  instance.prisma.document.findUnique({ where: { id }, cache: true }).then((d) => d?.version)

describe('a slow miss that read old data while another instance wrote', () => {
  it.each<[string, TieredCacheOptions]>([
    ['with L1 on the slow instance', {}],
    ['with L2 alone guarding the slow instance (no L1)', { l1: false }],
  ])('leaves nothing that is served after the write, %s', async (_, aOptions) => {
    const { a, b, database } = await twoInstances(aOptions)
    const { id } = await b.base.document.create({ data: { title: 'v1' } })

    const held = database.hold()
    const slow = readDocument(a, id)
    await held.reached // A's miss has read version 1 and is on its way back, slowly.
    const heard = aOptions.l1 === false ? undefined : a.nextBusMessage()
    await b.prisma.document.update({ where: { id }, data: { title: 'v2', version: { increment: 1 } } })
    await heard
    held.release()

    // It started before the write, so the old value is a fair answer to it, but it is not kept.
    expect(await slow).toBe(1)
    expect(await readDocument(a, id)).toBe(2)
    expect(await readDocument(b, id)).toBe(2)

    // And still after the next bus message and another read cycle on both instances.
    const next = aOptions.l1 === false ? undefined : a.nextBusMessage()
    await b.prisma.document.create({ data: { title: 'unrelated' } })
    await next
    for (const instance of [a, b, a, b]) expect(await readDocument(instance, id)).toBe(2)
  })

  it('leaves nothing served after the write for a findUnique by a non-key unique field', async () => {
    const { a, b, database } = await twoInstances()
    const user = await b.base.user.create({ data: { email: `stale-${bed.prefix}@example.com`, name: 'old' } })
    const byEmail = (instance: Instance) =>
      instance.prisma.user.findUnique({ where: { email: user.email }, cache: true }).then((u) => u?.name)

    const held = database.hold()
    const slow = byEmail(a)
    await held.reached
    const heard = a.nextBusMessage()
    // By id: the read by email knew which record it depends on only after the database answered.
    await b.prisma.user.update({ where: { id: user.id }, data: { name: 'new' } })
    await heard
    held.release()

    expect(await slow).toBe('old')
    for (const instance of [a, b, a, b]) expect(await byEmail(instance)).toBe('new')
  })

  it('does not hand a read that starts after a write on the same instance a slow load that began before it', async () => {
    const { a, database } = await twoInstances()
    const { id } = await a.base.document.create({ data: { title: 'v1' } })
    const held = database.hold()
    const slow = readDocument(a, id)
    await held.reached
    await a.prisma.document.update({ where: { id }, data: { title: 'v2', version: { increment: 1 } } })
    const after = readDocument(a, id)
    held.release()
    expect(await slow).toBe(1)
    expect(await after).toBe(2)
    expect(await readDocument(a, id)).toBe(2)
  })

  it('does not hand a read that starts after the bus delivered a write a slow load that began before it', async () => {
    const { a, b, database } = await twoInstances()
    const { id } = await a.base.document.create({ data: { title: 'v1' } })
    const held = database.hold()
    const slow = readDocument(a, id)
    await held.reached
    const heard = a.nextBusMessage()
    await b.prisma.document.update({ where: { id }, data: { title: 'v2', version: { increment: 1 } } })
    await heard
    const after = readDocument(a, id)
    held.release()
    expect(await slow).toBe(1)
    expect(await after).toBe(2)
  })

  it('gives a lock waiter the new value, not the one its lock holder read before the write', async () => {
    const { a, b, database } = await twoInstances({}, { stampede: { lock: true } })
    const { id } = await b.base.document.create({ data: { title: 'v1' } })

    const held = database.hold()
    const locked = nextEvent(a.events, 'stampede:locked')
    const slow = readDocument(a, id)
    await held.reached
    await locked
    const waiting = nextEvent(b.events, 'stampede:waiting')
    const waiter = readDocument(b, id)
    await waiting
    await b.prisma.document.update({ where: { id }, data: { title: 'v2', version: { increment: 1 } } })
    held.release()

    expect(await slow).toBe(1)
    // The holder's value was refused by L2 (its tag moved): the waiter took the lock and loaded.
    expect(await waiter).toBe(2)
    for (const instance of [a, b, a, b]) expect(await readDocument(instance, id)).toBe(2)
  })
})
