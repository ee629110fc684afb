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

describe('lists whose order is total (R3)', () => {
  const newest = [{ createdAt: 'desc' }, { id: 'desc' }]

  it('depend on rows created or deleted, the fields that decide, and each row they return', () => {
    const r = read('Article', 'findMany', { where: { title: { contains: 'x' } }, orderBy: newest, take: 2 }, [
      { id: 4 },
      { id: 2 },
    ])
    expect(sorted(r.tags)).toEqual(
      sorted([
        'a:Article',
        's:Article',
        'c:Article:title',
        'c:Article:createdAt',
        'c:Article:id',
        'f:Article:slug',
        'r:Article:4',
        'r:Article:2',
      ]),
    )
    expect(r.captured).toContain('c:Article')
    expect(r.tags).not.toContain('m:Article')
  })

  it('ordered by a field that can tie, or not ordered, depend on every row', () => {
    for (const orderBy of [undefined, { createdAt: 'desc' }, { author: { username: 'asc' } }]) {
      expect(cacheDependencies(dm, 'Article', 'findMany', { orderBy }).tags).toContain('m:Article')
    }
  })

  it('counts, aggregates and groups depend on the fields they filter, group and aggregate', () => {
    expect(sorted(cacheDependencies(dm, 'Post', 'count', { where: { published: true } }).tags)).toEqual([
      'a:Post',
      'c:Post:published',
      's:Post',
    ])
    expect(
      sorted(cacheDependencies(dm, 'Post', 'aggregate', { where: { published: true }, _sum: { views: true } }).tags),
    ).toEqual(['a:Post', 'c:Post:published', 'c:Post:views', 's:Post'])
    expect(
      sorted(
        cacheDependencies(dm, 'Post', 'groupBy', {
          by: ['authorId'],
          _count: { _all: true },
          orderBy: { authorId: 'asc' },
        }).tags,
      ),
    ).toEqual(['a:Post', 'c:Post:authorId', 's:Post'])
  })

  it('a list every row of which must have a link or a child: new rows enter through those, not s:', () => {
    const tagged = cacheDependencies(dm, 'Article', 'count', { where: { topics: { some: { name: 't' } } } })
    expect(tagged.tags).not.toContain('s:Article')
    expect(tagged.tags).toEqual(expect.arrayContaining(['l:Topic.articles:name:"t"', 'L:Topic.articles:name']))
    expect(cacheDependencies(dm, 'Article', 'count', { where: { topics: { none: { name: 't' } } } }).tags).toContain(
      's:Article',
    )
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
