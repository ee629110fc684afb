import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CacheOptionError } from '../../../src/core/errors.ts'
import { cachedInstance, type Instance } from '../../support/cached.ts'
import { Testbed } from '../../support/factory.ts'

const bed = new Testbed()
afterAll(() => bed.cleanup())

/** The CacheOptionError `run` throws (or rejects with), for a look at its `option`. */
async function optionError(run: () => unknown): Promise<CacheOptionError> {
  try {
    await run()
  } catch (error) {
    expect(error).toBeInstanceOf(CacheOptionError)
    expect(error).toBeInstanceOf(TypeError)
    return error as CacheOptionError
  }
  throw new Error('expected a CacheOptionError')
}

describe('$cache arguments', () => {
  let a: Instance
  beforeAll(async () => {
    a = await cachedInstance(bed, 'sqlite', { redis: null })
  })

  it('invalidate rejects bad input with a CacheOptionError naming the argument', async () => {
    const $cache = a.prisma.$cache
    expect((await optionError(() => $cache.invalidate(null as never))).option).toBe('invalidate')
    expect((await optionError(() => $cache.invalidate({ tags: 'feed' as never }))).option).toBe('invalidate.tags')
    expect((await optionError(() => $cache.invalidate({ tags: [''] }))).option).toBe('invalidate.tags')
    expect((await optionError(() => $cache.invalidate({ models: ['Nobody'] }))).option).toBe('invalidate.models')
    expect((await optionError(() => $cache.invalidate({ keys: [''] }))).option).toBe('invalidate.keys')
    expect((await optionError(() => $cache.invalidate({ keys: 'k' as never }))).option).toBe('invalidate.keys')
    expect((await optionError(() => a.prisma.$accelerate.invalidate({ tags: [7 as never] }))).option).toBe(
      'invalidate.tags',
    )
  })

  it('wrap throws a CacheOptionError naming the argument', async () => {
    const $cache = a.prisma.$cache
    const fn = () => 1
    expect((await optionError(() => $cache.wrap('', fn))).option).toBe('wrap.key')
    expect((await optionError(() => $cache.wrap('k', 'fn' as never))).option).toBe('wrap.fn')
    expect((await optionError(() => $cache.wrap('k', fn, { ttl: -1 }))).option).toBe('wrap.ttl')
    expect((await optionError(() => $cache.wrap('k', fn, { swr: Number.NaN }))).option).toBe('wrap.swr')
    expect((await optionError(() => $cache.wrap('k', fn, { tags: [1 as never] }))).option).toBe('wrap.tags')
    expect((await optionError(() => $cache.wrap('k', fn, { models: ['Nobody'] }))).option).toBe('wrap.models')
  })

  it('a good invalidate and wrap still work after bad calls', async () => {
    expect(await a.prisma.$cache.wrap('k', () => 41)).toBe(41)
    await a.prisma.$cache.invalidate({ keys: ['k'], models: ['User'], tags: ['feed'] })
    expect(await a.prisma.$cache.wrap('k', () => 42)).toBe(42)
  })
})
