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
      `CREATE TRIGGER "ptc_capture" AFTER INSERT OR UPDATE OR DELETE ON "auth"."we""ird" FOR EACH ROW EXECUTE FUNCTION "ptc_capture_auth.we""ird"('ptc_changes');`,
    )
    expect(sql).toContain(`k := jsonb_build_array(to_jsonb(NEW."the ""id""") #>> '{}');`)
    expect(sql).toContain(`'it''s', CASE WHEN OLD."it's" IS DISTINCT FROM NEW."it's" THEN`)
    expect(sql).toContain('DROP TRIGGER IF EXISTS "ptc_capture_truncate" ON "auth"."we""ird";')
  })

  it('covers every model table and the implicit many-to-many table of the test schema', () => {
    const sql = changeCaptureSql({ schema: postgres })
    const tables = [...sql.matchAll(/^CREATE TRIGGER "ptc_capture" AFTER INSERT OR UPDATE OR DELETE ON (\S+) /gm)].map(
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
      '"Member"',
      '"Article"',
      '"Reply"',
      '"Topic"',
      '"TopicFollow"',
      '"_PostToTag"',
      '"_Follows"',
      '"_Favorites"',
      '"_ArticleToTopic"',
    ])
    expect(sql).toContain('CREATE OR REPLACE FUNCTION "ptc_capture_Post"() RETURNS trigger')
    expect(sql).toContain('CREATE OR REPLACE FUNCTION "ptc_capture__PostToTag"() RETURNS trigger')
  })

  it('without schema text, publishes every table whole and says so', () => {
    const { runtime } = readSchemaText(postgres)
    const sql = changeCaptureSql({ datamodel: runtime })
    expect(sql).toContain('-- Post: its schema text could not be read')
    expect(sql).not.toContain('k := ')
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
    const app = changeCaptureNames({ prefix: 'app' })
    expect(app).toMatchObject({
      channel: 'app_changes',
      rowTrigger: 'app_capture',
      truncateTrigger: 'app_capture_truncate',
      marker: 'tiered-cache change capture (app)',
    })
    expect([app.functionOf(undefined, 'Post'), app.functionOf('auth', 'users')]).toEqual([
      'app_capture_Post',
      'app_capture_auth.users',
    ])
    const longest = changeCaptureNames({ prefix: 'p'.repeat(46) })
    const long = longest.functionOf('s', 'é'.repeat(40))
    for (const name of [longest.channel, longest.rowTrigger, longest.truncateTrigger, long]) {
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(63)
    }
    expect(long).not.toBe(longest.functionOf('s', `${'é'.repeat(39)}e`))
    expect(changeCaptureDropSql({ prefix: 'app' })).toContain(
      "WHERE obj_description(oid, 'pg_proc') = 'tiered-cache change capture (app)'",
    )
  })
})
