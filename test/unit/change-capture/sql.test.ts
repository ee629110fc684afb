import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { describe, expect, it } from 'vitest'
import { PrismaClient as SqliteClient } from '../../../generated/sqlite/client.ts'
import { CacheOptionError } from '../../../src/core/errors.ts'
import { changeCaptureNames } from '../../../src/prisma/change-capture/names.ts'
import { readSchemaText } from '../../../src/prisma/change-capture/schema-text.ts'
import { changeCaptureDropSql, changeCaptureSql } from '../../../src/prisma/change-capture/sql.ts'
import { projectRoot } from '../../support/migrations.ts'

const postgres = readFileSync(join(projectRoot, 'prisma', 'postgres.prisma'), 'utf8')
const optionError = (option: string) => expect.objectContaining({ constructor: CacheOptionError, option })

describe('changeCaptureSql', () => {
  it('quotes mapped names, qualifies @@schema tables and passes key then foreign-key columns', () => {
    const sql = changeCaptureSql({
      schema: [
        'model Odd {',
        '  id  Int @id @map("the \\"id\\"")',
        '  ref Int @map("it\'s")',
        '  ok  Ok  @relation(fields: [ref], references: [id])',
        '  @@map("we\\"ird")',
        '  @@schema("auth")',
        '}',
        'model Ok {',
        '  id  Int   @id',
        '  odd Odd[]',
        '}',
      ].join('\n'),
    })
    expect(sql).toContain(
      `ON "auth"."we""ird"\n  FOR EACH ROW EXECUTE FUNCTION "ptc_capture_change"('ptc_changes', '1', 'the "id"', 'it''s');`,
    )
    expect(sql).toContain('DROP TRIGGER IF EXISTS "ptc_capture_truncate" ON "auth"."we""ird";')
  })

  it('covers every model table and the implicit many-to-many table of the test schema', () => {
    const sql = changeCaptureSql({ schema: postgres })
    const tables = [...sql.matchAll(/^CREATE TRIGGER "ptc_capture" AFTER INSERT OR UPDATE OR DELETE ON (\S+)$/gm)].map(
      (m) => m[1],
    )
    expect(tables).toEqual([
      '"User"',
      '"Profile"',
      '"Post"',
      '"Comment"',
      '"Tag"',
      '"Membership"',
      '"Document"',
      '"_PostToTag"',
    ])
    expect(sql).toContain('CREATE OR REPLACE FUNCTION "ptc_capture_change"() RETURNS trigger')
  })

  it('without schema text, publishes every table whole and says so', () => {
    const { runtime } = readSchemaText(postgres)
    const sql = changeCaptureSql({ datamodel: runtime })
    expect(sql).toContain('-- Post: its schema text could not be read')
    expect(sql).toContain(`ON "Post"\n  FOR EACH ROW EXECUTE FUNCTION "ptc_capture_change"('ptc_changes', '0');`)
    expect(sql).not.toContain('_PostToTag')
  })

  it('rejects a SQLite client, something that is not a schema, and bad names, naming the option', () => {
    const sqlite = new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: 'file::memory:' }) })
    expect(() => changeCaptureSql(sqlite)).toThrow(optionError('changeCaptureSql'))
    expect(() => changeCaptureSql(sqlite)).toThrow('needs PostgreSQL')
    expect(() => changeCaptureSql(42 as never)).toThrow(optionError('changeCaptureSql'))
    expect(() => changeCaptureSql({})).toThrow(optionError('changeCaptureSql'))
    expect(() => changeCaptureSql({ schema: postgres }, { prefix: 'a b' })).toThrow(
      optionError('changeCaptureSql.prefix'),
    )
    expect(() => changeCaptureSql({ schema: postgres }, { prefix: 'p'.repeat(47) })).toThrow(
      optionError('changeCaptureSql.prefix'),
    )
    expect(() => changeCaptureSql({ schema: postgres }, { channel: 'é'.repeat(32) })).toThrow(
      optionError('changeCaptureSql.channel'),
    )
    expect(() => changeCaptureDropSql({ channel: '' })).toThrow(optionError('changeCaptureDropSql.channel'))
  })

  it('derives every name from the prefix, within PostgreSQL 63-byte names', () => {
    expect(changeCaptureNames({ prefix: 'app' })).toEqual({
      channel: 'app_changes',
      functionName: 'app_capture_change',
      rowTrigger: 'app_capture',
      truncateTrigger: 'app_capture_truncate',
    })
    const longest = changeCaptureNames({ prefix: 'p'.repeat(46) })
    for (const name of Object.values(longest)) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63)
    expect(changeCaptureDropSql({ prefix: 'app' })).toContain('DROP FUNCTION IF EXISTS "app_capture_change"() CASCADE;')
  })
})
