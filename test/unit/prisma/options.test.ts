import { describe, expect, it } from 'vitest'
import { CacheOptionError } from '../../../src/core/errors.ts'
import { checkModelNames, resolveOptions } from '../../../src/prisma/options.ts'
import { planRead } from '../../../src/prisma/read-plan.ts'

describe('resolveOptions for many instances and bad days', () => {
  it('defaults grace to 0 and the stampede lock to off with a 2 s wait', () => {
    const options = resolveOptions({})
    expect(options.grace).toBe(0)
    expect(options.stampede).toEqual({ lock: false, waitMs: 2_000 })
  })

  it("gives a model policy the top-level grace unless it sets its own, and a read its model's", () => {
    const options = resolveOptions({ grace: 600, models: { User: { ttl: 5 }, Post: { grace: 30 }, Tag: true } })
    expect(planRead(options, 'User', true, undefined)?.grace).toBe(600)
    expect(planRead(options, 'Post', { ttl: 1 }, undefined)?.grace).toBe(30)
    expect(planRead(options, 'Tag', undefined, undefined)?.grace).toBe(600)
    expect(planRead(options, 'Comment', undefined, { ttl: 1 })?.grace).toBe(600)
  })

  it('rejects a bad grace or stampede option with a TypeError naming it', () => {
    expect(() => resolveOptions({ grace: -1 })).toThrow(/^grace/)
    expect(() => resolveOptions({ models: { User: { grace: Number.NaN } } })).toThrow(/models\.User\.grace/)
    expect(() => resolveOptions({ stampede: { waitMs: 0 } })).toThrow(/stampede\.waitMs/)
    expect(() => resolveOptions({ stampede: { lock: 'yes' as never } })).toThrow(/stampede\.lock/)
    expect(() => resolveOptions({ stampede: { lock: true }, l2: false })).toThrow(TypeError)
  })
})

describe('option checks at tieredCache()', () => {
  it('rejects l1.ttl and l2.ttl of 0 there, naming them', () => {
    expect(() => resolveOptions({ l1: { ttl: 0 } })).toThrow(CacheOptionError)
    expect(() => resolveOptions({ l1: { ttl: 0 } })).toThrow(/^l1\.ttl: /)
    expect(() => resolveOptions({ l2: { ttl: 0 } })).toThrow(/^l2\.ttl: /)
  })

  it('takes l2.durable, checked', () => {
    expect(resolveOptions({ l2: { durable: true } }).l2).toMatchObject({ durable: { replicas: 1, timeoutMs: 500 } })
    expect(resolveOptions({}).l2).toMatchObject({ durable: undefined })
    expect(() => resolveOptions({ l2: { durable: { replicas: 0 } } })).toThrow(/^l2\.durable\.replicas: /)
  })

  it('checks replicaLag, namespace and changeCapture', () => {
    expect(resolveOptions({ replicaLag: 2 }).replicaLag).toBe(2)
    expect(() => resolveOptions({ replicaLag: -1 })).toThrow(/^replicaLag: /)
    expect(() => resolveOptions({ namespace: '' })).toThrow(/^namespace: /)
    expect(() => resolveOptions({ changeCapture: { url: 'mysql://x' } })).toThrow(/^changeCapture\.url: /)
    expect(() => resolveOptions({ changeCapture: { url: 'postgres://x', poll: 1 } as never })).toThrow(
      /^changeCapture\.poll: /,
    )
  })

  it('names the closest model for a misspelt one in models', () => {
    const models = resolveOptions({ models: { user: { ttl: 5 } } }).models
    expect(() => checkModelNames(models, ['User', 'Post'])).toThrow(CacheOptionError)
    expect(() => checkModelNames(models, ['User', 'Post'])).toThrow(/^models\.user: .*did you mean "User"/)
    expect(() => checkModelNames(resolveOptions({ models: { User: true } }).models, ['User'])).not.toThrow()
  })
})
