import { describe, expect, it } from 'vitest'
import { CacheKey, EntityTag, escapeGlob, KeyPattern, stableHash } from '../../../src/cache/keys.ts'

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
  it('renders entity, record, tenant, query and relation tags', () => {
    expect(EntityTag.entity('User')).toBe('entity:User')
    expect(EntityTag.record('User', 1)).toBe('record:User:1')
    expect(EntityTag.tenant('t')).toBe('tenant:t')
    expect(EntityTag.query('n')).toBe('query:n')
    expect(EntityTag.relation('a', 'b')).toBe('rel:a:b')
  })
})
