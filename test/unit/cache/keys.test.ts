import { describe, expect, it } from 'vitest'
import { CacheKey, EntityTag, escapeGlob, KeyPattern, keyPart, stableHash } from '../../../src/cache/keys.ts'

describe('CacheKey', () => {
  it('renders a record key as prefix:namespace:id:{id}', () => {
    expect(CacheKey.record('User', 123, { prefix: 'prax' }).toString()).toBe('prax:User:id:123')
  })

  it('puts the tenant between the prefix and the namespace', () => {
    expect(CacheKey.record('User', 123, { prefix: 'prax', tenant: 'tenant-1' }).toString()).toBe(
      'prax:tenant-1:User:id:123',
    )
    expect(CacheKey.record('User', 123, { prefix: 'prax' }).withTenant('tenant-1').toString()).toBe(
      'prax:tenant-1:User:id:123',
    )
  })

  it('renders a unique lookup as unique:{field}:{value}', () => {
    expect(CacheKey.unique('User', 'email', 'test@example.com', { prefix: 'prax' }).toString()).toBe(
      'prax:User:unique:email:test@example.com',
    )
  })

  it("uses the prefix 'ptc' by default", () => {
    expect(CacheKey.record('User', 1).toString()).toBe('ptc:User:id:1')
    expect(new CacheKey({ namespace: 'User', identifier: 'x' }).prefix).toBe('ptc')
  })

  it('renders the text of a key from its parts without building one', () => {
    expect(CacheKey.render({ prefix: 'p', tenant: 't', namespace: 'User', identifier: 'x' })).toBe('p:t:User:x')
    expect(CacheKey.render({ namespace: 'User', identifier: 'id:1' })).toBe(CacheKey.record('User', 1).toString())
  })

  it('builds identifiers from fields, the first field starting the identifier', () => {
    expect(CacheKey.builder('User').field('id', 1).toString()).toBe(CacheKey.record('User', 1).toString())
    expect(CacheKey.record('User', 1).field('select', 'name').toString()).toBe('ptc:User:id:1:select:name')
  })

  it('gives a relation key that falls under its record', () => {
    const key = CacheKey.relation('User', 1, 'posts').toString()
    expect(key).toBe('ptc:User:id:1:rel:posts')
    expect(KeyPattern.record('User', 1).matches(key)).toBe(true)
  })

  it('hashes query arguments the same whatever the order of their properties', () => {
    const a = CacheKey.query('User', 'findMany', { where: { name: 'a', age: 3 }, take: 10 })
    const b = CacheKey.query('User', 'findMany', { take: 10, where: { age: 3, name: 'a' } })
    expect(a.toString()).toBe(b.toString())
    expect(a.identifier).toMatch(/^findMany:[0-9a-f]{32}$/)
  })

  it('hashes different query arguments differently', () => {
    const a = CacheKey.query('User', 'findMany', { where: { id: 1 } })
    const b = CacheKey.query('User', 'findMany', { where: { id: '1' } })
    const c = CacheKey.query('User', 'findMany', { where: { id: 1n } })
    expect(new Set([a.toString(), b.toString(), c.toString()]).size).toBe(3)
  })
})

describe('stableHash', () => {
  it('is a fixed function of the value, identical in every process and release', () => {
    // Pinned: a change here changes every key in every deployed Redis.
    expect(stableHash({ b: [1, 'x', null], a: true })).toBe('a144dac9657f9c4b949d89c845477e00')
  })

  it('tells apart instances of different classes with the same properties', () => {
    class DbNull {}
    class JsonNull {}
    expect(stableHash({ v: new DbNull() })).not.toBe(stableHash({ v: new JsonNull() }))
  })
})

describe('KeyPattern', () => {
  it('matches the keys of its entity and not those of another', () => {
    const users = KeyPattern.entity('User', { prefix: 'prax' })
    expect(users.matches('prax:User:id:123')).toBe(true)
    expect(users.matches('prax:User:unique:email:a@b.c')).toBe(true)
    expect(users.matches('prax:Post:id:123')).toBe(false)
    expect(users.matches('prax:UserProfile:id:1')).toBe(false)
  })

  it('matches one record and the keys built on it, never a record whose id merely starts the same', () => {
    const one = KeyPattern.record('User', 1)
    expect(one.matches('ptc:User:id:1')).toBe(true)
    expect(one.matches('ptc:User:id:1:select:name')).toBe(true)
    expect(one.matches('ptc:User:id:10')).toBe(false)
    expect(one.matches('ptc:User:id:21')).toBe(false)
    expect(one.matches(CacheKey.query('User', 'findMany', { id: 1 }).toString())).toBe(false)
  })

  it('gives SCAN one glob that covers every key it matches', () => {
    expect(KeyPattern.record('User', 1).toRedisGlob()).toBe('ptc:User:id:1*')
    expect(KeyPattern.entity('User').toRedisGlob()).toBe('ptc:User:*')
  })

  it('matches a tenant and everything', () => {
    expect(KeyPattern.tenant('t1').matches('ptc:t1:User:id:1')).toBe(true)
    expect(KeyPattern.tenant('t1').matches('ptc:t2:User:id:1')).toBe(false)
    expect(KeyPattern.entity('User', { tenant: 't1' }).matches('ptc:t1:User:id:1')).toBe(true)
    expect(KeyPattern.entity('User', { tenant: 't1' }).matches('ptc:User:id:1')).toBe(false)
    expect(KeyPattern.all().matches('ptc:anything:at:all')).toBe(true)
    expect(KeyPattern.all().matches('other:thing')).toBe(false)
  })

  it('escapes glob characters in the literal parts', () => {
    expect(escapeGlob('a*b?c[d]\\')).toBe('a\\*b\\?c\\[d\\]\\\\')
    const star = KeyPattern.record('User', '*')
    expect(star.toRedisGlob()).toBe('ptc:User:id:\\**')
    expect(star.matches('ptc:User:id:*')).toBe(true)
    expect(star.matches('ptc:User:id:7')).toBe(false)
  })

  it('understands Redis glob syntax given directly', () => {
    const glob = new KeyPattern('ptc:User:id:[12]?')
    expect(glob.matches('ptc:User:id:1x')).toBe(true)
    expect(glob.matches('ptc:User:id:3x')).toBe(false)
    expect(new KeyPattern('ptc:[^a]*').matches('ptc:b')).toBe(true)
    expect(new KeyPattern('ptc:[^a]*').matches('ptc:a')).toBe(false)
  })
})

describe('EntityTag', () => {
  it('renders the tags the Prisma extension attaches: entity, list, record and caller tags', () => {
    expect(EntityTag.entity('User')).toBe('a:User')
    expect(EntityTag.list('User')).toBe('m:User')
    expect(EntityTag.record('User', 1)).toBe('r:User:1')
    expect(EntityTag.query('n')).toBe('u:n')
  })

  it('writes a record id as the record tags of the extension do: typed, quoted, compound', () => {
    expect(EntityTag.record('Document', 'a\tb')).toBe('r:Document:"a\\tb"')
    expect(EntityTag.record('Counter', 1n)).toBe('r:Counter:1n')
    expect(EntityTag.record('Membership', [1, 2])).toBe('r:Membership:1,2')
    expect(EntityTag.record('Event', new Date('2026-01-01T00:00:00Z'))).toBe('r:Event:@2026-01-01T00:00:00.000Z')
  })

  it('renders tenant and relation tags for the lower layer', () => {
    expect(EntityTag.tenant('t')).toBe('tenant:t')
    expect(EntityTag.relation('a', 'b')).toBe('rel:a:b')
  })
})

describe('keyPart', () => {
  it('keeps plain ids readable and writes dates, bytes and compound ids as text', () => {
    expect(keyPart(1)).toBe('1')
    expect(keyPart(1n)).toBe('1')
    expect(keyPart('abc')).toBe('abc')
    expect(keyPart(new Date('2026-01-01T00:00:00Z'))).toBe('2026-01-01T00%3A00%3A00.000Z')
    expect(keyPart(new Uint8Array([255, 254]))).toBe('__4')
    expect(keyPart([1, 'a'])).toBe('1,a')
  })

  it('encodes the separators, so a record pattern never reaches a record whose id merely starts the same', () => {
    expect(keyPart('a:b,c%')).toBe('a%3Ab%2Cc%25')
    const key = CacheKey.record('User', 'a:b').toString()
    expect(key).toBe('ptc:User:id:a%3Ab')
    expect(KeyPattern.record('User', 'a').matches(key)).toBe(false)
    expect(KeyPattern.record('User', 'a:b').matches(key)).toBe(true)
    expect(KeyPattern.record('Membership', [1, 2]).matches(CacheKey.record('Membership', [1, 2]).toString())).toBe(true)
  })

  it('encodes a tenant the same way in keys and patterns', () => {
    const key = CacheKey.record('User', 1, { tenant: 'org:1' }).toString()
    expect(key).toBe('ptc:org%3A1:User:id:1')
    expect(KeyPattern.tenant('org:1').matches(key)).toBe(true)
    expect(KeyPattern.entity('User', { tenant: 'org:1' }).matches(key)).toBe(true)
    expect(KeyPattern.tenant('org').matches(key)).toBe(false)
  })
})
