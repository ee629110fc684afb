import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { PrismaPg } from '@prisma/adapter-pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { changeToTags } from '../../../src/prisma/change-capture/change-tags.ts'
import { parseChange, type RowChange } from '../../../src/prisma/change-capture/notifications.ts'
import { readSchemaText } from '../../../src/prisma/change-capture/schema-text.ts'
import { changeCaptureSql } from '../../../src/prisma/change-capture/sql.ts'
import { type CaptureTables, captureTables } from '../../../src/prisma/change-capture/tables.ts'
import { readDependencies, recordTags } from '../../../src/prisma/tags/read-dependencies.ts'
import { modelTag } from '../../../src/prisma/tags/vocabulary.ts'
import { joinTableInvalidations } from '../../../src/prisma/tags/write-invalidations.ts'
import { projectRoot } from '../../support/migrations.ts'
import { type Arrivals, changeCaptureDatabase, rawListener } from './support.ts'

const fixtures = join(projectRoot, 'test', 'integration', 'change-capture', 'fixtures')
const schemaText = readFileSync(join(fixtures, 'mapped.prisma'), 'utf8')
const out = join(projectRoot, '.tmp', `cc_mapped_${process.pid}_${randomBytes(3).toString('hex')}`)

// The client is generated while the test runs: no static type.
let prisma: any
let db: Awaited<ReturnType<typeof changeCaptureDatabase>>
let tables: CaptureTables
let arrivals: Arrivals<string>

beforeAll(async () => {
  // A real client for the fixture, generated offline as scripts/generate.mjs does.
  mkdirSync(out, { recursive: true })
  copyFileSync(join(fixtures, 'mapped.prisma'), join(out, 'schema.prisma'))
  execFileSync(
    join(projectRoot, 'node_modules', '.bin', 'prisma'),
    ['generate', '--schema', join(out, 'schema.prisma')],
    {
      cwd: projectRoot,
      env: {
        ...process.env,
        PRISMA_SCHEMA_ENGINE_BINARY:
          process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? join(projectRoot, 'scripts', 'schema-engine-stub.sh'),
        PRISMA_HIDE_UPDATE_MESSAGE: '1',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  const { PrismaClient } = await import(pathToFileURL(join(out, 'client', 'client.ts')).href)
  db = await changeCaptureDatabase(readFileSync(join(fixtures, 'mapped.sql'), 'utf8'))
  prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) })
  tables = captureTables(prisma)
  await db.run(changeCaptureSql(prisma))
  arrivals = await rawListener(db.connect, 'ptc_changes')
}, 120_000)

afterAll(async () => {
  await prisma?.$disconnect()
  await db?.drop()
  rmSync(out, { recursive: true, force: true })
})

/** The changes of `sql`: everything published before a marker sent after it. */
async function changesOf(sql: string): Promise<RowChange[]> {
  await db.run(sql)
  await db.run(`SELECT pg_notify('ptc_changes', 'marker')`)
  const changes: RowChange[] = []
  for (let payload = await arrivals.next(); payload !== 'marker'; payload = await arrivals.next()) {
    changes.push(parseChange(payload))
  }
  return changes
}

const tagsOf = (changes: readonly RowChange[]) => new Set(changes.flatMap((c) => changeToTags(c, tables)))

/** The record tag of a row as Prisma reads it: what a cached findUnique of it depends on. */
const recordTagOf = (model: string, row: unknown): string =>
  (recordTags(tables.dataModel, model, row) as string[])[0] as string

describe('change capture with @@map/@map names and every kind of key', () => {
  it('reads the same runtime data model from the schema text as prisma generate writes', () => {
    expect(readSchemaText(schemaText).runtime.models).toEqual(prisma._runtimeDataModel.models)
    expect(changeCaptureSql({ schema: schemaText })).toBe(changeCaptureSql(prisma))
  })

  it('names the mapped table and columns and invalidates the record a cached read of it depends on', async () => {
    const person = await prisma.person.create({ data: { email: 'ada@example.com' } })
    const other = await prisma.person.create({ data: { email: 'bob@example.com' } })
    await arrivals.take(2)
    const changes = await changesOf(`UPDATE people SET e_mail = 'lovelace@example.com' WHERE person_id = ${person.id}`)
    expect(changes).toEqual([
      { schema: 'public', table: 'people', operation: 'update', key: [String(person.id)], changed: ['e_mail'] },
    ])
    const tags = tagsOf(changes)
    const read = readDependencies(tables.dataModel, 'Person', 'findUnique', { where: { id: person.id } }).tags
    expect(read.some((t) => tags.has(t))).toBe(true)
    const unrelated = readDependencies(tables.dataModel, 'Person', 'findUnique', { where: { id: other.id } }).tags
    expect(unrelated.some((t) => tags.has(t))).toBe(false)
  })

  it('follows a compound key through an ON UPDATE CASCADE: old and new record of each row', async () => {
    const owner = await prisma.person.create({ data: { email: 'owner@example.com' } })
    const pet = await prisma.pet.create({ data: { ownerId: owner.id, name: 'Rex' } })
    const toy = await prisma.toy.create({ data: { petOwner: owner.id, petName: 'Rex' } })
    await arrivals.take(3)
    const changes = await changesOf(`UPDATE pets SET name = 'Max' WHERE owner_id = ${owner.id} AND name = 'Rex'`)
    expect(changes).toEqual([
      {
        schema: 'public',
        table: 'pets',
        operation: 'update',
        key: [String(owner.id), 'Max'],
        oldKey: [String(owner.id), 'Rex'],
        changed: ['name'],
      },
      {
        schema: 'public',
        table: 'toys',
        operation: 'update',
        key: [toy.id],
        changed: ['pet_name'],
        foreignKeys: { pet_name: ['Rex', 'Max'] },
      },
    ])
    const renamed = await prisma.pet.findUniqueOrThrow({ where: { ownerId_name: { ownerId: owner.id, name: 'Max' } } })
    const tags = tagsOf(changes)
    for (const tag of [recordTagOf('Pet', pet), recordTagOf('Pet', renamed), recordTagOf('Toy', toy)]) {
      expect(tags).toContain(tag)
    }
  })

  it('reads DateTime and BigInt keys as Prisma returns them', async () => {
    const at = new Date('2026-03-04T05:06:07.089Z')
    const event = await prisma.event.create({ data: { at, seq: 9_007_199_254_740_993n, title: 'launch' } })
    await arrivals.take(1)
    const changes = await changesOf(`UPDATE "Event" SET title = 'moved' WHERE seq = 9007199254740993`)
    expect(changes[0]?.key).toEqual(['2026-03-04T05:06:07.089'])
    expect(tagsOf(changes)).toContain(recordTagOf('Event', event))
  })

  it('publishes named and self-relation join tables as the models they link', async () => {
    const a = await prisma.person.create({ data: { email: 'a@example.com' } })
    const b = await prisma.person.create({ data: { email: 'b@example.com' } })
    await prisma.club.create({ data: { id: 7 } })
    await arrivals.take(3)
    const members = await changesOf(`INSERT INTO "_members" ("A", "B") VALUES (7, ${a.id})`)
    expect(members).toEqual([{ schema: 'public', table: '_members', operation: 'insert', key: ['7', String(a.id)] }])
    expect([...tagsOf(members)].sort()).toEqual(joinTableInvalidations(tables.dataModel, ['Club', 'Person']).sort())
    const friends = await changesOf(`INSERT INTO "_friends" ("A", "B") VALUES (${a.id}, ${b.id})`)
    expect([...tagsOf(friends)].sort()).toEqual(joinTableInvalidations(tables.dataModel, ['Person', 'Person']).sort())
  })

  it('compares only the columns Prisma knows: an Unsupported or @ignore column changes no read beyond the record', async () => {
    const person = await prisma.person.create({ data: { email: 'geo@example.com' } })
    await arrivals.take(1)
    const changes = await changesOf(`UPDATE people SET geo = point(1, 2), secret = 's' WHERE person_id = ${person.id}`)
    expect(changes[0]?.changed).toEqual([])
    expect([...tagsOf(changes)].sort()).toEqual([modelTag('Person'), recordTagOf('Person', person)].sort())
  })
})
