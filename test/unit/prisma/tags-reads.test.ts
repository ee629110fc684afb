import { describe, expect, it } from 'vitest'
import { Prisma } from '../../../generated/sqlite/client.ts'
import { RAW_WRITE_OPERATIONS, READ_OPERATIONS, WRITE_OPERATIONS } from '../../../src/prisma/operations.ts'
import { buildDataModel } from '../../../src/prisma/schema/datamodel.ts'
import { cacheDependencies, readDependencies, recordTags } from '../../../src/prisma/tags/read-dependencies.ts'
import { userTag } from '../../../src/prisma/tags/vocabulary.ts'
import { dm, read, runtime, sorted } from './tags-support.ts'

describe('operation names', () => {
  it('lists every read and every write operation of a model', () => {
    expect([...READ_OPERATIONS].sort()).toEqual(
      [
        'aggregate',
        'count',
        'findFirst',
        'findFirstOrThrow',
        'findMany',
        'findUnique',
        'findUniqueOrThrow',
        'groupBy',
      ].sort(),
    )
    expect([...WRITE_OPERATIONS].sort()).toEqual(
      [
        'create',
        'createMany',
        'createManyAndReturn',
        'delete',
        'deleteMany',
        'update',
        'updateMany',
        'updateManyAndReturn',
        'upsert',
      ].sort(),
    )
    expect(RAW_WRITE_OPERATIONS.has('$executeRaw')).toBe(true)
    expect(RAW_WRITE_OPERATIONS.has('$executeRawUnsafe')).toBe(true)
  })

  it('prefixes caller tags with u:', () => {
    expect(userTag('home-feed')).toBe('u:home-feed')
  })
})

describe('the rows a read returns (R1–R3)', () => {
  it('a findUnique by primary key depends on that record, and on its absence being cached', () => {
    expect(cacheDependencies(dm, 'User', 'findUnique', { where: { id: 1 } })).toEqual({
      tags: ['a:User', 'r:User:1', 'n:User'],
      guards: [],
    })
    expect(cacheDependencies(dm, 'User', 'findUniqueOrThrow', { where: { id: 1, email: 'a@b.c' } }).tags).toContain(
      'r:User:1',
    )
  })

  it('a findUnique by a string id quotes it in the record tag', () => {
    expect(cacheDependencies(dm, 'Document', 'findUnique', { where: { id: 'a\tb' } }).tags).toContain(
      'r:Document:"a\\tb"',
    )
  })

  it('a findUnique by another unique field depends on that value, captured before the read: no guard', () => {
    expect(cacheDependencies(dm, 'Member', 'findUnique', { where: { username: 'ada' } })).toEqual({
      tags: ['a:Member', 'v:Member:username:"ada"', 'f:Member:username'],
      guards: [],
    })
    expect(
      cacheDependencies(dm, 'Membership', 'findUnique', { where: { orgId_userId: { orgId: 1, userId: 2 } } }).tags,
    ).toEqual(['a:Membership', 'v:Membership:orgId,userId:1,2', 'f:Membership:orgId,userId'])
  })

  it('lists pinned by a foreign key, a unique or the primary key depend on those values only', () => {
    for (const operation of ['findMany', 'findFirst', 'count', 'aggregate', 'groupBy']) {
      expect(
        sorted(cacheDependencies(dm, 'Post', operation, { where: { authorId: 5, published: true } }).tags),
      ).toEqual(['a:Post', 'f:Post:authorId', 'v:Post:authorId:5'])
    }
    expect(sorted(cacheDependencies(dm, 'Post', 'findMany', { where: { AND: [{ id: 3 }] } }).tags)).toEqual([
      'a:Post',
      'n:Post',
      'r:Post:3',
    ])
    expect(sorted(cacheDependencies(dm, 'Post', 'findMany', { where: { authorId: { in: [1, 2] } } }).tags)).toEqual([
      'a:Post',
      'f:Post:authorId',
      'v:Post:authorId:1',
      'v:Post:authorId:2',
    ])
    expect(cacheDependencies(dm, 'Comment', 'findMany', { where: { authorId: null } }).tags).toContain(
      'v:Comment:authorId:null',
    )
  })

  it('anything else depends on every row: other filters, OR, NOT, operators other than equality', () => {
    for (const where of [
      { published: true },
      { OR: [{ authorId: 1 }, { authorId: 2 }] },
      { NOT: { authorId: 1 } },
      { authorId: { gt: 1 } },
      { title: { equals: 'x', mode: 'insensitive' } },
    ]) {
      expect(cacheDependencies(dm, 'Post', 'findMany', { where }).tags).toEqual(['a:Post', 'm:Post'])
    }
  })

  it('a to-one filter pinned on the related record’s unique value names the foreign key from the result', () => {
    const args = { where: { author: { email: 'ada@x' } } }
    const deps = cacheDependencies(dm, 'Post', 'findMany', args)
    expect(sorted(deps.tags)).toEqual(['a:Post', 'a:User', 'f:Post:authorId', 'f:User:email', 'v:User:email:"ada@x"'])
    expect(deps.guards).toEqual(['m:Post'])
    expect(
      deps.lateTags?.([
        { id: 1, authorId: 4 },
        { id: 2, authorId: 4 },
      ]),
    ).toEqual(['v:Post:authorId:4'])
    // Nothing found, or rows that do not tell: the guard stands for the value.
    expect(deps.lateTags?.([])).toEqual(['m:Post'])
    expect(deps.lateTags?.([{ id: 1 }])).toEqual(['m:Post'])
    // `author: { id: 4 }` is `authorId: 4`.
    const byKey = cacheDependencies(dm, 'Post', 'findMany', { where: { author: { is: { id: 4 } } } })
    expect(byKey.tags).toEqual(expect.arrayContaining(['f:Post:authorId', 'v:Post:authorId:4']))
    expect(byKey.tags).not.toContain('m:Post')
    expect(byKey.lateTags).toBeUndefined()
  })

  it('a cursor depends on the record it names, wherever it is', () => {
    expect(
      sorted(cacheDependencies(dm, 'Post', 'findMany', { where: { authorId: 1 }, cursor: { id: 3 }, take: 2 }).tags),
    ).toEqual(['a:Post', 'f:Post:authorId', 'n:Post', 'r:Post:3', 'v:Post:authorId:1'])
  })

  it('a unique field the database compares loosely names nothing: the result names the record, guarded by the model', () => {
    const schema = (provider: string, attribute = '') => `datasource db {
        provider = "${provider}"
      }
      model Account {
        id    Int    @id
        login String @unique ${attribute}
      }`
    const model = runtime({ Account: 'id:Int login:String' })
    for (const data of [
      buildDataModel(model, schema('mysql')),
      buildDataModel(model, schema('sqlserver')),
      buildDataModel(model, schema('postgresql', '@db.Citext')),
      buildDataModel(model, schema('postgresql', '@db.Char(8)')),
    ]) {
      const deps = cacheDependencies(data, 'Account', 'findUnique', { where: { login: 'Ada' } })
      expect(deps.tags).toEqual(['a:Account'])
      expect(deps.guards).toEqual(['m:Account'])
      expect(deps.lateTags?.({ id: 3, login: 'ada' })).toEqual(['r:Account:3'])
      expect(deps.lateTags?.(null)).toEqual(['m:Account'])
    }
    const exact = buildDataModel(model, schema('postgresql', '@db.VarChar(8)'))
    expect(cacheDependencies(exact, 'Account', 'findUnique', { where: { login: 'Ada' } }).tags).toContain(
      'v:Account:login:"Ada"',
    )
  })

  it('a key read from a where matches the one a result gives, whatever type the where used', () => {
    const data = buildDataModel(
      runtime({ Event: 'id:BigInt', Day: 'at:DateTime', Price: 'amount:Decimal' }),
      `model Event {
        id BigInt @id
      }
      model Day {
        at DateTime @id
      }
      model Price {
        amount Decimal @id
      }`,
    )
    expect(cacheDependencies(data, 'Event', 'findUnique', { where: { id: 5 } }).tags).toContain(
      recordTags(data, 'Event', { id: 5n })?.[0],
    )
    const at = new Date('2026-01-02T00:00:00.000Z')
    expect(cacheDependencies(data, 'Day', 'findUnique', { where: { at: '2026-01-02T02:00:00+02:00' } }).tags).toContain(
      recordTags(data, 'Day', { at })?.[0],
    )
    // A decimal written as a string could be spelled many ways: the result decides.
    const spelled = cacheDependencies(data, 'Price', 'findUnique', { where: { amount: '1.50' } })
    expect(spelled.lateTags?.({ amount: new Prisma.Decimal('1.5') })).toEqual(
      recordTags(data, 'Price', { amount: new Prisma.Decimal('1.5') })?.slice(0, 1),
    )
    expect(
      cacheDependencies(data, 'Price', 'findUnique', { where: { amount: new Prisma.Decimal('1.50') } }).tags,
    ).toContain(recordTags(data, 'Price', { amount: new Prisma.Decimal('1.5') })?.[0])
  })

  it('readDependencies, for a caller without guards, stores the guards as tags', () => {
    const args = { where: { author: { email: 'ada@x' } }, include: { author: true } }
    const deps = cacheDependencies(dm, 'Post', 'findMany', args)
    expect(readDependencies(dm, 'Post', 'findMany', args).tags).toEqual([...deps.tags, ...deps.guards])
  })
})

describe('relations a read includes or counts (R4)', () => {
  it('a to-one include names the related record from the result, guarded by its model', () => {
    const r = read('Post', 'findMany', { include: { author: true } }, [
      { id: 1, authorId: 4, author: { id: 4 } },
      { id: 2, authorId: 5, author: { id: 5 } },
    ])
    expect(sorted(r.tags)).toEqual(['a:Post', 'a:User', 'm:Post', 'n:User', 'r:User:4', 'r:User:5'])
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

  it('an implicit many-to-many include tags the links by the key the read names, and each linked record', () => {
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
      sorted(['a:Post', 'r:Post:5', 'n:Post', 'a:Tag', 'l:Post.tags:id:5', 'L:Post.tags:id', 'r:Tag:1', 'r:Tag:2']),
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
    expect(bySlug.tags).toEqual(
      expect.arrayContaining(['l:Article.favoritedBy:slug:"a"', 'L:Article.favoritedBy:slug']),
    )
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
      expect(
        sorted(cacheDependencies(dm, 'Post', 'findMany', { where: { tags: { [op]: { name: 'x' } } } }).tags),
      ).toEqual([
        'L:Tag.posts:name',
        'a:Post',
        'a:Tag',
        'f:Tag:name',
        'l:Tag.posts:name:"x"',
        'm:Post',
        'v:Tag:name:"x"',
      ])
    }
    expect(
      cacheDependencies(dm, 'Article', 'findMany', { where: { author: { followedBy: { some: { id: 9 } } } } }).tags,
    ).toEqual(expect.arrayContaining(['l:Member.following:id:9', 'L:Member.following:id']))
  })

  it('every, or an unpinned filter, depends on every link and every related row', () => {
    for (const filter of [{ every: { name: 'x' } }, { some: { name: { startsWith: 'x' } } }]) {
      expect(cacheDependencies(dm, 'Post', 'findMany', { where: { tags: filter } }).tags).toEqual(
        expect.arrayContaining(['L:Post.tags', 'm:Tag']),
      )
    }
  })

  it('filters over foreign-key relations depend on the related rows they can match', () => {
    expect(cacheDependencies(dm, 'User', 'findMany', { where: { posts: { some: { published: true } } } }).tags).toEqual(
      expect.arrayContaining(['m:User', 'm:Post', 'a:Post']),
    )
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
    expect(deep.tags).toEqual(expect.arrayContaining(['m:Comment', 'm:Profile', 'L:Post.tags', 'a:Tag']))
    // `tags: { some: {} }` asks whether a link exists: the links tell, not the tags' fields.
    expect(deep.tags).not.toContain('m:Tag')
  })

  it('ordering by a relation depends on the related model whole', () => {
    const deps = cacheDependencies(dm, 'Post', 'findMany', {
      orderBy: [{ author: { profile: { bio: 'asc' } } }, { tags: { _count: 'desc' } }, { title: 'asc' }],
    })
    expect(deps.tags).toEqual(expect.arrayContaining(['m:User', 'm:Profile', 'm:Tag', 'L:Post.tags']))
  })

  it('lists each tag once', () => {
    const deps = cacheDependencies(dm, 'User', 'findMany', {
      where: { posts: { some: {} }, OR: [{ posts: { none: {} } }] },
      include: { posts: true },
    })
    expect(deps.tags).toEqual([...new Set(deps.tags)])
  })
})

describe('what the schema cannot describe', () => {
  it('a model without schema text is read whole, relations included', () => {
    const data = buildDataModel(
      runtime({ User: 'id:Int name:String posts:Post@PostToUser', Post: 'id:Int authorId:Int author:User@PostToUser' }),
    )
    expect(cacheDependencies(data, 'User', 'findUnique', { where: { id: 1 } })).toEqual({
      tags: ['m:User', 'a:User'],
      guards: [],
    })
    expect(
      sorted(cacheDependencies(data, 'Post', 'findMany', { where: { author: { some: { name: 'x' } } } }).tags),
    ).toEqual(['a:Post', 'a:User', 'm:Post', 'm:User'])
    expect(recordTags(data, 'User', { id: 1 })).toBeNull()
  })

  it('a view is read whole, even by a unique field', () => {
    const data = buildDataModel(
      runtime({ UserInfo: 'id:Int name:String' }),
      'view UserInfo {\n  id   Int    @unique\n  name String\n}',
    )
    expect(cacheDependencies(data, 'UserInfo', 'findUnique', { where: { id: 1 } }).tags).toEqual([
      'm:UserInfo',
      'a:UserInfo',
    ])
  })

  it('a model it does not know is read whole', () => {
    expect(cacheDependencies(dm, 'Ghost', 'findMany', {}).tags).toEqual(['m:Ghost', 'a:Ghost'])
  })
})

describe('compound keys', () => {
  const data = buildDataModel(
    runtime({ Seat: 'row:Int col:Int label:String', Pair: 'a:String b:String', Slot: 'a:Int b:Int' }),
    `model Slot {
      a Int
      b Int
      @@unique([a, b])
    }
    model Seat {
      row   Int
      col   Int
      label String @unique
      @@id([row, col])
    }
    model Pair {
      a String
      b String
      @@id([a, b], name: "ab")
    }`,
  )

  it('a read by the compound selector depends on that record', () => {
    expect(cacheDependencies(data, 'Seat', 'findUnique', { where: { row_col: { row: 1, col: 2 } } }).tags).toContain(
      'r:Seat:1,2',
    )
    expect(cacheDependencies(data, 'Pair', 'findUnique', { where: { ab: { a: 'x', b: 'y' } } }).tags).toContain(
      'r:Pair:"x","y"',
    )
    expect(cacheDependencies(data, 'Slot', 'findUnique', { where: { a_b: { a: 1, b: 2 } } }).tags).toContain(
      'r:Slot:1,2',
    )
    expect(recordTags(data, 'Slot', { a: 1, b: 2 })).toEqual(['r:Slot:1,2', 'a:Slot'])
  })

  it('a read by another unique field with the key pinned in extra filters still names the record', () => {
    expect(cacheDependencies(data, 'Seat', 'findUnique', { where: { label: 'A1', row: 1, col: 2 } }).tags).toContain(
      'r:Seat:1,2',
    )
  })
})
