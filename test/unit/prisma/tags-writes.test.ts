import { describe, expect, it } from 'vitest'
import { buildDataModel } from '../../../src/prisma/schema/datamodel.ts'
import { joinTableInvalidations, rawInvalidations } from '../../../src/prisma/tags/write-invalidations.ts'
import { dm, runtime, sorted, write } from './tags-support.ts'

describe('what a write of one record invalidates (W1–W3)', () => {
  it('an update of one user by id: its rows, its record, the values its keys hold; not all users', () => {
    const tags = write('User', 'update', { where: { id: 1 }, data: { name: 'Ada' } }, { id: 1, email: 'a@b.c' })
    expect(sorted(tags)).toEqual([
      'c:User',
      'c:User:name',
      'm:User',
      'r:User:1',
      'v:User:email:"a@b.c"',
      'w:User:email:"a@b.c"',
    ])
  })

  it('a key value the result does not show falls back to that key’s field tag; a record it cannot name to a:', () => {
    expect(sorted(write('User', 'update', { where: { id: 1 }, data: { name: 'Ada' } }, { id: 1 }))).toEqual([
      'c:User',
      'c:User:name',
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
    expect(sorted(unnamed)).toEqual([
      'a:User',
      'c:User',
      'c:User:name',
      'm:User',
      'v:User:email:"a@b.c"',
      'w:User:email:"a@b.c"',
    ])
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
      's:User',
      'v:User:email:"x"',
    ])
    expect(sorted(write('User', 'create', { data: { email: 'x' }, select: { email: true } }, { email: 'x' }))).toEqual([
      'a:User',
      'm:User',
      's:User',
      'v:User:email:"x"',
    ])
    expect(
      sorted(write('Document', 'create', { data: { id: 'd1', title: 't' }, select: { title: true } }, { title: 't' })),
    ).toEqual(['m:Document', 'r:Document:"d1"', 's:Document'])
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
    ).toEqual(['m:Tag', 'r:Tag:1', 'r:Tag:2', 's:Tag', 'v:Tag:name:"a"', 'v:Tag:name:"b"'])
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
      'c:Comment',
      'm:Comment',
      'r:Comment:5',
      's:Comment',
      's:Comment:postId:2',
      'v:Comment:authorId:null',
      'v:Comment:postId:2',
    ])
    const tag = write('Tag', 'delete', { where: { name: 'x' } }, { id: 8, name: 'x' })
    expect(tag).toEqual(expect.arrayContaining(['r:Tag:8', 'l:Tag.posts:id:8', 'L:Post.tags:id', 'L:Post.tags']))
    // The posts it was linked to only lose that link: no L:Post.tags:id+ (what a list that shows
    // every post it could lose carries instead of L:Post.tags:id).
    expect(tag).not.toContain('L:Post.tags:id+')
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

describe('the fields and rows a write changes, for the lists they decide (W1)', () => {
  it('an update names each field it changes, with @updatedAt; a link-only update none', () => {
    const edit = write(
      'Article',
      'update',
      { where: { slug: 'a' }, data: { title: 'T' } },
      { id: 1, slug: 'a', authorId: 2 },
    )
    expect(edit).toEqual(expect.arrayContaining(['c:Article', 'c:Article:title', 'c:Article:updatedAt']))
    expect(edit).not.toContain('s:Article')
    const link = write(
      'Article',
      'update',
      { where: { slug: 'a' }, data: { favoritedBy: { connect: { id: 1 } } } },
      { id: 1 },
    )
    expect(link.some((t) => /^[csm]:/.test(t))).toBe(false)
  })

  it('a create or a delete changes which rows exist; an upsert may do either', () => {
    expect(
      write(
        'Reply',
        'create',
        { data: { body: 'b', articleId: 1, authorId: 2 } },
        { id: 3, articleId: 1, authorId: 2 },
      ),
    ).toContain('s:Reply')
    expect(write('Reply', 'delete', { where: { id: 3 } }, { id: 3, articleId: 1, authorId: 2 })).toEqual(
      expect.arrayContaining(['s:Reply', 'c:Reply']),
    )
    expect(
      write('Tag', 'upsert', { where: { id: 3 }, create: { name: 'x' }, update: { name: 'y' } }, { id: 3, name: 'y' }),
    ).toEqual(expect.arrayContaining(['s:Tag', 'c:Tag', 'c:Tag:name']))
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
        'l:Post.tags:id:5+',
        'L:Tag.posts',
        'L:Tag.posts:name',
        'L:Tag.posts:name+',
        'l:Tag.posts:id:1',
        'l:Tag.posts:id:1+',
        'l:Tag.posts:id:2',
        'l:Tag.posts:id:2+',
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
    ).toEqual(['m:Post', 'r:Post:5', 's:Post', 's:Post:authorId:1', 'v:Post:authorId:1'])
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
        's:User',
        'v:User:email:"x"',
        'm:Post',
        'n:Post',
        's:Post',
        'f:Post:authorId',
        'S:Post:authorId',
        'm:Comment',
        'n:Comment',
        's:Comment',
        'f:Comment:postId',
        'f:Comment:authorId',
        'S:Comment:postId',
        'S:Comment:authorId',
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
        's:Tag',
        'v:Tag:name:"n"',
        'L:Post.tags',
        'l:Post.tags:id:1',
        'l:Post.tags:id:1+',
        'L:Tag.posts',
        'L:Tag.posts:id',
        'L:Tag.posts:id+',
        'l:Tag.posts:name:"n"',
        'l:Tag.posts:name:"n"+',
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
      'c:User',
      'c:User:name',
      'm:User',
      'm:UserInfo',
      'r:User:1',
    ])
  })

  it('a join-table row seen below the client changes the link lists of both models, of any record', () => {
    expect(sorted(joinTableInvalidations(dm, ['Post', 'Tag']))).toEqual(
      sorted([
        'L:Post.tags',
        'L:Post.tags:id',
        'L:Post.tags:id+',
        'L:Tag.posts',
        'L:Tag.posts:id',
        'L:Tag.posts:name',
        'L:Tag.posts:id+',
        'L:Tag.posts:name+',
      ]),
    )
  })
})
