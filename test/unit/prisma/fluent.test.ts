import { describe, expect, it } from 'vitest'
import { cachedReadPromise, withFluent } from '../../../src/prisma/fluent.ts'
import { CachedPrismaPromise, type ReadOutcome } from '../../../src/prisma/prisma-promise.ts'
import { dm } from './tags-support.ts'

type Args = Record<string, unknown>
type Relations = Record<string, (args?: unknown) => CachedPrismaPromise<unknown>>

/** A cached read of `operation` whose value is `value(args)`, and the arguments it was issued with. */
function reads(value: (args: Args) => unknown, model = 'User') {
  const issued: Args[] = []
  const direct = () => ({ requestTransaction: () => 'batch' })
  const read = (operation: string, args: Args): CachedPrismaPromise<unknown> => {
    issued.push(args)
    const run = (outcome: ReadOutcome) => {
      outcome.status = 'ttl'
      return Promise.resolve(value(args))
    }
    return cachedReadPromise(run, direct, dm, model, operation, args, (again) => read(operation, again))
  }
  return { read, issued }
}

describe('cachedReadPromise', () => {
  it('gives a read of one record a method per relation, which re-issues it with the relation selected', async () => {
    const posts = [{ id: 1, title: 'a' }]
    const { read, issued } = reads((args) => ('select' in args ? { posts } : { id: 7 }))
    const promise = read('findUnique', { where: { id: 7 } }) as unknown as CachedPrismaPromise<unknown> & Relations
    expect(await promise).toEqual({ id: 7 })
    expect(await promise.posts!({ take: 1 })).toEqual(posts)
    expect(issued.at(-1)).toEqual({ where: { id: 7 }, select: { posts: { take: 1 } } })
    expect(issued[0]).toEqual({ where: { id: 7 } })
  })

  it('follows a chain down two relations, and a missing record stays null', async () => {
    const { read, issued } = reads(() => ({ author: null }), 'Post')
    const promise = read('findFirst', { where: { id: 7 } }) as unknown as Relations
    const author = promise.author!() as unknown as Relations
    expect(issued).toHaveLength(1)
    expect(await author.posts!()).toBeNull()
    expect(issued.at(-1)).toEqual({ where: { id: 7 }, select: { author: { select: { posts: true } } } })
  })

  it('gives a read of many a plain cached promise, which a batch transaction runs as the real query', async () => {
    const { read } = reads(() => [])
    const promise = read('findMany', {})
    expect(Object.getPrototypeOf(promise)).toBe(CachedPrismaPromise.prototype)
    expect(promise.requestTransaction({})).toBe('batch')
    expect(await promise.withAccelerateInfo()).toMatchObject({ data: [], info: { cacheStatus: 'ttl' } })
  })
})

describe('withFluent', () => {
  it('returns anything but a cached promise of a one-record read as it is', () => {
    const plain = Promise.resolve(1)
    expect(withFluent(plain, dm, 'User', 'findUnique', {}, () => plain)).toBe(plain)
    const many = new CachedPrismaPromise(
      () => Promise.resolve([]),
      () => ({}),
    )
    expect(withFluent(many, dm, 'User', 'findMany', {}, () => many)).toBe(many)
  })
})
