import { describe, expect, it } from 'vitest'
import { cacheDependencies } from '../../../src/prisma/tags/read-dependencies.ts'
import { MAX_RESOLVED, resolvedTags } from '../../../src/prisma/tags/resolutions.ts'
import { dm, write } from './tags-support.ts'

/** What a read stores when the lookups beside its load answered `answers` (one row list per lookup). */
function stored(model: string, operation: string, args: object, result: unknown, answers: Record<string, unknown>[][]) {
  const deps = cacheDependencies(dm, model, operation, args, { lookups: true })
  const late = [...(deps.lateTags?.(result) ?? []), ...resolvedTags(deps.resolutions ?? [], answers)]
  return { deps, tags: [...new Set([...deps.tags, ...late])] }
}

const hits = (tags: readonly string[], bumped: readonly string[]) => bumped.filter((t) => tags.includes(t))
const NEWEST = [{ createdAt: 'desc' }, { id: 'desc' }]
const publish = (authorId: number) =>
  write(
    'Article',
    'create',
    { data: { slug: 'n', title: 't', description: 'd', body: 'b', author: { connect: { id: authorId } } } },
    { id: 90, slug: 'n', authorId },
  )
describe('lookups beside the load: tags by the keys writes name records by', () => {
  it('a count of the articles of a member by username depends on the articles created or deleted by that member', () => {
    const args = { where: { author: { username: 'ada' } } }
    const { deps, tags } = stored('Article', 'count', args, 2, [[{ id: 3 }]])
    expect(deps.resolutions?.map((r) => [r.model, r.args.where, r.args.select])).toEqual([
      ['Member', { username: 'ada' }, { id: true }],
    ])
    expect(deps.guards).toContain('s:Article')
    expect(tags).toEqual(
      expect.arrayContaining(['s:Article:authorId:3', 'S:Article:authorId', 'v:Member:username:"ada"']),
    )
    expect(tags).not.toContain('s:Article')
    expect(hits(tags, publish(3))).not.toEqual([])
    expect(hits(tags, publish(4))).toEqual([])
    // Without lookups (a caller that cannot run them): every article created or deleted.
    expect(cacheDependencies(dm, 'Article', 'count', args).tags).toContain('s:Article')
    // A lookup that did not answer gives its guards.
    expect(stored('Article', 'count', args, 2, []).tags).toContain('s:Article')
  })

  it('a member named by id needs no lookup; a member that does not exist gives no key', () => {
    const byId = stored('Article', 'count', { where: { author: { id: 3 } } }, 2, [])
    expect(byId.deps.resolutions).toBeUndefined()
    expect(byId.tags).toEqual(expect.arrayContaining(['s:Article:authorId:3', 'S:Article:authorId']))
    const none = stored('Article', 'count', { where: { author: { username: 'nobody' } } }, 0, [[]])
    expect(none.tags).toContain('v:Member:username:"nobody"')
    expect(none.tags.filter((t) => t.startsWith('s:Article'))).toEqual([])
  })

  it('a feed (articles by the members one follows) depends on the articles of those members, and on whom one follows', () => {
    const args = { where: { author: { followedBy: { some: { id: 7 } } } }, orderBy: NEWEST, take: 10 }
    const { deps, tags } = stored('Article', 'findMany', args, [], [[{ id: 3 }, { id: 4 }]])
    expect(deps.resolutions?.map((r) => r.args.where)).toEqual([{ followedBy: { some: { id: 7 } } }])
    expect(tags).toEqual(
      expect.arrayContaining(['s:Article:authorId:3', 's:Article:authorId:4', 'l:Member.following:id:7']),
    )
    expect(hits(tags, publish(4))).not.toEqual([])
    expect(hits(tags, publish(5))).toEqual([])
    // Following someone else evicts it.
    const follow = write(
      'Member',
      'update',
      { where: { username: 'eve' }, data: { followedBy: { connect: { id: 7 } } } },
      { id: 5, username: 'eve', email: 'e' },
    )
    expect(hits(tags, follow)).not.toEqual([])
    // More members than an entry should carry: every article created or deleted.
    const many = Array.from({ length: MAX_RESOLVED + 1 }, (_, i) => ({ id: i + 1 }))
    expect(stored('Article', 'findMany', args, [], [many]).tags).toContain('s:Article')
  })

  it('a list that shows every row it could lose keeps when a row at the other end is deleted; a page after a skip or a count does not', () => {
    const filter = { topics: { some: { name: 't' } } }
    const removeArticle = write('Article', 'delete', { where: { slug: 'gone' } }, { id: 9, slug: 'gone', authorId: 2 })
    const answers: Record<string, unknown>[][] = []
    const shown = stored('Article', 'findMany', { where: filter, orderBy: NEWEST, take: 10 }, [], answers).tags
    expect(shown).toContain('L:Topic.articles:name+')
    expect(hits(shown, removeArticle)).toEqual([])
    const skipped = stored('Article', 'findMany', { where: filter, orderBy: NEWEST, take: 10, skip: 10 }, [], answers)
    expect(hits(skipped.tags, removeArticle)).toContain('L:Topic.articles:name')
    const counted = stored('Article', 'count', { where: filter }, 3, answers)
    expect(hits(counted.tags, removeArticle)).toContain('L:Topic.articles:name')
    // A page without a total order may show other rows once one goes.
    const unordered = stored('Article', 'findMany', { where: filter, take: 10 }, [], answers)
    expect(unordered.tags).not.toContain('L:Topic.articles:name+')
    // A set unlinks and links topics it does not name: it can give an article a link.
    const unnamed = write('Article', 'update', { where: { id: 1 }, data: { topics: { set: [] } } }, { id: 1 })
    expect(unnamed).toContain('L:Topic.articles:name+')
    expect(hits(shown, unnamed)).not.toEqual([])
  })
})
