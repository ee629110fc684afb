import { afterAll, describe, expect, it } from 'vitest'
import { Prisma } from '../../../generated/sqlite/client.ts'
import { providers, Testbed } from '../../support/factory.ts'

const bed = new Testbed()
afterAll(() => bed.cleanup())

describe.each(providers)('the test schema on %s', (provider) => {
  it('round-trips a row with every field type through Prisma', async () => {
    const prisma = await bed.prisma(provider)
    const cover = new Uint8Array([0, 1, 2, 254, 255])
    const createdAt = new Date('2026-01-02T03:04:05.678Z')
    const user = await prisma.user.create({
      data: {
        email: `ada-${provider}@example.com`,
        name: 'Ada',
        profile: { create: { bio: 'mathematician' } },
        posts: {
          create: {
            title: 'Notes',
            views: 9_007_199_254_740_993n,
            price: new Prisma.Decimal('12.34'),
            cover,
            meta: { tags: ['a', 'b'], nested: { ok: true } },
            createdAt,
            tags: { create: [{ name: `math-${provider}` }] },
          },
        },
      },
    })
    const post = await prisma.post.findFirstOrThrow({
      where: { authorId: user.id },
      include: { tags: true, author: { include: { profile: true } } },
    })
    expect(post.views).toBe(9_007_199_254_740_993n)
    expect(Prisma.Decimal.isDecimal(post.price)).toBe(true)
    expect(post.price.toString()).toBe('12.34')
    expect(new Uint8Array(post.cover ?? [])).toEqual(cover)
    expect(post.meta).toEqual({ tags: ['a', 'b'], nested: { ok: true } })
    expect(post.createdAt).toEqual(createdAt)
    expect(post.tags.map((t) => t.name)).toEqual([`math-${provider}`])
    expect(post.author.profile?.bio).toBe('mathematician')

    const membership = await prisma.membership.create({ data: { orgId: 1, userId: user.id, role: 'admin' } })
    await expect(prisma.membership.create({ data: { orgId: 1, userId: user.id, role: 'x' } })).rejects.toThrow()
    expect(await prisma.membership.findUnique({ where: { orgId_userId: { orgId: 1, userId: user.id } } })).toEqual(
      membership,
    )
    const doc = await prisma.document.create({ data: { title: 'spec' } })
    expect(doc.id).toMatch(/^[0-9a-f-]{36}$/)

    await prisma.user.delete({ where: { id: user.id } })
    expect(await prisma.post.count({ where: { authorId: user.id } })).toBe(0)
    expect(await prisma.profile.count({ where: { userId: user.id } })).toBe(0)
  })
})
