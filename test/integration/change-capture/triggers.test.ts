import { PrismaPg } from '@prisma/adapter-pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PrismaClient } from '../../../generated/postgres/client.ts'
import { changeToTags } from '../../../src/prisma/change-capture/change-tags.ts'
import { parseChange, type RowChange } from '../../../src/prisma/change-capture/notifications.ts'
import { changeCaptureDropSql, changeCaptureSql } from '../../../src/prisma/change-capture/sql.ts'
import { type CaptureTables, captureTables } from '../../../src/prisma/change-capture/tables.ts'
import { entityTag, linksTag, modelTag, recordTag } from '../../../src/prisma/tags/vocabulary.ts'
import { joinTableInvalidations } from '../../../src/prisma/tags/write-invalidations.ts'
import { migrationSql } from '../../support/migrations.ts'
import { type Arrivals, changeCaptureDatabase, rawListener } from './support.ts'

const CHANNEL = 'ptc_changes'
const MARKER = 'marker'

let db: Awaited<ReturnType<typeof changeCaptureDatabase>>
let prisma: PrismaClient
let tables: CaptureTables
let arrivals: Arrivals<string>

beforeAll(async () => {
  db = await changeCaptureDatabase(migrationSql('postgres'))
  prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }) })
  tables = captureTables(prisma)
  await db.run(changeCaptureSql(prisma))
  await db.run(changeCaptureSql(prisma))
  arrivals = await rawListener(db.connect, CHANNEL)
})

afterAll(async () => {
  await prisma?.$disconnect()
  await db?.drop()
})

/** The changes `action` commits: everything published before a marker sent after it. */
async function changesOf(action: () => Promise<unknown>): Promise<RowChange[]> {
  await action()
  await db.run(`SELECT pg_notify('${CHANNEL}', '${MARKER}')`)
  const changes: RowChange[] = []
  for (let payload = await arrivals.next(); payload !== MARKER; payload = await arrivals.next()) {
    changes.push(parseChange(payload))
  }
  return changes
}

const brief = (c: RowChange) => `${c.operation} ${c.table} ${JSON.stringify(c.key ?? null)}`

async function seed(email: string) {
  const user = await db.run(`INSERT INTO "User" (email) VALUES ('${email}') RETURNING id`)
  const userId = user.rows[0].id as number
  const post = await db.run(`INSERT INTO "Post" (title, "authorId") VALUES ('t', ${userId}) RETURNING id`)
  return { userId, postId: post.rows[0].id as number }
}

describe('change capture triggers on PostgreSQL', () => {
  it('installs one row trigger and one truncate trigger on every model table and join table, however often it runs', async () => {
    const { rows } = await db.run(`
      SELECT c.relname AS table, count(*)::int AS triggers FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      WHERE t.tgname IN ('ptc_capture', 'ptc_capture_truncate') GROUP BY c.relname ORDER BY c.relname`)
    expect(rows).toEqual(
      [
        'Article',
        'Comment',
        'Document',
        'Member',
        'Membership',
        'Post',
        'Profile',
        'Reply',
        'Tag',
        'Topic',
        'TopicFollow',
        'User',
        '_ArticleToTopic',
        '_Favorites',
        '_Follows',
        '_PostToTag',
      ].map((table) => ({
        table,
        triggers: 2,
      })),
    )
  })

  it('publishes a raw UPDATE from a separate pg client with its key and changed columns, as the record and its model', async () => {
    const { postId } = await seed('update@example.com')
    await arrivals.take(2)
    const [change, ...rest] = await changesOf(() =>
      db.run(`UPDATE "Post" SET title = 'raw', views = 9007199254740993 WHERE id = ${postId}`),
    )
    expect(rest).toEqual([])
    expect(change).toEqual({
      schema: 'public',
      table: 'Post',
      operation: 'update',
      key: [String(postId)],
      changed: expect.arrayContaining(['title', 'views']),
    })
    expect(change?.changed).toHaveLength(2)
    const tags = changeToTags(change as RowChange, tables)
    expect(tags).toEqual(expect.arrayContaining([recordTag('Post', [postId]), modelTag('Post')]))
    expect(tags).not.toContain(entityTag('Post'))
  })

  it('publishes every row a cascading DELETE removes or sets null, each with its key', async () => {
    const { userId, postId } = await seed('cascade@example.com')
    const other = await seed('other@example.com')
    const setup = await db.run(`
      WITH p AS (INSERT INTO "Profile" (bio, "userId") VALUES ('b', ${userId}) RETURNING id),
           mine AS (INSERT INTO "Comment" (body, "postId", "authorId") VALUES ('on mine', ${postId}, ${other.userId}) RETURNING id),
           theirs AS (INSERT INTO "Comment" (body, "postId", "authorId") VALUES ('on theirs', ${other.postId}, ${userId}) RETURNING id)
      SELECT (SELECT id FROM p) AS profile, (SELECT id FROM mine) AS mine, (SELECT id FROM theirs) AS theirs`)
    const { profile, mine, theirs } = setup.rows[0]
    await arrivals.take(7)

    const changes = await changesOf(() => db.run(`DELETE FROM "User" WHERE id = ${userId}`))
    expect(changes.map(brief).sort()).toEqual(
      [
        `delete User ["${userId}"]`,
        `delete Profile ["${profile}"]`,
        `delete Post ["${postId}"]`,
        `delete Comment ["${mine}"]`,
        `update Comment ["${theirs}"]`,
      ].sort(),
    )
    const setNull = changes.find((c) => c.operation === 'update') as RowChange
    expect(setNull.changed).toEqual(['authorId'])
    expect(setNull.foreignKeys).toEqual({ authorId: [String(userId), null] })
    const tags = new Set(changes.flatMap((c) => changeToTags(c, tables)))
    for (const tag of [
      recordTag('User', [userId]),
      recordTag('Post', [postId]),
      recordTag('Comment', [mine]),
      recordTag('Comment', [theirs]),
      modelTag('Profile'),
    ]) {
      expect(tags).toContain(tag)
    }
  })

  it('publishes an INSERT into an implicit many-to-many table with both keys, as both models', async () => {
    const { postId } = await seed('m2m@example.com')
    const tag = await db.run(`INSERT INTO "Tag" (name) VALUES ('m2m') RETURNING id`)
    const tagId = tag.rows[0].id as number
    await arrivals.take(3)
    const [change, ...rest] = await changesOf(() =>
      db.run(`INSERT INTO "_PostToTag" ("A", "B") VALUES (${postId}, ${tagId})`),
    )
    expect(rest).toEqual([])
    expect(change).toEqual({
      schema: 'public',
      table: '_PostToTag',
      operation: 'insert',
      key: [String(postId), String(tagId)],
    })
    expect(changeToTags(change as RowChange, tables).sort()).toEqual(
      joinTableInvalidations(tables.dataModel, ['Post', 'Tag']).sort(),
    )
  })

  it('publishes nothing for a rolled-back transaction: the next arrival is a later committed change', async () => {
    const { postId } = await seed('rollback@example.com')
    await arrivals.take(2)
    const client = await db.connect()
    await client.query('BEGIN')
    await client.query(`UPDATE "Post" SET title = 'never' WHERE id = ${postId}`)
    await client.query(`INSERT INTO "Tag" (name) VALUES ('never')`)
    await client.query('ROLLBACK')
    await db.run(`UPDATE "Post" SET published = true WHERE id = ${postId}`)
    const next = parseChange(await arrivals.next())
    expect(next).toMatchObject({ table: 'Post', operation: 'update', changed: ['published'] })
  })

  it('publishes a TRUNCATE as a change to the whole table, cascades included', async () => {
    const changes = await changesOf(() => db.run('TRUNCATE "Tag" CASCADE'))
    expect(changes.map(brief).sort()).toEqual(['truncate Tag null', 'truncate _PostToTag null'])
    expect(changes.flatMap((c) => changeToTags(c, tables))).toEqual(
      expect.arrayContaining([entityTag('Tag'), linksTag('Post', 'tags')]),
    )
  })

  it('publishes a row that does not fit in a notification without its column list, then for its whole table', async () => {
    const columns = Array.from({ length: 250 }, (_, i) => `column_with_a_long_name_number_${i}`)
    await db.run(`CREATE TABLE "Wide" (id text PRIMARY KEY, ${columns.map((c) => `${c} int`).join(', ')})`)
    await db.run(
      changeCaptureSql({ schema: `model Wide {\n  id String @id\n${columns.map((c) => `  ${c} Int?\n`).join('')}}\n` }),
    )
    const [narrow, wide, huge] = await changesOf(async () => {
      await db.run(`INSERT INTO "Wide" (id) VALUES ('small')`)
      await db.run(`UPDATE "Wide" SET ${columns.map((c) => `${c} = 1`).join(', ')} WHERE id = 'small'`)
      // Compressed in the index, so a primary key, but 9000 bytes in a notification.
      await db.run(`INSERT INTO "Wide" (id) VALUES ('${'x'.repeat(9000)}')`)
    })
    expect(narrow).toEqual({ schema: 'public', table: 'Wide', operation: 'insert', key: ['small'] })
    expect(wide).toEqual({ schema: 'public', table: 'Wide', operation: 'update', key: ['small'] })
    expect(huge).toEqual({ schema: 'public', table: 'Wide', operation: 'insert' })
  })

  it('publishes a change it cannot describe (a column the table lost) for its whole table', async () => {
    await db.run('CREATE TABLE "Drift" (id int PRIMARY KEY, kept int)')
    await db.run(changeCaptureSql({ schema: 'model Drift {\n  id Int @id\n  kept Int?\n  dropped Int?\n}\n' }))
    const changes = await changesOf(async () => {
      await db.run('INSERT INTO "Drift" VALUES (1, 1)')
      await db.run('UPDATE "Drift" SET kept = 2')
    })
    expect(changes).toEqual([
      { schema: 'public', table: 'Drift', operation: 'insert', key: ['1'] },
      { schema: 'public', table: 'Drift', operation: 'update' },
    ])
  })

  it('never fails the write when the change cannot be published: it warns instead', async () => {
    await db.run(`
      CREATE TABLE broken (id int);
      CREATE TRIGGER broken_capture AFTER INSERT ON broken FOR EACH ROW EXECUTE FUNCTION "ptc_capture_Tag"('');`)
    const client = await db.connect()
    const notices: string[] = []
    client.on('notice', (notice) => notices.push(notice.message ?? ''))
    await expect(client.query('INSERT INTO broken VALUES (1)')).resolves.toMatchObject({ rowCount: 1 })
    expect(notices).toEqual([
      expect.stringContaining('tiered-cache change capture could not publish a change of public.broken'),
    ])
  })

  it('is removed by the drop SQL: no function, no trigger, nothing published', async () => {
    await db.run(changeCaptureDropSql())
    const triggers = await db.run(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgname LIKE '%capture%'`)
    const functions = await db.run(`SELECT count(*)::int AS n FROM pg_proc WHERE proname LIKE 'ptc_capture%'`)
    expect([triggers.rows[0].n, functions.rows[0].n]).toEqual([0, 0])
    expect(await changesOf(() => db.run(`INSERT INTO "Tag" (name) VALUES ('after drop')`))).toEqual([])
    await db.run(changeCaptureDropSql())
  })
})
