import { afterEach, describe, expect, it, vi } from 'vitest'

afterEach(() => {
  vi.doUnmock('node:module')
  vi.resetModules()
})

describe('connectRedis', () => {
  it('names `redis` and says what to install when ioredis is missing', async () => {
    vi.resetModules()
    vi.doMock('node:module', async (original) => ({
      ...(await original<typeof import('node:module')>()),
      createRequire: () => () => {
        throw Object.assign(new Error("Cannot find module 'ioredis'"), { code: 'MODULE_NOT_FOUND' })
      },
    }))
    const { connectRedis } = await import('../../../src/cache/redis/connection.ts')
    let error: unknown
    try {
      connectRedis('redis://127.0.0.1:1')
    } catch (e) {
      error = e
    }
    expect(error).toMatchObject({ name: 'CacheOptionError', option: 'redis', code: 'E_CACHE_OPTION' })
    expect(String((error as Error).message)).toContain('npm install ioredis')
    expect((error as Error).cause).toMatchObject({ code: 'MODULE_NOT_FOUND' })
  })

  it('leaves ioredis unloaded by the cache layer until a URL is opened', async () => {
    vi.resetModules()
    vi.doMock('ioredis', () => {
      throw new Error('ioredis is not installed')
    })
    const { TieredCache } = await import('../../../src/cache/tiered/tiered-cache.ts')
    const { RedisCache } = await import('../../../src/cache/redis/redis-cache.ts')
    expect(await new TieredCache().getOrSet('k', async () => 'loaded')).toBe('loaded')
    expect(typeof RedisCache).toBe('function')
    vi.doUnmock('ioredis')
  })
})

describe('recognising connections by shape', () => {
  it('tells a cluster (it has nodes()) from a server, whatever copy of ioredis made them', async () => {
    const { isCluster, isRedisConnection } = await import('../../../src/cache/redis/connection.ts')
    const server = { status: 'ready', evalsha: () => {}, options: {} }
    const cluster = { ...server, nodes: () => [] }
    expect(isRedisConnection(server)).toBe(true)
    expect(isRedisConnection({ status: 'ready' })).toBe(false)
    expect(isCluster(server as never)).toBe(false)
    expect(isCluster(cluster as never)).toBe(true)
  })
})
