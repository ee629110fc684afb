import { describe, expect, it } from 'vitest'
import { cacheDependencies } from '../../../src/prisma/tags/read-dependencies.ts'
import { dm, read, sorted, write } from './tags-support.ts'

describe('relations a read includes or counts (R4)', () => {
  it('a to-one row selected without its key takes it from the row that points at it', () => {
    const r = read(
      'Article',
      'findUnique',
      {
        where: { slug: 'a' },
        include: { author: { select: { username: true, followedBy: { select: { id: true } } } } },
      },
      { id: 1, slug: 'a', authorId: 3, author: { username: 'u3', followedBy: [{ id: 8 }] } },
    )
    expect(r.tags).toEqual(expect.arrayContaining(['r:Member:3', 'l:Member.followedBy:id:3', 'r:Member:8']))
    expect(r.tags).not.toContain('L:Member.followedBy')
  })

  it('a row selected without its primary key is named by another unique key it shows', () => {
    const r = read(
      'Article',
      'findUnique',
      { where: { id: 1 }, include: { topics: { select: { name: true } } } },
      {
        id: 1,
        topics: [{ name: 't' }],
      },
    )
    expect(r.tags).toEqual(expect.arrayContaining(['w:Topic:name:"t"', 'f:Topic:name']))
    expect(r.tags).not.toContain('m:Topic')
    // The row existed when it was read: creating a topic of that name (a connectOrCreate that found
    // none, say) cannot change it; renaming or deleting it does.
    const created = write('Topic', 'create', { data: { name: 't' } }, { id: 7, name: 't' })
    expect(created).toContain('v:Topic:name:"t"')
    expect(created.filter((tag) => r.tags.includes(tag))).toEqual([])
    const nested = write(
      'Article',
      'update',
      { where: { id: 2 }, data: { topics: { connectOrCreate: { where: { name: 't' }, create: { name: 't' } } } } },
      { id: 2 },
    )
    expect(nested.filter((tag) => r.tags.includes(tag))).toEqual([])
    const renamed = write('Topic', 'update', { where: { name: 't' }, data: { name: 'u' } }, { id: 9, name: 'u' })
    expect(renamed).toContain('w:Topic:name:"t"')
    expect(write('Topic', 'delete', { where: { name: 't' } }, { id: 9, name: 't' })).toContain('w:Topic:name:"t"')
  })

  it('a to-one include names the related record from the result, guarded by its model', () => {
    const r = read('Post', 'findMany', { include: { author: true } }, [
      { id: 1, authorId: 4, author: { id: 4 } },
      { id: 2, authorId: 5, author: { id: 5 } },
    ])
    expect(sorted(r.tags)).toEqual(['a:Post', 'a:User', 'f:User:email', 'm:Post', 'n:User', 'r:User:4', 'r:User:5'])
    expect(r.captured).toContain('m:User')
    expect(r.tags).not.toContain('m:User')
  })

  it('a to-one include that found nothing although the row points somewhere names the record that would appear', () => {
    const r = read('Comment', 'findMany', { include: { author: true } }, [
      { id: 1, authorId: 4, author: null },
      { id: 2, authorId: null, author: null },
    ])
    expect(r.tags).toContain('r:User:4')
    expect(r.tags.filter((t) => t.startsWith('r:'))).toEqual(['r:User:4'])
  })

  it('the children of a record named by its key are tagged by that key before the read', () => {
    const deps = cacheDependencies(dm, 'Post', 'findUnique', {
      where: { id: 1 },
      include: { comments: true, _count: { select: { comments: true } } },
    })
    expect(sorted(deps.tags)).toEqual([
      'a:Comment',
      'a:Post',
      'f:Comment:postId',
      'n:Post',
      'r:Post:1',
      'v:Comment:postId:1',
    ])
    expect(deps.lateTags).toBeUndefined()
  })

  it('the children of rows a list returns are tagged per row, guarded by their model', () => {
    const r = read('Post', 'findMany', { include: { comments: true } }, [
      { id: 1, comments: [] },
      { id: 2, comments: [] },
    ])
    expect(r.tags).toEqual(expect.arrayContaining(['v:Comment:postId:1', 'v:Comment:postId:2', 'f:Comment:postId']))
    expect(r.captured).toContain('m:Comment')
    expect(r.tags).not.toContain('m:Comment')
  })

  it('the children of a record named by another unique field are tagged from the result', () => {
    const r = read(
      'Article',
      'findUnique',
      { where: { slug: 'a' }, include: { replies: true } },
      { id: 7, replies: [] },
    )
    expect(r.tags).toEqual(expect.arrayContaining(['v:Article:slug:"a"', 'v:Reply:articleId:7']))
  })

  it('an implicit many-to-many include tags the links by primary key, and each linked record', () => {
    const byId = read(
      'Post',
      'findUnique',
      { where: { id: 5 }, include: { tags: true } },
      {
        id: 5,
        tags: [{ id: 1 }, { id: 2 }],
      },
    )
    expect(sorted(byId.tags)).toEqual(
      sorted([
        'a:Post',
        'r:Post:5',
        'n:Post',
        'a:Tag',
        'f:Tag:name',
        'l:Post.tags:id:5',
        'L:Post.tags:id',
        'r:Tag:1',
        'r:Tag:2',
      ]),
    )
    const bySlug = read(
      'Article',
      'findUnique',
      { where: { slug: 'a' }, include: { favoritedBy: true } },
      {
        id: 7,
        favoritedBy: [],
      },
    )
    // By another unique field: the primary key from the result, since a link written from the
    // other side names the article by the key its connect gives (an unfavorite by id).
    expect(bySlug.tags).toEqual(expect.arrayContaining(['l:Article.favoritedBy:id:7', 'L:Article.favoritedBy:id']))
    expect(bySlug.tags.some((t) => t.includes('favoritedBy:slug'))).toBe(false)
    // Guarded by the slug the read names (a write names the links by every key it knows), not by any link.
    expect(bySlug.captured).toEqual(
      expect.arrayContaining(['l:Article.favoritedBy:slug:"a"', 'L:Article.favoritedBy:slug']),
    )
    expect(bySlug.captured).not.toContain('L:Article.favoritedBy')
    const list = read('Post', 'findMany', { include: { tags: true } }, [
      { id: 5, tags: [] },
      { id: 6, tags: [{ id: 1 }] },
    ])
    expect(list.tags).toEqual(
      expect.arrayContaining(['l:Post.tags:id:5', 'l:Post.tags:id:6', 'L:Post.tags:id', 'r:Tag:1']),
    )
    expect(list.captured).toEqual(expect.arrayContaining(['L:Post.tags', 'm:Tag']))
  })

  it('a many-to-many include that filters or pages its rows depends on every row of the target', () => {
    for (const sub of [{ where: { name: 'x' } }, { take: 2 }, { skip: 1 }, { cursor: { id: 1 } }]) {
      const r = read('Post', 'findUnique', { where: { id: 5 }, include: { tags: sub } }, { id: 5, tags: [] })
      expect(r.tags).toContain('m:Tag')
    }
  })

  it('_count: true counts every list relation; _count.select the ones named', () => {
    const all = cacheDependencies(dm, 'User', 'findUnique', { where: { id: 1 }, select: { _count: true } })
    expect(all.tags).toEqual(expect.arrayContaining(['v:Post:authorId:1', 'v:Comment:authorId:1']))
    expect(all.tags).not.toContain('v:Profile:userId:1')
    const counted = read('Article', 'findMany', { include: { _count: { select: { favoritedBy: true } } } }, [
      { id: 1, _count: { favoritedBy: 2 } },
    ])
    expect(counted.tags).toEqual(expect.arrayContaining(['m:Article', 'l:Article.favoritedBy:id:1']))
    expect(counted.tags.some((t) => t.startsWith('r:Member'))).toBe(false)
    const filtered = cacheDependencies(dm, 'Article', 'findUnique', {
      where: { id: 1 },
      include: { _count: { select: { favoritedBy: { where: { bio: 'x' } } } } },
    })
    expect(filtered.tags).toContain('m:Member')
  })

  it('rows that lack the fields a rule needs give its guard; so do too many tags', () => {
    const partial = read('Post', 'findMany', { select: { title: true, tags: true } }, [{ title: 't', tags: [] }])
    expect(partial.tags).toContain('L:Post.tags')
    const rows = Array.from({ length: 70 }, (_, i) => ({ id: i, authorId: i, author: { id: i } }))
    const many = read('Post', 'findMany', { include: { author: true } }, rows)
    expect(many.tags).toContain('m:User')
    expect(many.tags.filter((t) => t.startsWith('r:User')).length).toBeLessThan(70)
  })

  it('relations at any depth: the author of a post and the author’s followers, from the result', () => {
    const r = read(
      'Article',
      'findUnique',
      { where: { slug: 'a' }, include: { author: { include: { followedBy: true } } } },
      { id: 7, authorId: 3, author: { id: 3, followedBy: [{ id: 8 }] } },
    )
    expect(r.tags).toEqual(
      expect.arrayContaining(['v:Article:slug:"a"', 'r:Member:3', 'l:Member.followedBy:id:3', 'r:Member:8']),
    )
    expect(r.captured).toEqual(expect.arrayContaining(['m:Member', 'L:Member.followedBy', 'L:Member.followedBy:id']))
  })
})

describe('relation filters, ordering by relations (R5, R6)', () => {
  it('some/none pinned on the other side’s unique value: the links of that record', () => {
    for (const op of ['some', 'none']) {
      // Every row shown: a post deleted leaves only if shown (l:…+ and L:…:name+, not l: and L:…:name).
      expect(
        sorted(cacheDependencies(dm, 'Post', 'findMany', { where: { tags: { [op]: { name: 'x' } } } }).tags),
      ).toEqual([
        'L:Tag.posts:name+',
        'a:Post',
        'a:Tag',
        'f:Tag:name',
        'l:Tag.posts:name:"x"+',
        'm:Post',
        'v:Tag:name:"x"',
      ])
    }
    expect(
      cacheDependencies(dm, 'Article', 'findMany', { where: { author: { followedBy: { some: { id: 9 } } } } }).tags,
    ).toEqual(expect.arrayContaining(['l:Member.following:id:9', 'L:Member.following:id']))
  })

  it('every depends on every link and related row; an unpinned some on every link and the fields it tests', () => {
    expect(cacheDependencies(dm, 'Post', 'findMany', { where: { tags: { every: { name: 'x' } } } }).tags).toEqual(
      expect.arrayContaining(['L:Post.tags', 'm:Tag']),
    )
    const some = cacheDependencies(dm, 'Post', 'findMany', { where: { tags: { some: { name: { startsWith: 'x' } } } } })
    expect(some.tags).toEqual(expect.arrayContaining(['L:Post.tags', 'c:Tag:name']))
    expect(some.tags).not.toContain('m:Tag')
  })

  it('filters over foreign-key relations depend on the related rows they can match', () => {
    // The related rows the filter can match: their creation, the fields it tests, the key that links them.
    const some = cacheDependencies(dm, 'User', 'findMany', { where: { posts: { some: { published: true } } } })
    expect(some.tags).toEqual(
      expect.arrayContaining(['m:User', 'a:Post', 's:Post', 'c:Post:published', 'c:Post:authorId']),
    )
    expect(some.tags).not.toContain('m:Post')
    expect(
      sorted(cacheDependencies(dm, 'Post', 'findMany', { where: { comments: { some: { authorId: 2 } } } }).tags),
    ).toEqual(['a:Comment', 'a:Post', 'f:Comment:authorId', 'm:Post', 'v:Comment:authorId:2'])
    for (const where of [{ profile: null }, { profile: { isNot: null } }, { posts: { every: { published: true } } }]) {
      expect(cacheDependencies(dm, 'User', 'findMany', { where }).tags).toEqual(
        expect.arrayContaining([where.posts ? 'm:Post' : 'm:Profile']),
      )
    }
  })

  it('filters are followed through AND, OR and NOT, at any depth', () => {
    const deep = cacheDependencies(dm, 'Comment', 'count', {
      where: {
        AND: [{ body: 'x' }, { OR: [{ post: { author: { profile: { bio: 'x' } } } }] }],
        NOT: { post: { is: { tags: { some: {} } } } },
      },
    })
    expect(deep.tags).toEqual(
      expect.arrayContaining([
        's:Comment',
        'c:Comment:body',
        'c:Comment:postId',
        'c:Profile:bio',
        'L:Post.tags',
        'a:Tag',
      ]),
    )
    // `tags: { some: {} }` asks whether a link exists: the links tell, not the tags' fields.
    expect(deep.tags).not.toContain('m:Tag')
  })

  it('ordering by a related record depends on its model whole; by a count, on which rows are related', () => {
    const deps = cacheDependencies(dm, 'Post', 'findMany', {
      orderBy: [{ author: { profile: { bio: 'asc' } } }, { tags: { _count: 'desc' } }, { title: 'asc' }],
    })
    expect(deps.tags).toEqual(expect.arrayContaining(['m:Post', 'm:User', 'm:Profile', 'L:Post.tags']))
    expect(deps.tags).not.toContain('m:Tag')
    const byReplies = cacheDependencies(dm, 'Member', 'findMany', { orderBy: { replies: { _count: 'desc' } } })
    expect(byReplies.tags).toEqual(expect.arrayContaining(['s:Reply', 'c:Reply:authorId']))
    expect(byReplies.tags).not.toContain('m:Reply')
  })

  it('lists each tag once', () => {
    const deps = cacheDependencies(dm, 'User', 'findMany', {
      where: { posts: { some: {} }, OR: [{ posts: { none: {} } }] },
      include: { posts: true },
    })
    expect(deps.tags).toEqual([...new Set(deps.tags)])
  })
})
