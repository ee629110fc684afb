import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { linkKeyTag, linksTag, linkTag, modelTag, recordTag } from '../../../src/prisma/tags/vocabulary.ts'
import { type AnyPrisma, providers, Testbed } from '../../support/factory.ts'
import { type Pair, pair, type World } from './support.ts'

/**
 * `$cache.explain()` says what the read path stores: the tags captured and stored, the guards
 * captured and only checked, and the tags the result adds, from the entry a tier holds.
 */
const bed = new Testbed()
afterAll(() => bed.cleanup())

describe.each(providers)('$cache.explain() on %s', (provider) => {
  let p: Pair
  let w: World
  beforeAll(async () => {
    p = await pair(bed, provider)
  })

  it('an article by slug with its author and followers: guards apart from the tags, the records reached among the result tags', async () => {
    w = await p.world('explain')
    const author = w.m[1]!
    const args = { where: { slug: w.articles[1]!.slug }, include: { author: { include: { followedBy: true } } } }
    const query = { model: 'Article', operation: 'findUnique', args }
    const before = await p.a.prisma.$cache.explain(query)
    expect(before.guards).toEqual(expect.arrayContaining([modelTag('Member'), linksTag('Member', 'followedBy')]))
    for (const guard of before.guards) expect(before.tags).not.toContain(guard)
    expect(before.tags).toContain(linkKeyTag('Member', 'followedBy', ['id']))
    expect(before.resultTags).toEqual([])

    const db = p.a.prisma as unknown as AnyPrisma
    await db.article.findUnique(args)
    const held = await p.a.prisma.$cache.explain(query)
    expect(held.l1).toBe('fresh')
    // The author and its follower (m[0]), read from the result; the guards are not stored.
    expect(held.resultTags).toEqual(
      expect.arrayContaining([
        recordTag('Member', [author.id]),
        recordTag('Member', [w.m[0]!.id]),
        linkTag('Member', 'followedBy', ['id'], [author.id]),
      ]),
    )
    for (const guard of held.guards) expect(held.resultTags).not.toContain(guard)
  })

  it('a read whose arguments tell everything has no guards', async () => {
    w = await p.world('explain-plain')
    const explained = await p.a.prisma.$cache.explain({
      model: 'Member',
      operation: 'findUnique',
      args: { where: { id: w.m[0]!.id }, include: { _count: { select: { followedBy: true } } } },
    })
    expect(explained.guards).toEqual([])
    expect(explained.tags).toContain(linkTag('Member', 'followedBy', ['id'], [w.m[0]!.id]))
  })
})
