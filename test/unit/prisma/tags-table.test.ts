import { describe, expect, it } from 'vitest'
import { discardsLoad, evicts, read, write } from './tags-support.ts'

describe('the issue’s table, at the level of tags', () => {
  const favorite = write(
    'Article',
    'update',
    { where: { slug: 'a' }, data: { favoritedBy: { connect: { id: 7 } } } },
    {
      id: 1,
      slug: 'a',
      authorId: 3,
    },
  )
  const articleA = (include: object) =>
    read(
      'Article',
      'findUnique',
      { where: { slug: 'a' }, include },
      { id: 1, slug: 'a', authorId: 3, favoritedBy: [], _count: { favoritedBy: 0 }, author: { id: 3 } },
    )
  const articleB = (include: object) =>
    read(
      'Article',
      'findUnique',
      { where: { slug: 'b' }, include },
      { id: 2, slug: 'b', authorId: 3, favoritedBy: [{ id: 7 }], _count: { favoritedBy: 1 }, author: { id: 3 } },
    )

  it('a favorite evicts the reads that include, count or filter by the relation on either record', () => {
    expect(evicts(favorite, articleA({ favoritedBy: true }))).toBe(true)
    expect(evicts(favorite, articleA({ _count: { select: { favoritedBy: true } } }))).toBe(true)
    expect(evicts(favorite, read('Article', 'findMany', { where: { favoritedBy: { some: { id: 7 } } } }, []))).toBe(
      true,
    )
    expect(
      evicts(
        favorite,
        read('Member', 'findUnique', { where: { id: 7 }, include: { favorites: true } }, { id: 7, favorites: [] }),
      ),
    ).toBe(true)
    expect(
      evicts(
        favorite,
        read('Article', 'findMany', { include: { _count: { select: { favoritedBy: true } } } }, [
          { id: 1, _count: {} },
        ]),
      ),
    ).toBe(true)
  })

  it('a favorite keeps other records and their relations, reads without the relation, lists it cannot change', () => {
    expect(evicts(favorite, articleB({ favoritedBy: true, author: true }))).toBe(false)
    expect(evicts(favorite, articleA({ author: true }))).toBe(false)
    expect(evicts(favorite, read('Member', 'findUnique', { where: { id: 7 } }, { id: 7 }))).toBe(false)
    expect(
      evicts(
        favorite,
        read('Member', 'findUnique', { where: { id: 8 }, include: { favorites: true } }, { id: 8, favorites: [] }),
      ),
    ).toBe(false)
    expect(evicts(favorite, read('Article', 'findMany', { orderBy: { createdAt: 'desc' }, take: 10 }, []))).toBe(false)
    expect(evicts(favorite, read('Article', 'findMany', { where: { favoritedBy: { some: { id: 8 } } } }, []))).toBe(
      false,
    )
    expect(
      evicts(
        favorite,
        read('Article', 'findMany', { include: { _count: { select: { favoritedBy: true } } } }, [
          { id: 2, _count: {} },
        ]),
      ),
    ).toBe(false)
  })

  it('a follow (self many-to-many) evicts the followers of the one and the followings of the other only', () => {
    const follow = write(
      'Member',
      'update',
      { where: { username: 'u3' }, data: { followedBy: { connect: { id: 7 } } } },
      { id: 3, username: 'u3', email: 'e3' },
    )
    const profile = (username: string, id: number) =>
      read('Member', 'findUnique', { where: { username }, include: { followedBy: true } }, { id, followedBy: [] })
    expect(evicts(follow, profile('u3', 3))).toBe(true)
    expect(evicts(follow, profile('u4', 4))).toBe(false)
    const feed = (id: number) =>
      read('Article', 'findMany', { where: { author: { followedBy: { some: { id } } } } }, [])
    expect(evicts(follow, feed(7))).toBe(true)
    expect(evicts(follow, feed(8))).toBe(false)
    expect(evicts(follow, articleA({ author: { include: { followedBy: true } } }))).toBe(true)
    expect(
      evicts(
        follow,
        read(
          'Article',
          'findUnique',
          { where: { slug: 'c' }, include: { author: { include: { followedBy: true } } } },
          { id: 5, authorId: 4, author: { id: 4, followedBy: [] } },
        ),
      ),
    ).toBe(false)
  })

  it('a reply evicts the replies of its article, its counts and the lists it can match; keeps the rest', () => {
    const reply = write(
      'Reply',
      'create',
      { data: { body: 'x', article: { connect: { slug: 'a' } }, author: { connect: { id: 7 } } } },
      { id: 9, articleId: 1, authorId: 7 },
    )
    const repliesOf = (articleId: number) => read('Reply', 'findMany', { where: { articleId } }, [])
    expect(evicts(reply, repliesOf(1))).toBe(true)
    expect(evicts(reply, repliesOf(2))).toBe(false)
    const bySlug = (slug: string, articleId: number) =>
      read('Reply', 'findMany', { where: { article: { slug } } }, [{ id: 1, articleId }])
    expect(evicts(reply, bySlug('a', 1))).toBe(true)
    expect(evicts(reply, bySlug('b', 2))).toBe(false)
    expect(
      evicts(
        reply,
        read(
          'Article',
          'findUnique',
          { where: { id: 1 }, include: { _count: { select: { replies: true } } } },
          { id: 1 },
        ),
      ),
    ).toBe(true)
    expect(
      evicts(
        reply,
        read('Article', 'findUnique', { where: { id: 2 }, include: { replies: true } }, { id: 2, replies: [] }),
      ),
    ).toBe(false)
    expect(evicts(reply, articleA({ author: true }))).toBe(false)
    expect(evicts(reply, read('Reply', 'findMany', { where: { body: { contains: 'x' } } }, []))).toBe(true)
  })

  it('an update of a record’s fields evicts every read that shows it and keeps reads of others', () => {
    const bio = write(
      'Member',
      'update',
      { where: { id: 3 }, data: { bio: 'new' } },
      { id: 3, username: 'u3', email: 'e3' },
    )
    expect(evicts(bio, articleA({ author: true }))).toBe(true)
    expect(
      evicts(
        bio,
        read(
          'Article',
          'findUnique',
          { where: { slug: 'c' }, include: { author: true } },
          { id: 5, authorId: 4, author: { id: 4 } },
        ),
      ),
    ).toBe(false)
    expect(evicts(bio, read('Member', 'findUnique', { where: { username: 'u3' } }, { id: 3 }))).toBe(true)
    expect(evicts(bio, read('Member', 'findUnique', { where: { username: 'u4' } }, { id: 4 }))).toBe(false)
    expect(evicts(bio, read('Member', 'findMany', { where: { bio: 'x' } }, []))).toBe(true)
    const retitle = write(
      'Article',
      'update',
      { where: { id: 1 }, data: { title: 'T' } },
      { id: 1, slug: 'a', authorId: 3 },
    )
    expect(evicts(retitle, read('Article', 'findMany', { where: { authorId: 3 } }, []))).toBe(true)
    expect(evicts(retitle, read('Article', 'findMany', { where: { authorId: 4 } }, []))).toBe(false)
  })

  it('a favorite of another article while an article loads by slug does not discard the load', () => {
    const other = write(
      'Article',
      'update',
      { where: { slug: 'b' }, data: { favoritedBy: { connect: { id: 7 } } } },
      {
        id: 2,
        slug: 'b',
      },
    )
    const bySlug = articleA({ favoritedBy: true, _count: { select: { favoritedBy: true } } })
    expect(discardsLoad(other, bySlug)).toBe(false)
    expect(discardsLoad(favorite, bySlug)).toBe(true)
    // Named from the member's side by id only: the article's slug is unknown, so it does.
    const byId = write(
      'Member',
      'update',
      { where: { id: 7 }, data: { favorites: { disconnect: { id: 2 } } } },
      { id: 7 },
    )
    expect(discardsLoad(byId, bySlug)).toBe(true)
    expect(evicts(byId, bySlug)).toBe(false)
  })

  it('a lookup by a unique value is not discarded by a write to another record while it loads', () => {
    const other = write(
      'Member',
      'update',
      { where: { id: 4 }, data: { bio: 'x' } },
      { id: 4, username: 'u4', email: 'e4' },
    )
    expect(discardsLoad(other, read('Member', 'findUnique', { where: { username: 'u3' } }, { id: 3 }))).toBe(false)
    const same = write(
      'Member',
      'update',
      { where: { id: 3 }, data: { bio: 'x' } },
      { id: 3, username: 'u3', email: 'e3' },
    )
    expect(discardsLoad(same, read('Member', 'findUnique', { where: { username: 'u3' } }, { id: 3 }))).toBe(true)
  })
})
