import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { changeToTags } from '../../../src/prisma/change-capture/change-tags.ts'
import type { RowChange } from '../../../src/prisma/change-capture/notifications.ts'
import { captureTables } from '../../../src/prisma/change-capture/tables.ts'
import { entityTag, fieldTag, modelTag, recordTag } from '../../../src/prisma/tags/vocabulary.ts'
import { joinTableInvalidations, writeInvalidations } from '../../../src/prisma/tags/write-invalidations.ts'
import { projectRoot } from '../../support/migrations.ts'

const tables = captureTables({ schema: readFileSync(join(projectRoot, 'prisma', 'postgres.prisma'), 'utf8') })
const dm = tables.dataModel
const change = (c: Omit<RowChange, 'schema'>): RowChange => ({ schema: 'public', ...c })
const same = (a: readonly string[], b: readonly string[]) =>
  expect([...new Set(a)].sort()).toEqual([...new Set(b)].sort())

describe('changeToTags: a row change invalidates what the same write through the client does', () => {
  it('a raw UPDATE of a post by key = prisma.post.update({ where: { id }, data })', () => {
    same(
      changeToTags(change({ table: 'Post', operation: 'update', key: ['5'], changed: ['title'] }), tables),
      writeInvalidations(dm, 'Post', 'update', { where: { id: 5 }, data: { title: 'x' } }, { id: 5 }),
    )
    expect(
      changeToTags(change({ table: 'Post', operation: 'update', key: ['5'], changed: ['title'] }), tables),
    ).toEqual(expect.arrayContaining([recordTag('Post', [5]), modelTag('Post')]))
  })

  it('an UPDATE that moves the key names the old and the new record, and what references the key', () => {
    const tags = changeToTags(
      change({ table: 'User', operation: 'update', key: ['7'], oldKey: ['1'], changed: ['id'] }),
      tables,
    )
    same(tags, writeInvalidations(dm, 'User', 'update', { where: { id: 1 }, data: { id: 7 } }, { id: 7 }))
    expect(tags).toEqual(expect.arrayContaining([recordTag('User', [1]), recordTag('User', [7]), modelTag('Post')]))
  })

  it('a foreign-key UPDATE reaches the models its relations reach, as the client write does', () => {
    same(
      changeToTags(change({ table: 'Post', operation: 'update', key: ['3'], changed: ['authorId'] }), tables),
      writeInvalidations(dm, 'Post', 'update', { where: { id: 3 }, data: { authorId: 2 } }, { id: 3 }),
    )
  })

  it('a DELETE = prisma.user.delete({ where: { id } }), referential actions included', () => {
    const tags = changeToTags(change({ table: 'User', operation: 'delete', key: ['4'] }), tables)
    same(tags, writeInvalidations(dm, 'User', 'delete', { where: { id: 4 } }, null))
    expect(tags).toEqual(expect.arrayContaining([recordTag('User', [4]), entityTag('Post'), entityTag('Profile')]))
  })

  it('an INSERT = prisma.tag.create returning its key, its other values unknown', () => {
    const tags = changeToTags(change({ table: 'Tag', operation: 'insert', key: ['9'] }), tables)
    same(tags, writeInvalidations(dm, 'Tag', 'create', { data: {} }, { id: 9 }))
    expect(tags).toEqual(expect.arrayContaining([recordTag('Tag', [9]), fieldTag('Tag', ['name'])]))
  })

  it('an UPDATE whose columns are unknown acts as one changing every field', () => {
    same(
      changeToTags(change({ table: 'Post', operation: 'update', key: ['5'] }), tables),
      writeInvalidations(
        dm,
        'Post',
        'update',
        {
          where: { id: 5 },
          data: Object.fromEntries([...(dm.model('Post')?.scalars.keys() ?? [])].map((f) => [f, 1])),
        },
        { id: 5 },
      ),
    )
  })

  it('a change without a usable key is the whole model: createMany, updateMany, deleteMany', () => {
    const cases: Array<[RowChange, string, unknown]> = [
      [change({ table: 'Post', operation: 'insert' }), 'createMany', {}],
      [change({ table: 'Post', operation: 'update', changed: ['title'] }), 'updateMany', { data: { title: 1 } }],
      [change({ table: 'Post', operation: 'delete', key: [null] }), 'deleteMany', {}],
      [change({ table: 'Post', operation: 'delete', key: ['not a number'] }), 'deleteMany', {}],
      [change({ table: 'Post', operation: 'truncate' }), 'deleteMany', {}],
    ]
    for (const [c, operation, args] of cases) {
      const tags = changeToTags(c, tables)
      same(tags, writeInvalidations(dm, 'Post', operation, args, undefined))
      expect(tags).toContain(entityTag('Post'))
    }
  })

  it('a join-table row changes the relation lists of both models, not their records', () => {
    same(
      changeToTags(change({ table: '_PostToTag', operation: 'insert', key: ['1', '2'] }), tables),
      joinTableInvalidations(dm, ['Post', 'Tag']),
    )
  })

  it('a table the schema does not know invalidates nothing but the views', () => {
    expect(changeToTags(change({ table: 'audit_log', operation: 'insert', key: ['1'] }), tables)).toEqual([])
    const withView = captureTables({
      schema: 'model A {\n  id Int @id\n}\nview Totals {\n  id Int @unique\n  n Int\n}\n',
    })
    same(changeToTags(change({ table: 'audit_log', operation: 'insert' }), withView), [
      modelTag('Totals'),
      entityTag('Totals'),
    ])
    expect(withView.tables.map((t) => t.table)).toEqual(['A'])
  })

  it('a table of another PostgreSQL schema is matched by its @@schema, an unqualified model by any', () => {
    const multi = captureTables({
      schema:
        'model A {\n  id Int @id\n  @@map("t")\n  @@schema("auth")\n}\nmodel B {\n  id Int @id\n  @@map("t")\n}\n',
    })
    expect(changeToTags(change({ table: 't', operation: 'delete', key: ['1'] }), multi)).toContain(recordTag('B', [1]))
    expect(changeToTags({ schema: 'auth', table: 't', operation: 'delete', key: ['1'] }, multi)).toContain(
      recordTag('A', [1]),
    )
  })
})

describe('changeToTags reads key text as Prisma returns the value', () => {
  const keyed = (type: string, attributes = '') =>
    captureTables({ schema: `enum Color {\n  RED\n}\nmodel K {\n  k ${type} @id ${attributes}\n}\n` })
  const tagOf = (type: string, text: string) =>
    changeToTags(change({ table: 'K', operation: 'delete', key: [text] }), keyed(type)).filter((t) =>
      t.startsWith('r:'),
    )

  it.each([
    ['Int', '-42', -42],
    ['BigInt', '9007199254740993', 9_007_199_254_740_993n],
    ['String', 'a "quoted", text', 'a "quoted", text'],
    ['Boolean', 'true', true],
    ['Float', '1.5', 1.5],
    ['Color', 'RED', 'RED'],
    ['DateTime', '2026-01-02T03:04:05.678', new Date('2026-01-02T03:04:05.678Z')],
    ['DateTime', '2026-01-02T03:04:05.678+00:00', new Date('2026-01-02T03:04:05.678Z')],
    ['DateTime', '2026-01-02', new Date('2026-01-02T00:00:00.000Z')],
    ['Bytes', '\\x00ff10', new Uint8Array([0, 255, 16])],
  ])('%s %s', (type, text, value) => {
    expect(tagOf(type, text)).toEqual([recordTag('K', [value])])
  })

  it.each([
    ['Int', '1.5'],
    ['Int', '99999999999999999999'],
    ['Decimal', '1.50'],
    ['DateTime', 'infinity'],
    ['Boolean', 't'],
    ['Bytes', 'zz'],
  ])('%s %s names no record: the model is invalidated whole', (type, text) => {
    const tags = changeToTags(change({ table: 'K', operation: 'delete', key: [text] }), keyed(type))
    expect(tags.filter((t) => t.startsWith('r:'))).toEqual([])
    expect(tags).toContain(entityTag('K'))
  })
})
