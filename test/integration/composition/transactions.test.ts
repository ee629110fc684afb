import { afterAll, describe, expect, it } from 'vitest'
import { cachedInstance, type Instance } from '../../support/cached.ts'
import { providers, Testbed } from '../../support/factory.ts'

/** The scope of a write's invalidations is the transaction the write really ran in. */
const bed = new Testbed()
afterAll(() => bed.cleanup())

describe.each(providers)('transaction scope on %s', (provider) => {
  let a: Instance
  const doc = async (title: string) => {
    a ??= await cachedInstance(bed, provider, { auto: true })
    return a.base.document.create({ data: { title } })
  }

  it('an independent batch transaction inside an interactive one invalidates at its own commit', async () => {
    const d = await doc('outer')
    await a.prisma.document.findUnique({ where: { id: d.id } })
    await a.prisma.$transaction(async () => {
      await a.prisma.$transaction([a.prisma.document.update({ where: { id: d.id }, data: { title: 'inner' } })])
      // Read-your-writes: the inner transaction has committed.
      expect((await a.prisma.document.findUnique({ where: { id: d.id } }))?.title).toBe('inner')
    })
  })

  it('an independent write inside a rolled-back interactive transaction leaves the cache equal to the database', async () => {
    const d = await doc('kept')
    await a.prisma.document.findUnique({ where: { id: d.id } })
    await expect(
      a.prisma.$transaction(async () => {
        await a.prisma.document.update({ where: { id: d.id }, data: { title: 'committed outside' } })
        throw new Error('roll back the outer one')
      }),
    ).rejects.toThrow('roll back the outer one')
    // PostgreSQL commits it on its own connection; SQLite's single connection ran it inside the
    // transaction, so it rolled back with it. Either way the cache says what the database says.
    const stored = await a.base.document.findUnique({ where: { id: d.id } })
    expect(stored?.title).toBe(provider === 'postgres' ? 'committed outside' : 'kept')
    expect(await a.prisma.document.findUnique({ where: { id: d.id } })).toEqual(stored)
  })

  it('a transaction started by a timer set inside a finished transaction invalidates at its own commit', async () => {
    const d = await doc('timer')
    await a.prisma.document.findUnique({ where: { id: d.id } })
    let later: Promise<unknown> | undefined
    await a.prisma.$transaction(async (tx) => {
      await tx.document.findMany()
      later = new Promise((resolve) => setTimeout(resolve, 0)).then(() =>
        a.prisma.$transaction([a.prisma.document.update({ where: { id: d.id }, data: { title: 'after' } })]),
      )
    })
    await later
    expect((await a.prisma.document.findUnique({ where: { id: d.id } }))?.title).toBe('after')
  })
})
