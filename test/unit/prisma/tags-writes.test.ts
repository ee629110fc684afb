import { describe, expect, it } from 'vitest'
import { buildDataModel } from '../../../src/prisma/schema/datamodel.ts'
import { joinTableInvalidations, rawInvalidations } from '../../../src/prisma/tags/write-invalidations.ts'
import { discardsLoad, dm, evicts, read, runtime, sorted, write } from './tags-support.ts'

describe('what a write of one record invalidates (W1–W3)', () => {
  it('an update of one user by id: its rows, its record, the values its keys hold; not all users', () => {
    const tags = write('User', 'update', { where: { id: 1 }, data: { name: 'Ada' } }, { id: 1, email: 'a@b.c' })
    expect(sorted(tags)).toEqual(['m:User', 'r:User:1', 'v:User:email:"a@b.c"'])
  })

  it('a key value the result does not show falls back to that key’s field tag; a record it cannot name to a:', () => {
    expect(sorted(write('User', 'update', { where: { id: 1 }, data: { name: 'Ada' } }, { id: 1 }))).toEqual([
      'f:User:email',
      'm:User',
      'r:User:1',
    ])
    const unnamed = write(
      'User',
      'update',
      { where: { email: 'a@b.c' }, data: { name: 'Ada' }, select: { name: true } },
      { name: 'Ada' },
    )
    expect(sorted(unnamed)).toEqual(['a:User', 'm:User', 'v:User:email:"a@b.c"'])
  })

  it('a changed key: the value before from the where, after from the result; unknown before is the field tag', () => {
    const named = write(
      'Article',
      'update',
      { where: { slug: 'a' }, data: { slug: 'b' } },
      { id: 1, slug: 'b', authorId: 3 },
    )
    expect(named).toEqual(expect.arrayContaining(['v:Article:slug:"a"', 'v:Article:slug:"b"', 'v:Article:authorId:3']))
    expect(named).not.toContain('f:Article:slug')
    const moved = write(
      'Reply',
      'update',
      { where: { id: 4 }, data: { articleId: 2 } },
      { id: 4, articleId: 2, authorId: 1 },
    )
    expect(moved).toEqual(expect.arrayContaining(['f:Reply:articleId', 'v:Reply:articleId:2', 'v:Reply:authorId:1']))
    const told = write(
      'Reply',
      'update',
      { where: { id: 4, articleId: 1 }, data: { articleId: 2 } },
      { id: 4, articleId: 2 },
    )
    expect(told).toEqual(expect.arrayContaining(['v:Reply:articleId:1', 'v:Reply:articleId:2']))
    expect(told).not.toContain('f:Reply:articleId')
  })

  it('an update that changes the id names the old and the new record, and moves what references it', () => {
    const known = write('Tag', 'update', { where: { id: 1 }, data: { id: 2 } }, { id: 2, name: 'x' })
    // Its join rows follow the key: its own links by both ids, the other side's of any record.
    expect(known).toEqual(
      expect.arrayContaining(['r:Tag:1', 'r:Tag:2', 'l:Tag.posts:id:1', 'l:Tag.posts:id:2', 'L:Post.tags:id']),
    )
    expect(write('Tag', 'update', { where: { name: 'x' }, data: { id: 2 } }, { id: 2 })).toContain('a:Tag')
    expect(write('User', 'update', { where: { id: 1 }, data: { id: 10 } }, { id: 10 })).toEqual(
      expect.arrayContaining(['a:Profile', 'a:Post', 'a:Comment']),
    )
  })

  it('a create names the created record and its values from the result, else from data', () => {
    expect(sorted(write('User', 'create', { data: { email: 'x' } }, { id: 9, email: 'x' }))).toEqual([
      'm:User',
      'r:User:9',
      'v:User:email:"x"',
    ])
    expect(sorted(write('User', 'create', { data: { email: 'x' }, select: { email: true } }, { email: 'x' }))).toEqual([
      'a:User',
      'm:User',
      'v:User:email:"x"',
    ])
    expect(
      sorted(write('Document', 'create', { data: { id: 'd1', title: 't' }, select: { title: true } }, { title: 't' })),
    ).toEqual(['m:Document', 'r:Document:"d1"'])
  })

  it('createMany touches all records; createManyAndReturn names what it returns', () => {
    expect(sorted(write('Tag', 'createMany', { data: [{ name: 'a' }] }, { count: 1 }))).toEqual(['a:Tag', 'm:Tag'])
    expect(
      sorted(
        write('Tag', 'createManyAndReturn', { data: [{ name: 'a' }, { name: 'b' }] }, [
          { id: 1, name: 'a' },
          { id: 2, name: 'b' },
        ]),
      ),
    ).toEqual(['m:Tag', 'r:Tag:1', 'r:Tag:2', 'v:Tag:name:"a"', 'v:Tag:name:"b"'])
    expect(
      write('Tag', 'createManyAndReturn', { data: [{ name: 'a' }], select: { name: true } }, [{ name: 'a' }]),
    ).toContain('a:Tag')
  })

  it('an upsert names the record it returns (the one its where names, when it updated)', () => {
    const tags = write(
      'Tag',
      'upsert',
      { where: { id: 3 }, create: { id: 4, name: 'x' }, update: { name: 'x' } },
      {
        id: 4,
        name: 'x',
      },
    )
    expect(tags).toEqual(expect.arrayContaining(['m:Tag', 'r:Tag:4', 'v:Tag:name:"x"']))
    expect(
      write('Tag', 'upsert', { where: { id: 3 }, create: { name: 'x' }, update: { name: 'y' } }, { id: 3, name: 'y' }),
    ).toEqual(expect.arrayContaining(['r:Tag:3', 'v:Tag:name:"y"', 'f:Tag:name']))
    expect(
      write(
        'Tag',
        'upsert',
        { where: { name: 'x' }, create: { name: 'x' }, update: {}, select: { name: true } },
        {
          name: 'x',
        },
      ),
    ).toContain('a:Tag')
  })

  it('a delete names the record, its values, its links, and follows referential actions', () => {
    expect(sorted(write('Comment', 'delete', { where: { id: 5 } }, { id: 5, postId: 2, authorId: null }))).toEqual([
      'm:Comment',
      'r:Comment:5',
      'v:Comment:authorId:null',
      'v:Comment:postId:2',
    ])
    const tag = write('Tag', 'delete', { where: { name: 'x' } }, { id: 8, name: 'x' })
    expect(tag).toEqual(expect.arrayContaining(['r:Tag:8', 'l:Tag.posts:id:8', 'L:Post.tags:id', 'L:Post.tags']))
    expect(write('Tag', 'delete', { where: { name: 'x' }, select: { name: true } }, { name: 'x' })).toContain('a:Tag')
  })

  it('updateMany, updateManyAndReturn, deleteMany, createMany touch the whole model', () => {
    for (const operation of ['updateMany', 'updateManyAndReturn']) {
      expect(sorted(write('Comment', operation, { where: {}, data: { body: 'x' } }, { count: 2 }))).toEqual([
        'a:Comment',
        'm:Comment',
      ])
    }
    expect(sorted(write('Comment', 'deleteMany', { where: {} }, { count: 2 }))).toEqual(['a:Comment', 'm:Comment'])
  })

  it('a user delete cascades to profile, posts and their comments, and sets comment authors null', () => {
    const tags = write('User', 'delete', { where: { id: 1 } }, { id: 1, email: 'e' })
    expect(tags).toEqual(
      expect.arrayContaining(['m:User', 'r:User:1', 'a:Profile', 'a:Post', 'a:Comment', 'm:Post', 'm:Comment']),
    )
    expect(tags).not.toContain('a:Tag')
    expect(write('User', 'deleteMany', {}, { count: 3 })).toEqual(
      expect.arrayContaining(['a:User', 'a:Post', 'a:Comment']),
    )
  })
})

describe('relations inside data (W5–W7)', () => {
  it('a link on an implicit many-to-many changes the link lists of both records, not their rows', () => {
    const tags = write(
      'Post',
      'update',
      { where: { id: 5 }, data: { tags: { connect: { id: 1 }, disconnect: [{ id: 2 }] } } },
      { id: 5 },
    )
    expect(sorted(tags)).toEqual(
      sorted([
        'L:Post.tags',
        'l:Post.tags:id:5',
        'L:Tag.posts',
        'L:Tag.posts:name',
        'l:Tag.posts:id:1',
        'l:Tag.posts:id:2',
      ]),
    )
  })

  it('set unlinks records it does not name: their side falls back whole', () => {
    expect(write('Post', 'update', { where: { id: 5 }, data: { tags: { set: [] } } }, { id: 5 })).toEqual(
      expect.arrayContaining(['L:Tag.posts:id', 'L:Tag.posts:name', 'l:Post.tags:id:5']),
    )
  })

  it('a connect on a relation whose key lives on the other side changes the other side', () => {
    expect(
      sorted(write('User', 'update', { where: { id: 1 }, data: { posts: { connect: [{ id: 2 }] } } }, { id: 1 })),
    ).toEqual(['a:Post', 'm:Post'])
    for (const op of ['disconnect', 'set']) {
      expect(write('User', 'update', { where: { id: 1 }, data: { profile: { [op]: true } } }, { id: 1 })).toEqual(
        expect.arrayContaining(['m:Profile', 'a:Profile']),
      )
    }
  })

  it('a connect on a relation whose key lives on this side changes this record only', () => {
    expect(
      sorted(write('Post', 'create', { data: { title: 't', author: { connect: { id: 1 } } } }, { id: 5, authorId: 1 })),
    ).toEqual(['m:Post', 'r:Post:5', 'v:Post:authorId:1'])
  })

  it('a nested create adds rows it cannot name: no a:, but n: and the values its data gives', () => {
    const tags = write(
      'User',
      'create',
      { data: { email: 'x', posts: { create: [{ title: 'a', comments: { create: { body: 'b' } } }] } } },
      { id: 1, email: 'x' },
    )
    expect(sorted(tags)).toEqual(
      sorted([
        'm:User',
        'r:User:1',
        'v:User:email:"x"',
        'm:Post',
        'n:Post',
        'f:Post:authorId',
        'm:Comment',
        'n:Comment',
        'f:Comment:postId',
        'f:Comment:authorId',
      ]),
    )
    const linked = write(
      'Post',
      'update',
      { where: { id: 1 }, data: { tags: { connectOrCreate: { where: { name: 'n' }, create: { name: 'n' } } } } },
      { id: 1, authorId: 2 },
    )
    expect(sorted(linked)).toEqual(
      sorted([
        'm:Tag',
        'n:Tag',
        'v:Tag:name:"n"',
        'L:Post.tags',
        'l:Post.tags:id:1',
        'L:Tag.posts',
        'L:Tag.posts:id',
        'l:Tag.posts:name:"n"',
      ]),
    )
  })

  it('nested updates, upserts and deletes at any depth touch the models they reach whole', () => {
    const tags = write(
      'User',
      'update',
      {
        where: { id: 1 },
        data: {
          profile: { upsert: { create: { bio: 'x' }, update: { bio: 'y' } } },
          posts: {
            update: [{ where: { id: 2 }, data: { comments: { updateMany: { where: {}, data: { body: 'z' } } } } }],
          },
        },
      },
      { id: 1 },
    )
    expect(sorted(tags)).toEqual(['a:Comment', 'a:Post', 'a:Profile', 'm:Comment', 'm:Post', 'm:Profile'])
    expect(
      write('User', 'update', { where: { id: 1 }, data: { posts: { deleteMany: { published: false } } } }, { id: 1 }),
    ).toEqual(expect.arrayContaining(['a:Comment', 'a:Post']))
    expect(write('Post', 'update', { where: { id: 1 }, data: { author: { update: { id: 7 } } } }, { id: 1 })).toEqual(
      expect.arrayContaining(['a:User', 'a:Profile', 'a:Comment']),
    )
  })
})

describe('writes the rules cannot read', () => {
  it('a raw write touches every model', () => {
    const tags = rawInvalidations(dm)
    for (const model of dm.models) expect(tags).toEqual(expect.arrayContaining([`m:${model}`, `a:${model}`]))
    expect(tags).toHaveLength(dm.models.length * 2)
  })

  it('an operation it does not know touches everything', () => {
    expect(sorted(write('User', 'frobnicate', {}, null))).toEqual(sorted(rawInvalidations(dm)))
    expect(write('Ghost', 'update', {}, null)).toEqual(expect.arrayContaining(['m:Ghost', 'a:Ghost']))
  })

  it('a model without schema text is written whole, its relations assumed to cascade', () => {
    const data = buildDataModel(
      runtime({ User: 'id:Int name:String posts:Post@PostToUser', Post: 'id:Int authorId:Int author:User@PostToUser' }),
    )
    expect(sorted(write('User', 'update', { where: { id: 1 }, data: { name: 'x' } }, { id: 1 }, data))).toEqual([
      'a:Post',
      'a:User',
      'm:Post',
      'm:User',
    ])
    expect(write('Post', 'create', { data: { author: { connect: { id: 1 } } } }, { id: 1 }, data)).toEqual(
      expect.arrayContaining(['m:User', 'a:User']),
    )
  })

  it('every write touches every database view', () => {
    const data = buildDataModel(
      runtime({ User: 'id:Int name:String', UserInfo: 'id:Int name:String' }),
      'model User {\n  id   Int    @id\n  name String\n}\nview UserInfo {\n  id   Int    @unique\n  name String\n}',
    )
    expect(sorted(write('User', 'update', { where: { id: 1 }, data: { name: 'x' } }, { id: 1 }, data))).toEqual([
      'a:UserInfo',
      'm:User',
      'm:UserInfo',
      'r:User:1',
    ])
  })

  it('a join-table row seen below the client changes the link lists of both models, of any record', () => {
    expect(sorted(joinTableInvalidations(dm, ['Post', 'Tag']))).toEqual(
      sorted(['L:Post.tags', 'L:Post.tags:id', 'L:Tag.posts', 'L:Tag.posts:id', 'L:Tag.posts:name']),
    )
  })
})

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
