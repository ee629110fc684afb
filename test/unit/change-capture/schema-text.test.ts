import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import { describe, expect, it } from 'vitest'
import { PrismaClient as PostgresClient } from '../../../generated/postgres/client.ts'
import { PrismaClient as SqliteClient } from '../../../generated/sqlite/client.ts'
import { readSchemaText } from '../../../src/prisma/change-capture/schema-text.ts'
import { projectRoot } from '../../support/migrations.ts'

const schema = (name: string) => readFileSync(join(projectRoot, 'prisma', name), 'utf8')

describe('readSchemaText', () => {
  it('reads the runtime data model prisma generate wrote for both test schemas', () => {
    const postgres = new PostgresClient({
      adapter: new PrismaPg({ connectionString: 'postgresql://127.0.0.1:1/none' }),
    })
    const sqlite = new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: 'file::memory:' }) })
    const runtime = (client: unknown) => (client as { _runtimeDataModel: { models: unknown } })._runtimeDataModel.models
    expect(readSchemaText(schema('postgres.prisma'))).toEqual({
      runtime: { models: runtime(postgres) },
      provider: 'postgresql',
    })
    expect(readSchemaText(schema('schema.prisma'))).toEqual({
      runtime: { models: runtime(sqlite) },
      provider: 'sqlite',
    })
  })

  it('keeps // inside strings, skips ignored models and fields, reads a relation name given last', () => {
    const { runtime, provider } = readSchemaText(
      [
        'model A {',
        '  id   String @id @default("http://x") @map("a//id") // comment',
        '  b    B      @relation(fields: [bId], references: [id], name: "ab")',
        '  bId  Int    @map(name: "b_id")',
        '  gone Int    @ignore',
        '  @@map("a_table")',
        '}',
        'model B {',
        '  id Int @id',
        '  as A[] @relation("ab")',
        '}',
        'model Hidden {',
        '  id Int @id',
        '  @@ignore',
        '}',
      ].join('\n'),
    )
    expect(provider).toBeUndefined()
    expect(Object.keys(runtime.models)).toEqual(['A', 'B'])
    expect(runtime.models.A).toEqual({
      fields: [
        { name: 'id', kind: 'scalar', type: 'String', dbName: 'a//id' },
        { name: 'b', kind: 'object', type: 'B', relationName: 'ab' },
        { name: 'bId', kind: 'scalar', type: 'Int', dbName: 'b_id' },
      ],
      dbName: 'a_table',
      schema: null,
    })
  })
})
