import { createRequire } from 'node:module'
import type { Cluster, Redis, RedisOptions } from 'ioredis'
import { CacheOptionError, L2TimeoutError, L2UnavailableError } from '../../core/errors.ts'
import { fail } from '../../core/validate.ts'

/**
 * Everything the cache layer knows of ioredis, an optional peer: its types (imported as types
 * only) and, when a connection must be made (a URL, a cluster node's subscriber), the package
 * itself, loaded then. Instances are recognised by shape, so a second copy of ioredis works.
 */

/** An ioredis `Redis` or `Cluster`. */
export type RedisConnection = Redis | Cluster

interface IoredisModule {
  readonly Redis: { new (url: string, options: RedisOptions): Redis; new (options: RedisOptions): Redis }
}

let ioredis: IoredisModule | undefined

/** ioredis, loaded on first use; a missing package is a `CacheOptionError` naming `redis`. */
function loadIoredis(): IoredisModule {
  if (ioredis) return ioredis
  try {
    ioredis = createRequire(import.meta.url)('ioredis') as IoredisModule
  } catch (error) {
    throw new CacheOptionError('redis', 'needs the ioredis package: npm install ioredis', { cause: error })
  }
  return ioredis
}

/**
 * Opens a connection to `url` (ioredis is loaded on the first call). Commands are not retried
 * (`maxRetriesPerRequest: 1` unless `options` say otherwise): the cache fails open instead of
 * waiting. Failures reach callers through commands, so connection errors are not printed.
 */
export function connectRedis(url: string, options: RedisOptions = {}): Redis {
  if (typeof url !== 'string') fail('redis', 'a URL', url)
  const redis = new (loadIoredis().Redis)(url, { maxRetriesPerRequest: 1, ...options })
  // Without a listener ioredis prints every connection error.
  redis.on('error', () => {})
  return redis
}

/** Whether `value` looks like an ioredis `Redis` or `Cluster` (any copy of ioredis). */
export function isRedisConnection(value: unknown): value is RedisConnection {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { status?: unknown }).status === 'string' &&
    typeof (value as { evalsha?: unknown }).evalsha === 'function'
  )
}

/** A `Cluster` has `nodes()`; a `Redis` has not. */
export function isCluster(redis: RedisConnection): redis is Cluster {
  return typeof (redis as { nodes?: unknown }).nodes === 'function'
}

/**
 * The connection of a `redis` option: a URL opens one the caller owns (and must end); an instance
 * is used as it is (connected if it was created with `lazyConnect`) and never ended by the cache.
 */
export function useConnection(redis: unknown): { readonly redis: RedisConnection; readonly owned: boolean } {
  if (typeof redis === 'string') return { redis: connectRedis(redis), owned: true }
  if (!isRedisConnection(redis)) return fail('redis', 'an ioredis Redis or Cluster instance or a URL', redis)
  // ioredis would prefix KEYS but not the keys the scripts build nor SCAN's pattern.
  if ((redis.options as { keyPrefix?: string }).keyPrefix)
    throw new CacheOptionError('redis', "a connection with ioredis's keyPrefix is not supported; use `prefix`")
  if (redis.status === 'wait') redis.connect().catch(() => {})
  return { redis, owned: false }
}

/**
 * A new connection for a subscriber; the caller ends it. `name` is set with CLIENT SETNAME, so
 * operators can tell it apart in CLIENT LIST. On a single server, a duplicate that reconnects by
 * itself. On a cluster (where PUBLISH reaches every node), a connection to one node picked at
 * random that does not reconnect: it ends when its node goes, and the caller opens another
 * (ioredis's own cluster subscriber would switch nodes silently, hiding the messages lost
 * meanwhile). `undefined` while the cluster knows no node yet.
 */
export function openSubscriber(redis: RedisConnection, name?: string): Redis | undefined {
  const connectionName = name?.replace(/[^\w:.-]/g, '_')
  if (!isCluster(redis)) return redis.duplicate(connectionName ? { connectionName } : {})
  const nodes = redis.nodes('all')
  const live = nodes.filter((node) => node.status === 'ready')
  const pool = live.length > 0 ? live : nodes
  const node = pool[Math.floor(Math.random() * pool.length)]
  if (node === undefined) return undefined
  const { host, port, username, password, tls } = node.options
  return new (loadIoredis().Redis)({
    host,
    port,
    ...(username !== undefined && { username }),
    ...(password !== undefined && { password }),
    ...(tls !== undefined && { tls }),
    ...(connectionName && { connectionName }),
    retryStrategy: () => null,
    maxRetriesPerRequest: 1,
  })
}

/**
 * Runs one command (or a few sent together): at once `L2UnavailableError` when the connection is
 * not ready, instead of waiting in ioredis's offline queue; `L2TimeoutError` after `timeoutMs`.
 */
export async function command<T>(
  redis: RedisConnection,
  operation: string,
  timeoutMs: number,
  run: () => Promise<T>,
): Promise<T> {
  const status = redis.status
  if (status !== 'ready') throw new L2UnavailableError(operation, status)
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new L2TimeoutError(operation, timeoutMs)), timeoutMs)
  })
  try {
    return await Promise.race([run(), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Ends a connection: QUIT (pending replies still arrive) and wait for its end when connected;
 * otherwise stop its reconnection attempts. A server that does not answer within `timeoutMs`
 * (paused, or gone without a word) is disconnected, so this always settles.
 */
export async function endConnection(redis: RedisConnection, timeoutMs = 1_000): Promise<void> {
  if (redis.status !== 'ready') return redis.disconnect()
  const ended = new Promise<void>((resolve) => redis.once('end', () => resolve()))
  const timer = setTimeout(() => redis.disconnect(), timeoutMs)
  try {
    // A disconnect ends the connection at once (no reconnection follows a manual close).
    await redis.quit().catch(() => redis.disconnect())
    await ended
  } finally {
    clearTimeout(timer)
  }
}
