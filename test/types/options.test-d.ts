import { describe, expectTypeOf, it } from 'vitest'
import type { CacheEventMap } from '../../src/core/events.ts'
import type { tieredCache } from '../../src/prisma/extension.ts'

type Options = NonNullable<Parameters<typeof tieredCache>[0]>

describe('options of many instances and bad days', () => {
  it('accepts grace at the top level and per model, and the stampede lock', () => {
    expectTypeOf<{
      grace: 3600
      models: { User: { ttl: 30; grace: 60 } }
      stampede: { lock: true; waitMs: 500 }
      l2: false
    }>().toExtend<Options>()
  })

  it('rejects a misspelt stampede option and a grace that is not a number', () => {
    expectTypeOf<{ stampede: { lok: true } }>().not.toExtend<Options>()
    expectTypeOf<{ grace: '1h' }>().not.toExtend<Options>()
  })

  it('types the events of the lock, grace and replay', () => {
    expectTypeOf<CacheEventMap['stampede:waited']['outcome']>().toEqualTypeOf<
      'filled' | 'acquired' | 'timeout' | 'failed'
    >()
    expectTypeOf<CacheEventMap['grace']['tier']>().toEqualTypeOf<'l1' | 'l2'>()
    expectTypeOf<CacheEventMap['replay']>().toEqualTypeOf<{ readonly count: number }>()
  })
})
