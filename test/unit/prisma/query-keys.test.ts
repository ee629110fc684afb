import { describe, expect, it } from 'vitest'
import { KeyPattern } from '../../../src/cache/keys.ts'
import { explicitKey, readKey, wrapKey } from '../../../src/prisma/query-keys.ts'

const scope = { prefix: 'app', fingerprint: '0123456789ab' }

describe('the keys of the extension', () => {
  it('name a read prefix:Model:fingerprint:operation:arguments, the same for any key order', () => {
    const key = readKey(scope, 'User', 'findMany', { where: { name: 'a' }, take: 2 }, undefined, undefined)
    expect(key).toBe('app:User:0123456789ab:findMany:{"take":2,"where":{"name":"a"}}')
    expect(readKey(scope, 'User', 'findMany', { take: 2, where: { name: 'a' } }, undefined, undefined)).toBe(key)
  })

  it('put a findUnique by primary key under its record, where KeyPattern.record finds it', () => {
    const one = readKey(scope, 'User', 'findUnique', { where: { id: 1 } }, undefined, [1])
    expect(one).toBe('app:User:id:1:0123456789ab:findUnique:{"where":{"id":1}}')
    expect(KeyPattern.record('User', 1, { prefix: 'app' }).matches(one)).toBe(true)
    expect(KeyPattern.record('User', 10, { prefix: 'app' }).matches(one)).toBe(false)
    const list = readKey(scope, 'User', 'findMany', { where: { id: 1 } }, undefined, undefined)
    expect(KeyPattern.record('User', 1, { prefix: 'app' }).matches(list)).toBe(false)
    expect(KeyPattern.entity('User', { prefix: 'app' }).matches(list)).toBe(true)
    expect(KeyPattern.entity('User', { prefix: 'app' }).matches(one)).toBe(true)
    expect(KeyPattern.entity('Post', { prefix: 'app' }).matches(one)).toBe(false)
  })

  it('put the context in the tenant place, and keep tenants apart', () => {
    const key = readKey(scope, 'User', 'count', {}, 'org:1', undefined)
    expect(key).toBe('app:org%3A1:User:0123456789ab:count:{}')
    expect(KeyPattern.tenant('org:1', { prefix: 'app' }).matches(key)).toBe(true)
    expect(KeyPattern.entity('User', { prefix: 'app', tenant: 'org:1' }).matches(key)).toBe(true)
    expect(readKey(scope, 'User', 'count', {}, 'org:2', undefined)).not.toBe(key)
    expect(readKey(scope, 'User', 'count', {}, undefined, undefined)).not.toBe(key)
  })

  it('hash long arguments and change with the schema', () => {
    const long = { where: { name: 'x'.repeat(200) } }
    expect(readKey(scope, 'User', 'findMany', long, undefined, undefined)).toMatch(
      /^app:User:0123456789ab:findMany:#[\w-]{43}$/,
    )
    const other = { ...scope, fingerprint: 'ba9876543210' }
    expect(readKey(other, 'User', 'count', {}, undefined, undefined)).not.toBe(
      readKey(scope, 'User', 'count', {}, undefined, undefined),
    )
  })

  it('keep explicit and wrap keys out of every model, under the prefix', () => {
    expect(explicitKey(scope, 'home')).toBe('app:#key:0123456789ab:home')
    expect(wrapKey(scope, 'home')).toBe('app:#wrap:home')
    expect(KeyPattern.all({ prefix: 'app' }).matches(wrapKey(scope, 'home'))).toBe(true)
    expect(KeyPattern.entity('User', { prefix: 'app' }).matches(explicitKey(scope, 'User:1'))).toBe(false)
  })
})
