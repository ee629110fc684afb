import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { describe, expect, it } from 'vitest'
import { PrismaClient } from '../../../generated/sqlite/client.ts'
import { EntityTag } from '../../../src/cache/keys.ts'
import { clientDataModel } from '../../../src/prisma/schema/datamodel.ts'
import { cacheDependencies } from '../../../src/prisma/tags/read-dependencies.ts'
import { entityTag, modelTag, recordTag, userTag, withEntityTags } from '../../../src/prisma/tags/vocabulary.ts'
import { rawInvalidations, writeInvalidations } from '../../../src/prisma/tags/write-invalidations.ts'

const dm = clientDataModel(new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: 'file::memory:' }) }))

/** Writes of every kind the invalidation rules tell apart, with the results Prisma would give. */
const writes: Array<[model: string, operation: string, args: object, result: unknown]> = [
  [
    'User',
    'create',
    { data: { email: 'a', posts: { create: [{ title: 't' }] }, profile: { create: { bio: 'b' } } } },
    { id: 1 },
  ],
  ['User', 'update', { where: { id: 1 }, data: { name: 'x' } }, { id: 1 }],
  ['User', 'update', { where: { email: 'a' }, data: { posts: { connect: { id: 2 } } } }, { id: 1 }],
  [
    'User',
    'update',
    { where: { id: 1 }, data: { posts: { disconnect: { id: 2 } }, profile: { delete: true } } },
    { id: 1 },
  ],
  ['User', 'update', { where: { id: 1 }, data: { id: 5 } }, { id: 5 }],
  ['Post', 'update', { where: { id: 2 }, data: { author: { connect: { id: 3 } } } }, { id: 2 }],
  ['Post', 'update', { where: { id: 2 }, data: { tags: { set: [{ id: 1 }] } } }, { id: 2 }],
  ['Tag', 'update', { where: { id: 1 }, data: { posts: { create: { title: 't', authorId: 1 } } } }, { id: 1 }],
  ['User', 'upsert', { where: { id: 9 }, create: { email: 'z' }, update: { name: 'z' } }, { id: 9 }],
  ['User', 'delete', { where: { id: 1 } }, { id: 1 }],
  ['Post', 'delete', { where: { id: 2 } }, null],
  ['User', 'updateMany', { where: {}, data: { name: 'n' } }, { count: 2 }],
  ['Post', 'deleteMany', {}, { count: 2 }],
  ['Comment', 'createMany', { data: [{ body: 'b', postId: 1 }] }, { count: 1 }],
  ['Comment', 'createManyAndReturn', { data: [{ body: 'b', postId: 1 }] }, [{ id: 4 }]],
  ['Membership', 'update', { where: { orgId_userId: { orgId: 1, userId: 2 } }, data: { role: 'r' } }, { id: 3 }],
  ['User', 'somethingNew', {}, undefined],
]

describe('the tag vocabulary', () => {
  it('is written with the public EntityTag', () => {
    expect(modelTag('User')).toBe(EntityTag.list('User'))
    expect(entityTag('User')).toBe(EntityTag.entity('User'))
    expect(recordTag('User', [1])).toBe(EntityTag.record('User', 1))
    expect(recordTag('Membership', [1, 2])).toBe(EntityTag.record('Membership', [1, 2]))
    expect(userTag('feed')).toBe(EntityTag.query('feed'))
  })

  it('bumps an entity tag only together with its model tag, so carrying it changes no entry', () => {
    for (const tags of [
      ...writes.map(([model, operation, args, result]) => writeInvalidations(dm, model, operation, args, result)),
      rawInvalidations(dm),
    ]) {
      for (const tag of tags) if (tag.startsWith('a:')) expect(tags).toContain(`m:${tag.slice(2)}`)
    }
  })

  it('gives an entry the entity tag of every model it touches, and nothing else', () => {
    const entity = (tags: readonly string[]) => tags.filter((t) => t.startsWith('a:')).sort()
    const list = cacheDependencies(dm, 'Post', 'findMany', { include: { author: true, tags: true } })
    expect(entity(list.tags)).toEqual(['a:Post', 'a:Tag', 'a:User'])
    const record = cacheDependencies(dm, 'User', 'findUnique', { where: { id: 1 }, include: { posts: true } })
    expect(entity(record.tags)).toEqual(['a:Post', 'a:User'])
    expect(withEntityTags(['u:feed', 'r:User:1'])).toEqual(['u:feed', 'r:User:1'])
    expect(withEntityTags(['m:User'])).toEqual(['m:User', 'a:User'])
  })
})
