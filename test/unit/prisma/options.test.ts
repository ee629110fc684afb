import { describe, expect, it } from 'vitest'
import { resolveOptions } from '../../../src/prisma/options.ts'
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
