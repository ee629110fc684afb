import { describe, expect, it } from 'vitest'
import { debugFromEnvironment, debugLine } from '../../../src/prisma/debug.ts'
import { keyHash } from '../../../src/prisma/key-hash.ts'
import { resolveOptions } from '../../../src/prisma/options.ts'

describe('DEBUG', () => {
  it.each([
    ['tiered-cache', true],
    ['express,tiered-cache', true],
    ['tiered-*', true],
    ['*', true],
    ['*,-tiered-cache', false],
    ['prisma*', false],
    ['', false],
    [undefined, false],
  ])('%j turns debug lines %s', (value, on) => {
    expect(debugFromEnvironment(value)).toBe(on)
  })

  it('debug: false wins over the environment; a function is the logger; anything else names the option', () => {
    const previous = process.env.DEBUG
    process.env.DEBUG = 'tiered-cache'
    try {
      expect(resolveOptions({}).debug).toBeTypeOf('function')
      expect(resolveOptions({ debug: false }).debug).toBeUndefined()
    } finally {
      if (previous === undefined) delete process.env.DEBUG
      else process.env.DEBUG = previous
    }
    const logger = () => {}
    expect(resolveOptions({ debug: logger }).debug).toBe(logger)
    expect(() => resolveOptions({ debug: 'yes' as never })).toThrow(/debug/)
  })
})

describe('debugLine', () => {
  it('says an invalidation, its tags and the write behind it, in one line', () => {
    const line = debugLine('invalidate', {
      tags: ['m:User', 'a:User', 'r:User:1'],
      cause: { model: 'User', operation: 'update', transaction: true, instance: 'i1' },
    })
    expect(line).toBe('invalidate tags m:User a:User r:User:1 by User.update in a transaction on i1')
  })

  it('shows a key as its hash, never its text', () => {
    const key = 'ptc:v1:User.findUnique:{"where":{"email":"ada@example.com"}}'
    const line = debugLine('miss', { key, model: 'User', operation: 'findUnique' })
    expect(line).toBe(`miss User.findUnique key #${keyHash(key)}`)
    expect(line).not.toContain('ada@')
  })

  it('is silent for events nobody debugs by', () => {
    expect(debugLine('set', { key: 'k', tier: 'l1' })).toBeUndefined()
  })
})

describe('keyHash', () => {
  it('is 8 hex digits, the same for the same key and different for another', () => {
    expect(keyHash('a')).toMatch(/^[0-9a-f]{8}$/)
    expect(keyHash('ptc:User:1')).toBe(keyHash('ptc:User:1'))
    expect(keyHash('ptc:User:1')).not.toBe(keyHash('ptc:User:2'))
  })
})
