import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import { describe, expect, it } from 'vitest'
import { PrismaClient as PostgresClient } from '../../../generated/postgres/client.ts'
import { Prisma, PrismaClient as SqliteClient } from '../../../generated/sqlite/client.ts'
import { RAW_WRITE_OPERATIONS, READ_OPERATIONS, WRITE_OPERATIONS } from '../../../src/prisma/operations.ts'
import {
  buildDataModel,
  clientDataModel,
  type RuntimeDataModel,
  type RuntimeField,
} from '../../../src/prisma/schema/datamodel.ts'
import { readDependencies, recordTags } from '../../../src/prisma/tags/read-dependencies.ts'
import { userTag } from '../../../src/prisma/tags/vocabulary.ts'
import { rawInvalidations, writeInvalidations } from '../../../src/prisma/tags/write-invalidations.ts'

const sqlite = clientDataModel(new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: 'file::memory:' }) }))
const postgres = clientDataModel(
  new PostgresClient({ adapter: new PrismaPg({ connectionString: 'postgresql://nobody@127.0.0.1:1/none' }) }),
)

/** `name:Type` for a scalar, `name:Target@RelationName` for a relation, as the client holds them. */
function runtime(models: Record<string, string>): RuntimeDataModel {
  const out: Record<string, { fields: RuntimeField[] }> = {}
  for (const [name, spec] of Object.entries(models)) {
    out[name] = {
      fields: spec
        .trim()
        .split(/\s+/)
        .map((item) => {
          const [field, type = ''] = item.split(':') as [string, string?]
          const [target, relationName] = type.split('@') as [string, string?]
          return relationName === undefined
            ? { name: field, kind: 'scalar', type }
            : { name: field, kind: 'object', type: target, relationName }
        }),
    }
  }
  return { models: out }
}

const sorted = (tags: readonly string[] | null) => [...(tags ?? [])].sort()

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

describe.each([
  ['sqlite', sqlite],
  ['postgres', postgres],
])('what a read depends on (%s schema)', (_provider, dm) => {
  it('a findUnique by primary key depends on that record and on all records of its model', () => {
    expect(readDependencies(dm, 'User', 'findUnique', { where: { id: 1 } })).toEqual({ tags: ['r:User:1', 'a:User'] })
    expect(readDependencies(dm, 'User', 'findUniqueOrThrow', { where: { id: 1, email: 'a@b.c' } })).toEqual({
      tags: ['r:User:1', 'a:User'],
    })
  })

  it('a findUnique by a string id quotes it in the record tag', () => {
    expect(readDependencies(dm, 'Document', 'findUnique', { where: { id: 'a\tb' } }).tags).toEqual([
      'r:Document:"a\\tb"',
      'a:Document',
    ])
  })

  it('a findUnique by another unique field leaves the record to the result', () => {
    expect(readDependencies(dm, 'User', 'findUnique', { where: { email: 'a@b.c' } })).toEqual({
      tags: [],
      recordsOf: 'User',
    })
    expect(
      readDependencies(dm, 'Membership', 'findUnique', { where: { orgId_userId: { orgId: 1, userId: 2 } } }),
    ).toEqual({ tags: [], recordsOf: 'Membership' })
    expect(readDependencies(dm, 'User', 'findUnique', { where: { email: 'a@b.c' }, include: { posts: true } })).toEqual(
      {
        tags: ['m:Post'],
        recordsOf: 'User',
      },
    )
  })

  it('a findUnique whose id is a filter rather than a value leaves the record to the result', () => {
    expect(readDependencies(dm, 'User', 'findUnique', { where: { email: 'x', id: { gt: 1 } } }).recordsOf).toBe('User')
  })

  it('list-like reads depend on the whole model', () => {
    for (const operation of ['findFirst', 'findFirstOrThrow', 'findMany', 'count', 'aggregate', 'groupBy']) {
      expect(readDependencies(dm, 'Post', operation, { where: { id: 1 } })).toEqual({ tags: ['m:Post'] })
    }
  })

  it('include and select of relations add the related models, at any depth', () => {
    const deps = readDependencies(dm, 'User', 'findMany', {
      include: { posts: { include: { tags: true }, where: { comments: { some: {} } } } },
      select: { profile: { select: { bio: true } } },
    })
    expect(sorted(deps.tags)).toEqual(['m:Comment', 'm:Post', 'm:Profile', 'm:Tag', 'm:User'])
    const nested = readDependencies(dm, 'Comment', 'findMany', {
      select: { post: { select: { author: { select: { profile: true } } } } },
    })
    expect(sorted(nested.tags)).toEqual(['m:Comment', 'm:Post', 'm:Profile', 'm:User'])
  })

  it('a relation set to false adds nothing', () => {
    expect(readDependencies(dm, 'User', 'findMany', { include: { posts: false } }).tags).toEqual(['m:User'])
  })

  it('_count: true depends on every list relation, _count.select on the ones named', () => {
    expect(sorted(readDependencies(dm, 'User', 'findMany', { select: { _count: true } }).tags)).toEqual([
      'm:Comment',
      'm:Post',
      'm:User',
    ])
    const named = readDependencies(dm, 'User', 'findMany', {
      include: { _count: { select: { posts: { where: { tags: { some: { name: 'x' } } } }, comments: false } } },
    })
    expect(sorted(named.tags)).toEqual(['m:Post', 'm:Tag', 'm:User'])
  })

  it('relation filters in where add the related models, through AND, OR and NOT', () => {
    const filters = [
      { posts: { some: { title: 'x' } } },
      { posts: { every: { published: true } } },
      { posts: { none: {} } },
      { profile: { is: { bio: 'x' } } },
      { profile: { isNot: null } },
      { profile: null },
    ]
    for (const where of filters) {
      expect(sorted(readDependencies(dm, 'User', 'findMany', { where }).tags)).toEqual(
        sorted(['m:User', where.posts ? 'm:Post' : 'm:Profile']),
      )
    }
    const deep = readDependencies(dm, 'Comment', 'count', {
      where: {
        AND: [{ body: 'x' }, { OR: [{ post: { author: { profile: { bio: 'x' } } } }] }],
        NOT: { post: { is: { tags: { some: {} } } } },
      },
    })
    expect(sorted(deep.tags)).toEqual(['m:Comment', 'm:Post', 'm:Profile', 'm:Tag', 'm:User'])
  })

  it('ordering by a relation adds the related models', () => {
    const deps = readDependencies(dm, 'Post', 'findMany', {
      orderBy: [{ author: { profile: { bio: 'asc' } } }, { comments: { _count: 'desc' } }, { title: 'asc' }],
      cursor: { id: 3 },
    })
    expect(sorted(deps.tags)).toEqual(['m:Comment', 'm:Post', 'm:Profile', 'm:User'])
  })

  it('lists each tag once', () => {
    const deps = readDependencies(dm, 'User', 'findMany', {
      where: { posts: { some: {} }, OR: [{ posts: { none: {} } }] },
      include: { posts: true },
    })
    expect(deps.tags).toEqual(['m:User', 'm:Post'])
  })
})

describe('the record tags of a result', () => {
  it('name the record by its primary key', () => {
    expect(recordTags(sqlite, 'User', { id: 7, email: 'a@b.c' })).toEqual(['r:User:7', 'a:User'])
  })

  it('are null without a result or without its primary key', () => {
    expect(recordTags(sqlite, 'User', null)).toBeNull()
    expect(recordTags(sqlite, 'User', { email: 'a@b.c' })).toBeNull()
  })

  it('match the tags of a read by the same key whatever type the where used', () => {
    const dm = buildDataModel(
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
    expect(readDependencies(dm, 'Event', 'findUnique', { where: { id: 5 } }).tags[0]).toBe(
      recordTags(dm, 'Event', { id: 5n })?.[0],
    )
    const at = new Date('2026-01-02T00:00:00.000Z')
    expect(readDependencies(dm, 'Day', 'findUnique', { where: { at: '2026-01-02T02:00:00+02:00' } }).tags[0]).toBe(
      recordTags(dm, 'Day', { at })?.[0],
    )
    // A decimal written as a string could be spelled many ways: the result decides.
    expect(readDependencies(dm, 'Price', 'findUnique', { where: { amount: '1.50' } }).recordsOf).toBe('Price')
    expect(readDependencies(dm, 'Price', 'findUnique', { where: { amount: new Prisma.Decimal('1.50') } }).tags[0]).toBe(
      recordTags(dm, 'Price', { amount: new Prisma.Decimal('1.5') })?.[0],
    )
  })
})

describe('compound primary keys', () => {
  const dm = buildDataModel(
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
    expect(readDependencies(dm, 'Seat', 'findUnique', { where: { row_col: { row: 1, col: 2 } } }).tags).toEqual([
      'r:Seat:1,2',
      'a:Seat',
    ])
    expect(readDependencies(dm, 'Pair', 'findUnique', { where: { ab: { a: 'x', b: 'y' } } }).tags).toEqual([
      'r:Pair:"x","y"',
      'a:Pair',
    ])
  })

  it('a model without an id is identified by its compound unique selector', () => {
    expect(readDependencies(dm, 'Slot', 'findUnique', { where: { a_b: { a: 1, b: 2 } } }).tags).toEqual([
      'r:Slot:1,2',
      'a:Slot',
    ])
    expect(recordTags(dm, 'Slot', { a: 1, b: 2 })).toEqual(['r:Slot:1,2', 'a:Slot'])
  })

  it('a read by another unique field with the key pinned in extra filters still names the record', () => {
    expect(readDependencies(dm, 'Seat', 'findUnique', { where: { label: 'A1', row: 1, col: 2 } }).tags).toEqual([
      'r:Seat:1,2',
      'a:Seat',
    ])
  })

  it('a write by the compound selector names the record', () => {
    const tags = writeInvalidations(
      dm,
      'Seat',
      'update',
      { where: { row_col: { row: 1, col: 2 } }, data: { label: 'B' } },
      {
        label: 'B',
      },
    )
    expect(sorted(tags)).toEqual(['m:Seat', 'r:Seat:1,2'])
  })
})

describe('what a write invalidates', () => {
  const dm = sqlite

  it('an update of one user by id touches that user only, not all users', () => {
    const tags = writeInvalidations(dm, 'User', 'update', { where: { id: 1 }, data: { name: 'Ada' } }, { id: 1 })
    expect(sorted(tags)).toEqual(['m:User', 'r:User:1'])
    expect(tags).not.toContain('a:User')
  })

  it('an update by another unique field names the record from the result', () => {
    const tags = writeInvalidations(
      dm,
      'User',
      'update',
      { where: { email: 'a@b.c' }, data: { name: 'Ada' } },
      { id: 4 },
    )
    expect(sorted(tags)).toEqual(['m:User', 'r:User:4'])
  })

  it('an update by another unique field whose result lacks the id touches all records', () => {
    const tags = writeInvalidations(
      dm,
      'User',
      'update',
      { where: { email: 'a@b.c' }, data: { name: 'Ada' }, select: { name: true } },
      { name: 'Ada' },
    )
    expect(sorted(tags)).toEqual(['a:User', 'm:User'])
  })

  it('an update that changes the id names the old and the new record when both are known', () => {
    const known = writeInvalidations(dm, 'Tag', 'update', { where: { id: 1 }, data: { id: 2 } }, { id: 2 })
    expect(sorted(known)).toEqual(['m:Post', 'm:Tag', 'r:Tag:1', 'r:Tag:2'])
    const unknown = writeInvalidations(dm, 'Tag', 'update', { where: { name: 'x' }, data: { id: 2 } }, { id: 2 })
    expect(unknown).toContain('a:Tag')
  })

  it('a create names the created record from the result, or touches all records when it cannot', () => {
    expect(sorted(writeInvalidations(dm, 'User', 'create', { data: { email: 'x' } }, { id: 9 }))).toEqual([
      'm:User',
      'r:User:9',
    ])
    expect(
      sorted(
        writeInvalidations(dm, 'User', 'create', { data: { email: 'x' }, select: { email: true } }, { email: 'x' }),
      ),
    ).toEqual(['a:User', 'm:User'])
    expect(
      sorted(
        writeInvalidations(dm, 'Document', 'create', { data: { id: 'd1', title: 't' }, select: { title: true } }, {}),
      ),
    ).toEqual(['m:Document', 'r:Document:"d1"'])
  })

  it('createMany touches all records; createManyAndReturn names what it returns', () => {
    expect(sorted(writeInvalidations(dm, 'Tag', 'createMany', { data: [{ name: 'a' }] }, { count: 1 }))).toEqual([
      'a:Tag',
      'm:Tag',
    ])
    expect(
      sorted(
        writeInvalidations(dm, 'Tag', 'createManyAndReturn', { data: [{ name: 'a' }, { name: 'b' }] }, [
          { id: 1 },
          { id: 2 },
        ]),
      ),
    ).toEqual(['m:Tag', 'r:Tag:1', 'r:Tag:2'])
    expect(
      writeInvalidations(dm, 'Tag', 'createManyAndReturn', { data: [{ name: 'a' }], select: { name: true } }, [
        { name: 'a' },
      ]),
    ).toContain('a:Tag')
  })

  it('an upsert names both the record its where names and the one it returns', () => {
    const tags = writeInvalidations(
      dm,
      'Tag',
      'upsert',
      { where: { id: 3 }, create: { id: 4, name: 'x' }, update: { name: 'x' } },
      { id: 4 },
    )
    expect(sorted(tags)).toEqual(['m:Tag', 'r:Tag:3', 'r:Tag:4'])
  })

  it('an upsert by another unique field whose result lacks the id touches all records', () => {
    const tags = writeInvalidations(
      dm,
      'Tag',
      'upsert',
      { where: { name: 'x' }, create: { name: 'x' }, update: {}, select: { name: true } },
      { name: 'x' },
    )
    expect(tags).toContain('a:Tag')
  })

  it('a delete by id names the record and follows referential actions', () => {
    const tags = writeInvalidations(dm, 'Comment', 'delete', { where: { id: 5 } }, { id: 5 })
    expect(sorted(tags)).toEqual(['m:Comment', 'r:Comment:5'])
  })

  it('a delete by another unique field names the record from the result, or touches all records', () => {
    expect(sorted(writeInvalidations(dm, 'Tag', 'delete', { where: { name: 'x' } }, { id: 8 }))).toEqual([
      'm:Post',
      'm:Tag',
      'r:Tag:8',
    ])
    expect(
      writeInvalidations(dm, 'Tag', 'delete', { where: { name: 'x' }, select: { name: true } }, { name: 'x' }),
    ).toContain('a:Tag')
  })

  it('updateMany, updateManyAndReturn and deleteMany touch the whole model', () => {
    for (const operation of ['updateMany', 'updateManyAndReturn']) {
      expect(
        sorted(writeInvalidations(dm, 'Comment', operation, { where: {}, data: { body: 'x' } }, { count: 2 })),
      ).toEqual(['a:Comment', 'm:Comment'])
    }
    expect(sorted(writeInvalidations(dm, 'Comment', 'deleteMany', { where: {} }, { count: 2 }))).toEqual([
      'a:Comment',
      'm:Comment',
    ])
  })

  it('a user delete cascades to profile, posts and their comments, sets comment authors null, unlinks tags', () => {
    const tags = writeInvalidations(dm, 'User', 'delete', { where: { id: 1 } }, { id: 1 })
    expect(sorted(tags)).toEqual(
      sorted(['m:User', 'r:User:1', 'm:Profile', 'a:Profile', 'm:Post', 'a:Post', 'm:Comment', 'a:Comment', 'm:Tag']),
    )
    expect(tags).not.toContain('a:Tag')
    expect(sorted(writeInvalidations(dm, 'User', 'deleteMany', {}, { count: 3 }))).toEqual(
      sorted(['m:User', 'a:User', 'm:Profile', 'a:Profile', 'm:Post', 'a:Post', 'm:Comment', 'a:Comment', 'm:Tag']),
    )
  })

  it('an update of a referenced field follows onUpdate cascades; one of another field does not', () => {
    const moved = writeInvalidations(dm, 'User', 'update', { where: { id: 1 }, data: { id: 10 } }, { id: 10 })
    expect(moved).toEqual(expect.arrayContaining(['a:Profile', 'a:Post', 'a:Comment']))
    const renamed = writeInvalidations(dm, 'User', 'updateMany', { data: { name: 'x' } }, { count: 1 })
    expect(sorted(renamed)).toEqual(['a:User', 'm:User'])
    const upserted = writeInvalidations(
      dm,
      'User',
      'upsert',
      { where: { id: 1 }, create: { email: 'x' }, update: { id: { increment: 1 } } },
      { id: 2 },
    )
    expect(upserted).toEqual(expect.arrayContaining(['a:Profile', 'a:Post', 'a:Comment']))
  })

  it('a nested create touches the created model', () => {
    const tags = writeInvalidations(
      dm,
      'User',
      'create',
      { data: { email: 'x', posts: { create: [{ title: 'a', comments: { create: { body: 'b' } } }] } } },
      { id: 1 },
    )
    expect(sorted(tags)).toEqual(['a:Comment', 'a:Post', 'm:Comment', 'm:Post', 'm:User', 'r:User:1'])
  })

  it('a nested connect on a relation whose key lives on the other side changes the other side', () => {
    const tags = writeInvalidations(
      dm,
      'User',
      'update',
      { where: { id: 1 }, data: { posts: { connect: [{ id: 2 }] } } },
      { id: 1 },
    )
    expect(sorted(tags)).toEqual(['a:Post', 'm:Post', 'm:User', 'r:User:1'])
    for (const op of ['disconnect', 'set']) {
      const t = writeInvalidations(
        dm,
        'User',
        'update',
        { where: { id: 1 }, data: { profile: { [op]: true } } },
        { id: 1 },
      )
      expect(t).toEqual(expect.arrayContaining(['m:Profile', 'a:Profile']))
    }
  })

  it('a nested connect on a relation whose key lives on this side changes only this record', () => {
    const tags = writeInvalidations(
      dm,
      'Post',
      'create',
      { data: { title: 't', author: { connect: { id: 1 } } } },
      { id: 5, authorId: 1 },
    )
    expect(sorted(tags)).toEqual(['m:Post', 'r:Post:5'])
  })

  it('a nested connect on an implicit many-to-many relation changes the views of both sides', () => {
    const tags = writeInvalidations(
      dm,
      'Post',
      'update',
      { where: { id: 5 }, data: { tags: { connect: { id: 1 }, disconnect: [{ id: 2 }] } } },
      { id: 5 },
    )
    expect(sorted(tags)).toEqual(['m:Post', 'm:Tag', 'r:Post:5'])
  })

  it('nested writes at any depth touch every model they reach', () => {
    const tags = writeInvalidations(
      dm,
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
    expect(sorted(tags)).toEqual([
      'a:Comment',
      'a:Post',
      'a:Profile',
      'm:Comment',
      'm:Post',
      'm:Profile',
      'm:User',
      'r:User:1',
    ])
  })

  it('a nested delete follows the referential actions of the deleted model', () => {
    const tags = writeInvalidations(
      dm,
      'User',
      'update',
      { where: { id: 1 }, data: { posts: { deleteMany: { published: false } } } },
      { id: 1 },
    )
    expect(sorted(tags)).toEqual(['a:Comment', 'a:Post', 'm:Comment', 'm:Post', 'm:Tag', 'm:User', 'r:User:1'])
  })

  it('a nested update of a to-one relation, written without data:, follows referential actions', () => {
    const tags = writeInvalidations(
      dm,
      'Post',
      'update',
      { where: { id: 1 }, data: { author: { update: { id: 7 } } } },
      { id: 1 },
    )
    expect(tags).toEqual(expect.arrayContaining(['m:User', 'a:User', 'a:Profile', 'a:Comment']))
  })

  it('a nested connectOrCreate touches the target model', () => {
    const tags = writeInvalidations(
      dm,
      'Post',
      'update',
      { where: { id: 1 }, data: { tags: { connectOrCreate: { where: { name: 'n' }, create: { name: 'n' } } } } },
      { id: 1 },
    )
    expect(sorted(tags)).toEqual(['a:Tag', 'm:Post', 'm:Tag', 'r:Post:1'])
  })

  it('a raw write touches every model', () => {
    const tags = rawInvalidations(dm)
    for (const model of dm.models) expect(tags).toEqual(expect.arrayContaining([`m:${model}`, `a:${model}`]))
    expect(tags).toHaveLength(dm.models.length * 2)
  })

  it('an operation it does not know touches everything', () => {
    expect(sorted(writeInvalidations(dm, 'User', 'frobnicate', {}, null))).toEqual(sorted(rawInvalidations(dm)))
    expect(writeInvalidations(dm, 'Ghost', 'update', {}, null)).toEqual(expect.arrayContaining(['m:Ghost', 'a:Ghost']))
  })
})

describe('a model without schema text', () => {
  const dm = buildDataModel(
    runtime({
      User: 'id:Int name:String posts:Post@PostToUser',
      Post: 'id:Int authorId:Int author:User@PostToUser',
    }),
  )

  it('is read as a whole model, even by id', () => {
    expect(readDependencies(dm, 'User', 'findUnique', { where: { id: 1 } })).toEqual({ tags: ['m:User'] })
    expect(recordTags(dm, 'User', { id: 1 })).toBeNull()
  })

  it('is written as a whole model, and its relations are assumed to cascade', () => {
    const tags = writeInvalidations(dm, 'User', 'update', { where: { id: 1 }, data: { name: 'x' } }, { id: 1 })
    expect(sorted(tags)).toEqual(['a:Post', 'a:User', 'm:Post', 'm:User'])
  })

  it('assumes a nested connect changes the other side', () => {
    const tags = writeInvalidations(dm, 'Post', 'create', { data: { author: { connect: { id: 1 } } } }, { id: 1 })
    expect(tags).toEqual(expect.arrayContaining(['m:User', 'a:User']))
  })

  it('still follows relation filters of unknown shape', () => {
    const deps = readDependencies(dm, 'Post', 'findMany', { where: { author: { some: { name: 'x' } } } })
    expect(sorted(deps.tags)).toEqual(['m:Post', 'm:User'])
  })
})

describe('database views', () => {
  const dm = buildDataModel(
    runtime({ User: 'id:Int name:String', UserInfo: 'id:Int name:String' }),
    `model User {
      id   Int    @id
      name String
    }
    view UserInfo {
      id   Int    @unique
      name String
    }`,
  )

  it('are read as a whole, even by a unique field', () => {
    expect(readDependencies(dm, 'UserInfo', 'findUnique', { where: { id: 1 } })).toEqual({ tags: ['m:UserInfo'] })
  })

  it('are touched by every write, since any table may feed them', () => {
    const tags = writeInvalidations(dm, 'User', 'update', { where: { id: 1 }, data: { name: 'x' } }, { id: 1 })
    expect(sorted(tags)).toEqual(['a:UserInfo', 'm:User', 'm:UserInfo', 'r:User:1'])
  })
})
