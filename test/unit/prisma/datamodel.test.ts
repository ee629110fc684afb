import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaPg } from '@prisma/adapter-pg'
import { describe, expect, it } from 'vitest'
import { PrismaClient as PostgresClient } from '../../../generated/postgres/client.ts'
import { PrismaClient as SqliteClient } from '../../../generated/sqlite/client.ts'
import { buildDataModel, clientDataModel } from '../../../src/prisma/schema/datamodel.ts'
import { runtime } from './tags-support.ts'

// Constructing a client opens no connection; these tests only read what the client carries.
const clients = {
  sqlite: () => new SqliteClient({ adapter: new PrismaBetterSqlite3({ url: 'file::memory:' }) }),
  postgres: () =>
    new PostgresClient({ adapter: new PrismaPg({ connectionString: 'postgresql://nobody@127.0.0.1:1/none' }) }),
}

const sorted = (items: readonly string[]) => [...items].sort()

describe.each(['sqlite', 'postgres'] as const)('the data model of the %s test client', (provider) => {
  const dm = clientDataModel(clients[provider]())

  it('lists every model and understands each one from the schema text', () => {
    expect(sorted(dm.models)).toEqual([
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
    ])
    for (const name of dm.models) expect(dm.model(name)?.precise).toBe(true)
    expect(dm.views).toEqual([])
  })

  it('knows primary keys, including string ids', () => {
    expect(dm.primaryKey('User')).toEqual(['id'])
    expect(dm.primaryKey('Document')).toEqual(['id'])
    expect(dm.model('Document')?.scalars.get('id')).toBe('String')
  })

  it('knows unique selectors by their where-input names, compound ones as a_b', () => {
    expect(dm.uniqueSelectors('User')).toEqual([
      { name: 'id', fields: ['id'], primary: true },
      { name: 'email', fields: ['email'], primary: false },
    ])
    expect(dm.uniqueSelectors('Membership')).toContainEqual({
      name: 'orgId_userId',
      fields: ['orgId', 'userId'],
      primary: false,
    })
    expect(dm.uniqueSelectors('Profile').map((s) => s.name)).toEqual(['id', 'userId'])
  })

  it('describes the side of a one-to-many relation that holds the foreign key', () => {
    expect(dm.relation('Post', 'author')).toMatchObject({
      target: 'User',
      inverse: 'posts',
      isList: false,
      fields: ['authorId'],
      references: ['id'],
      onDelete: 'Cascade',
      onUpdate: 'Cascade',
      holdsForeignKey: true,
      implicitManyToMany: false,
      precise: true,
    })
  })

  it('describes the list side of a relation with the foreign key of the other side', () => {
    expect(dm.relation('User', 'posts')).toMatchObject({
      target: 'Post',
      inverse: 'author',
      isList: true,
      fields: ['authorId'],
      holdsForeignKey: false,
      onDelete: 'Cascade',
    })
    expect(dm.relation('User', 'profile')).toMatchObject({ isList: false, holdsForeignKey: false, fields: ['userId'] })
  })

  it('reads a declared SetNull on an optional relation', () => {
    expect(dm.relation('Comment', 'author')).toMatchObject({ onDelete: 'SetNull', onUpdate: 'Cascade' })
  })

  it('recognises an implicit many-to-many relation on both sides', () => {
    for (const [model, field, target] of [
      ['Post', 'tags', 'Tag'],
      ['Tag', 'posts', 'Post'],
    ] as const) {
      expect(dm.relation(model, field)).toMatchObject({
        target,
        isList: true,
        implicitManyToMany: true,
        holdsForeignKey: false,
        fields: [],
      })
    }
  })

  it('cascades a user delete through posts to comments, and to the tags of the deleted posts', () => {
    const effects = dm.referentialEffects('User', 'delete')
    expect(sorted(effects.changed)).toEqual(['Comment', 'Post', 'Profile'])
    expect(effects.relationViews).toEqual(['Tag'])
  })

  it('cascades a post delete to its comments and removes its tag links', () => {
    expect(dm.referentialEffects('Post', 'delete')).toEqual({ changed: ['Comment'], relationViews: ['Tag'] })
    expect(dm.referentialEffects('Tag', 'delete')).toEqual({ changed: [], relationViews: ['Post'] })
    expect(dm.referentialEffects('Comment', 'delete')).toEqual({ changed: [], relationViews: [] })
  })

  it('lets an update act only when it changes a referenced field', () => {
    expect(dm.referentialEffects('User', 'update', ['name', 'email'])).toEqual({ changed: [], relationViews: [] })
    expect(sorted(dm.referentialEffects('User', 'update', ['id']).changed)).toEqual(['Comment', 'Post', 'Profile'])
    expect(sorted(dm.referentialEffects('User', 'update').changed)).toEqual(['Comment', 'Post', 'Profile'])
    expect(dm.referentialEffects('Post', 'update', ['id'])).toEqual({ changed: ['Comment'], relationViews: ['Tag'] })
  })

  it('fingerprints the schema as 12 hex characters, the same for every client of it', () => {
    expect(dm.fingerprint).toMatch(/^[0-9a-f]{12}$/)
    expect(clientDataModel(clients[provider]()).fingerprint).toBe(dm.fingerprint)
  })

  it('reads an extended client the same as its base', () => {
    const extended = clientDataModel(clients[provider]().$extends({}))
    expect(extended.fingerprint).toBe(dm.fingerprint)
    expect(extended.model('Post')?.precise).toBe(true)
  })
})

describe('reading the data model from a client', () => {
  it('gives SQLite and PostgreSQL schemas different fingerprints', () => {
    expect(clientDataModel(clients.sqlite()).fingerprint).not.toBe(clientDataModel(clients.postgres()).fingerprint)
  })

  it('falls back to the engine config when the client field is missing', () => {
    const client = clients.sqlite() as unknown as { _engineConfig: unknown }
    const dm = clientDataModel({ _engineConfig: client._engineConfig })
    expect(dm.model('User')?.precise).toBe(true)
  })

  it('marks every model imprecise when the client carries no schema text', () => {
    const client = clients.sqlite() as unknown as { _runtimeDataModel: unknown }
    const dm = clientDataModel({ _runtimeDataModel: client._runtimeDataModel })
    expect(dm.model('User')?.precise).toBe(false)
    expect(dm.fingerprint).toMatch(/^[0-9a-f]{12}$/)
  })

  it('throws a TypeError for something that is not a Prisma client', () => {
    expect(() => clientDataModel({})).toThrow(TypeError)
    expect(() => clientDataModel(null)).toThrow(TypeError)
  })
})

describe('the schema parser', () => {
  it('reads compound ids with and without a name, in both argument forms', () => {
    const rt = runtime({ A: 'x:Int y:Int', B: 'x:Int y:Int', C: 'x:Int y:Int z:String' })
    const dm = buildDataModel(
      rt,
      `model A {
        x Int
        y Int
        @@id([x, y], name: "pair")
      }
      model B {
        x Int
        y Int
        @@id(fields: [x, y])
      }
      model C {
        x Int
        y Int
        z String @unique(map: "c_z")
        @@id([x(sort: Desc), y])
        @@unique(fields: [y, z], name: "yz")
        @@unique([z, x])
      }`,
    )
    expect(dm.primaryKey('A')).toEqual(['x', 'y'])
    expect(dm.model('A')?.primarySelector?.name).toBe('pair')
    expect(dm.uniqueSelectors('A')).toEqual([{ name: 'pair', fields: ['x', 'y'], primary: true }])
    expect(dm.uniqueSelectors('B')).toEqual([{ name: 'x_y', fields: ['x', 'y'], primary: true }])
    expect(dm.uniqueSelectors('C')).toEqual([
      { name: 'z', fields: ['z'], primary: false },
      { name: 'x_y', fields: ['x', 'y'], primary: true },
      { name: 'yz', fields: ['y', 'z'], primary: false },
      { name: 'z_x', fields: ['z', 'x'], primary: false },
    ])
    expect(dm.primaryKey('C')).toEqual(['x', 'y'])
  })

  it('ignores comments, @map, @@map, enums, type blocks and several generator and datasource blocks', () => {
    const rt = runtime(
      {
        User: 'id:Int role:Role posts:Post@Authored',
        Post: 'id:Int url:String authorId:Int author:User@Authored',
      },
      ['Role'],
    )
    const dm = buildDataModel(
      rt,
      `// header { with a brace
      generator client {
        provider = "prisma-client"
        output   = "../generated"
      }
      generator docs {
        provider = "node-docs" // }
      }
      datasource db {
        provider = "postgresql"
      }
      /// A role. model Fake {
      enum Role {
        ADMIN @map("admin")
        USER
      }
      type Address {
        street String
      }
      model User {
        id    Int    @id @map("user_id") // @unique is not here
        role  Role   @default(USER)
        posts Post[] @relation("Authored")
        @@map("users")
      }
      model Post {
        id       Int    @id @default(autoincrement())
        url      String @default("http://example.com/{x}") /// a "quoted" // comment
        authorId Int    @map("author_id")
        author   User   @relation("Authored", fields: [authorId], references: [id], onDelete: Cascade, map: "fk")
        @@map(name: "posts")
        @@index([authorId])
      }`,
    )
    expect(dm.model('User')?.precise).toBe(true)
    expect(dm.model('Post')?.precise).toBe(true)
    expect(dm.uniqueSelectors('User')).toEqual([{ name: 'id', fields: ['id'], primary: true }])
    expect(dm.relation('Post', 'author')).toMatchObject({ fields: ['authorId'], onDelete: 'Cascade' })
    expect(dm.model('User')?.scalars.get('role')).toBe('Role')
  })

  it('reads native types, defaults with calls and lists, and index options without losing the model', () => {
    const dm = buildDataModel(
      runtime({ Doc: 'id:String n:Int tags:String ratio:Float title:String' }),
      `model Doc {
        id     String   @id @default(dbgenerated("gen_random_uuid()")) @db.Uuid
        n      Int      @default(-1)
        tags   String[] @default([])
        ratio  Float    @default(1.5e3)
        title  String   @db.VarChar(200)
        search Unsupported("tsvector")?
        @@index([title(ops: raw("gin_trgm_ops"))], type: Gin)
        @@unique([n, ratio], map: "n_ratio_key")
        @@schema("public")
      }`,
    )
    expect(dm.model('Doc')?.precise).toBe(true)
    expect(dm.uniqueSelectors('Doc').map((s) => s.name)).toEqual(['id', 'n_ratio'])
  })

  it('reads a @relation spread over several lines with a positional name', () => {
    const dm = buildDataModel(
      runtime({ User: 'id:Int posts:Post@Writes', Post: 'id:Int ownerId:Int owner:User@Writes' }),
      `model User {
        id    Int    @id
        posts Post[] @relation(
          "Writes"
        )
      }
      model Post {
        id      Int  @id
        ownerId Int
        owner   User @relation("Writes",
                               fields: [ownerId],
                               references: [id],
                               onUpdate: Restrict,
                               onDelete: SetDefault)
      }`,
    )
    expect(dm.relation('Post', 'owner')).toMatchObject({
      fields: ['ownerId'],
      references: ['id'],
      onDelete: 'SetDefault',
      onUpdate: 'Restrict',
      holdsForeignKey: true,
    })
    expect(dm.referentialEffects('User', 'delete').changed).toEqual(['Post'])
    expect(dm.referentialEffects('User', 'update', ['id']).changed).toEqual([])
  })

  it('applies Prisma defaults: SetNull for an optional relation, Restrict for a required one', () => {
    const dm = buildDataModel(
      runtime({
        User: 'id:Int notes:Note@Notes drafts:Draft@Drafts',
        Note: 'id:Int userId:Int user:User@Notes',
        Draft: 'id:Int userId:Int user:User@Drafts',
      }),
      `model User {
        id     Int     @id
        notes  Note[]  @relation("Notes")
        drafts Draft[] @relation("Drafts")
      }
      model Note {
        id     Int  @id
        userId Int?
        user   User? @relation("Notes", fields: [userId], references: [id])
      }
      model Draft {
        id     Int  @id
        userId Int
        user   User @relation("Drafts", fields: [userId], references: [id])
      }`,
    )
    expect(dm.relation('Note', 'user')).toMatchObject({ onDelete: 'SetNull', onUpdate: 'Cascade' })
    expect(dm.relation('Draft', 'user')).toMatchObject({ onDelete: 'Restrict', onUpdate: 'Cascade' })
    // Restrict makes the delete fail rather than change drafts; SetNull changes notes.
    expect(dm.referentialEffects('User', 'delete').changed).toEqual(['Note'])
    expect(sorted(dm.referentialEffects('User', 'update', ['id']).changed)).toEqual(['Draft', 'Note'])
  })

  it('follows SetNull of a child on delete without deleting the child', () => {
    const dm = buildDataModel(
      runtime({
        User: 'id:Int comments:Comment@ByUser',
        Comment: 'id:Int authorId:Int author:User@ByUser replies:Reply@OnComment',
        Reply: 'id:Int commentId:Int comment:Comment@OnComment',
      }),
      `model User {
        id       Int       @id
        comments Comment[] @relation("ByUser")
      }
      model Comment {
        id       Int     @id
        authorId Int?
        author   User?   @relation("ByUser", fields: [authorId], references: [id], onDelete: SetNull)
        replies  Reply[] @relation("OnComment")
      }
      model Reply {
        id        Int     @id
        commentId Int
        comment   Comment @relation("OnComment", fields: [commentId], references: [id], onDelete: Cascade)
      }`,
    )
    // Comments are updated, not deleted, so their replies stay.
    expect(dm.referentialEffects('User', 'delete')).toEqual({ changed: ['Comment'], relationViews: [] })
  })

  it('reads an onUpdate action only for the referenced fields, even when they are not the id', () => {
    const dm = buildDataModel(
      runtime({ User: 'id:Int email:String name:String logins:Login@L', Login: 'id:Int email:String user:User@L' }),
      `model User {
        id     Int     @id
        email  String  @unique
        name   String
        logins Login[] @relation("L")
      }
      model Login {
        id    Int    @id
        email String
        user  User   @relation("L", fields: [email], references: [email], onUpdate: Cascade)
      }`,
    )
    expect(dm.referentialEffects('User', 'update', ['email']).changed).toEqual(['Login'])
    expect(dm.referentialEffects('User', 'update', ['id', 'name']).changed).toEqual([])
  })

  it('handles a self relation that cascades, without looping', () => {
    const dm = buildDataModel(
      runtime({ Category: 'id:Int parentId:Int parent:Category@Tree children:Category@Tree' }),
      `model Category {
        id       Int        @id
        parentId Int?
        parent   Category?  @relation("Tree", fields: [parentId], references: [id], onDelete: Cascade)
        children Category[] @relation("Tree")
      }`,
    )
    expect(dm.relation('Category', 'parent')).toMatchObject({ holdsForeignKey: true, inverse: 'children' })
    expect(dm.relation('Category', 'children')).toMatchObject({
      holdsForeignKey: false,
      inverse: 'parent',
      isList: true,
    })
    expect(dm.referentialEffects('Category', 'delete').changed).toEqual(['Category'])
  })

  it('recognises an implicit many-to-many self relation', () => {
    const dm = buildDataModel(
      runtime({ User: 'id:Int followers:User@Follows following:User@Follows' }),
      `model User {
        id        Int    @id
        followers User[] @relation("Follows")
        following User[] @relation("Follows")
      }`,
    )
    expect(dm.relation('User', 'followers')).toMatchObject({ implicitManyToMany: true, inverse: 'following' })
    expect(dm.referentialEffects('User', 'delete')).toEqual({ changed: [], relationViews: ['User'] })
    expect(dm.referentialEffects('User', 'update', ['name']).relationViews).toEqual([])
  })

  it('treats a view as a model with no writes', () => {
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
    expect(dm.views).toEqual(['UserInfo'])
    expect(dm.model('UserInfo')).toMatchObject({ isView: true, precise: true })
    expect(dm.model('User')?.isView).toBe(false)
  })

  it('uses a required unique field as the identity of a model without an id', () => {
    const dm = buildDataModel(
      runtime({ A: 'code:String nick:String' }),
      `model A {
        nick String? @unique
        code String  @unique
      }`,
    )
    expect(dm.primaryKey('A')).toEqual(['code'])
    expect(dm.model('A')?.primarySelector).toEqual({ name: 'code', fields: ['code'], primary: false })
  })

  it('assumes cascades both ways for every relation when there is no schema text', () => {
    const dm = buildDataModel(
      runtime({
        User: 'id:Int posts:Post@PostToUser',
        Post: 'id:Int authorId:Int author:User@PostToUser comments:Comment@CommentToPost',
        Comment: 'id:Int postId:Int post:Post@CommentToPost',
      }),
    )
    expect(dm.model('User')).toMatchObject({ precise: false, primaryKey: undefined, uniqueSelectors: [] })
    expect(dm.relation('Post', 'author')).toMatchObject({ precise: false, onDelete: 'Cascade', onUpdate: 'Cascade' })
    expect(sorted(dm.referentialEffects('User', 'delete').changed)).toEqual(['Comment', 'Post', 'User'])
    expect(sorted(dm.referentialEffects('Comment', 'delete').changed)).toEqual(['Comment', 'Post', 'User'])
    expect(sorted(dm.referentialEffects('User', 'update', ['name']).changed)).toEqual(['Comment', 'Post', 'User'])
  })

  it('marks only the model it cannot parse imprecise, and its relations conservative', () => {
    const dm = buildDataModel(
      runtime({
        User: 'id:Int posts:Post@PostToUser',
        Post: 'id:Int authorId:Int author:User@PostToUser',
        Tag: 'id:Int',
      }),
      `model User {
        id    Int    @id
        posts Post[]
      }
      model Post {
        id       Int  @id
        authorId Int  ???
        author   User @relation(fields: [authorId], references: [id], onDelete: Restrict)
      }
      model Tag {
        id Int @id
      }`,
    )
    expect(dm.model('User')?.precise).toBe(true)
    expect(dm.model('Tag')?.precise).toBe(true)
    expect(dm.model('Post')?.precise).toBe(false)
    expect(dm.relation('User', 'posts')?.precise).toBe(false)
    // Restrict is not believed from a block that did not parse: both sides may cascade.
    expect(sorted(dm.referentialEffects('User', 'delete').changed)).toEqual(['Post', 'User'])
  })

  it('marks a model imprecise when the schema text lacks it or one of its fields', () => {
    const dm = buildDataModel(
      runtime({ A: 'id:Int extra:String', B: 'id:Int' }),
      `model A {
        id Int @id
      }`,
    )
    expect(dm.model('A')?.precise).toBe(false)
    expect(dm.model('B')?.precise).toBe(false)
  })

  it('distrusts a block whose braces do not balance', () => {
    const dm = buildDataModel(
      runtime({ A: 'id:Int' }),
      `model A {
        id Int @id
      `,
    )
    expect(dm.model('A')?.precise).toBe(false)
  })

  it('fingerprints the runtime data model when there is no schema text', () => {
    const a = buildDataModel(runtime({ A: 'id:Int' }))
    expect(a.fingerprint).toMatch(/^[0-9a-f]{12}$/)
    expect(buildDataModel(runtime({ A: 'id:Int' })).fingerprint).toBe(a.fingerprint)
    expect(buildDataModel(runtime({ A: 'id:String' })).fingerprint).not.toBe(a.fingerprint)
  })

  it('answers undefined and empty for models and fields it does not know', () => {
    const dm = buildDataModel(runtime({ A: 'id:Int' }), 'model A {\n id Int @id\n}')
    expect(dm.model('Nope')).toBeUndefined()
    expect(dm.primaryKey('Nope')).toBeUndefined()
    expect(dm.uniqueSelectors('Nope')).toEqual([])
    expect(dm.relation('A', 'id')).toBeUndefined()
    expect(dm.referentialEffects('Nope', 'delete')).toEqual({ changed: [], relationViews: [] })
  })
})
