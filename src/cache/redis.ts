import { randomBytes } from 'node:crypto'
import { type Cluster, Redis } from 'ioredis'
import { CacheOptionError, L2TimeoutError, L2UnavailableError } from '../errors.ts'
import { serializer as defaultSerializer, type Serializer } from '../serializer.ts'
import { encodeBusMessage } from './bus-message.ts'
import { escapeGlob, KeyPattern } from './keys.ts'
import { GET_SCRIPT, INVALIDATE_SCRIPT, type LuaScript, SET_SCRIPT } from './lua.ts'

/** Options of {@link RedisCache}. */
export interface RedisCacheOptions {
  /**
   * An ioredis `Redis` or `Cluster`, or a URL. A URL opens a connection that this cache owns and
   * `close()` ends; an instance given here is never closed by the cache.
   */
  readonly redis: Redis | Cluster | string
  /**
   * Namespace of every key and of the bus channel. Nothing outside `prefix:` is ever read or deleted.
   * @default 'ptc'
   */
  readonly prefix?: string
  /**
   * Seconds an entry is fresh when `set` gives no `ttl`.
   * @default 300
   */
  readonly ttl?: number
  /**
   * Milliseconds each command may take before it fails with `L2TimeoutError`.
   * @default 200
   */
  readonly timeoutMs?: number
  /**
   * The clock, in milliseconds, for the freshness written in entries (Redis expiry uses its own).
   * @default Date.now
   */
  readonly now?: () => number
  /** @default the superjson serializer of serializer.ts */
  readonly serializer?: Serializer
}

/** Options of one {@link RedisCache.set}. Durations in seconds. */
export interface L2SetOptions {
  /** Defaults to the cache's `ttl`. */
  readonly ttl?: number
  /** Seconds after `ttl` during which the entry is still returned, marked not fresh. @default 0 */
  readonly swr?: number
  /** Tag versions captured (by `get`) before the value was loaded; stored with the entry. */
  readonly captured?: ReadonlyMap<string, string>
  /** Tag versions captured before loading, checked but not stored. */
  readonly guards?: ReadonlyMap<string, string>
  /** Tags whose versions are read when storing (sound only for a value known to be current). */
  readonly tags?: readonly string[]
  /** The value already serialized with {@link RedisCache.serialize}, to avoid doing it twice. */
  readonly payload?: string
}

/** What {@link RedisCache.get} returns. `versions` are the current versions of the tags asked to capture. */
export type L2Read<T> =
  | {
      readonly hit: true
      readonly value: T
      /** False inside the stale-while-revalidate window. */
      readonly fresh: boolean
      readonly freshUntil: number
      readonly staleUntil: number
      readonly tags: readonly string[]
      /** Length of the stored payload. */
      readonly bytes: number
      readonly versions: ReadonlyMap<string, string>
    }
  | { readonly hit: false; readonly versions: ReadonlyMap<string, string> }

/** Invalidated tags keep their version at least this long, whatever the entries' lifetimes. */
const VERSION_FLOOR_MS = 24 * 60 * 60 * 1000
const SCAN_COUNT = 1000

/**
 * The shared tier (L2): entries in Redis under `prefix:`, with versioned tags (see types.ts) so an
 * invalidation is one round trip whatever the number of entries it drops.
 *
 * Every command fails fast with `L2UnavailableError` when the connection is not ready (instead of
 * waiting in ioredis's offline queue) and with `L2TimeoutError` after `timeoutMs`. A value under the
 * prefix that cannot be read back is a miss and is deleted.
 */
export class RedisCache {
  readonly prefix: string
  /** Random per instance: it makes invalidation tokens unique and marks this instance's bus messages. */
  readonly instanceId = randomBytes(9).toString('base64url')
  /** The pub/sub channel of invalidations. */
  readonly channel: string
  readonly #redis: Redis | Cluster
  readonly #owned: boolean
  readonly #ttl: number
  readonly #timeoutMs: number
  readonly #now: () => number
  readonly #serializer: Serializer
  readonly #versionPrefix: string
  readonly #maxLifetimeKey: string
  #counter = 0
  #closed = false

  constructor(options: RedisCacheOptions) {
    const { prefix = 'ptc', ttl = 300, timeoutMs = 200, now = Date.now } = options
    if (typeof prefix !== 'string' || prefix === '') throw new CacheOptionError('prefix', 'must be a non-empty string')
    if (!(Number.isFinite(ttl) && ttl > 0)) throw new CacheOptionError('ttl', `must be a positive number, got ${ttl}`)
    if (!(Number.isFinite(timeoutMs) && timeoutMs > 0))
      throw new CacheOptionError('timeoutMs', `must be a positive number, got ${timeoutMs}`)
    if (typeof now !== 'function') throw new CacheOptionError('now', 'must be a function returning milliseconds')
    if (typeof options.redis === 'string') {
      this.#redis = new Redis(options.redis, { maxRetriesPerRequest: 1 })
      // Failures reach callers through commands; without a listener ioredis prints every one.
      this.#redis.on('error', () => {})
      this.#owned = true
    } else if (options.redis && typeof options.redis === 'object' && 'status' in options.redis) {
      // ioredis would prefix KEYS but not the keys the scripts build nor SCAN's pattern.
      if ((options.redis.options as { keyPrefix?: string }).keyPrefix)
        throw new CacheOptionError('redis', "a connection with ioredis's keyPrefix is not supported; use `prefix`")
      this.#redis = options.redis
      this.#owned = false
      if (this.#redis.status === 'wait') this.#redis.connect().catch(() => {})
    } else {
      throw new CacheOptionError('redis', 'must be an ioredis Redis or Cluster instance or a URL')
    }
    this.prefix = prefix
    this.channel = `${prefix}:#bus`
    this.#ttl = ttl
    this.#timeoutMs = timeoutMs
    this.#now = now
    this.#serializer = options.serializer ?? defaultSerializer
    this.#versionPrefix = `${prefix}:#v:`
    this.#maxLifetimeKey = `${prefix}:#ml`
  }

  /** The connection's status (ioredis's). */
  get status(): string {
    return this.#redis.status
  }

  /** Whether commands are sent now; when false they fail at once with `L2UnavailableError`. */
  get available(): boolean {
    return this.#redis.status === 'ready'
  }

  /** Resolves once the connection is ready. */
  ready(): Promise<void> {
    if (this.available) return Promise.resolve()
    return new Promise((resolve) => this.#redis.once('ready', () => resolve()))
  }

  /** Calls `listener` every time the connection becomes ready; returns the way to stop. */
  onReady(listener: () => void): () => void {
    this.#redis.on('ready', listener)
    return () => this.#redis.off('ready', listener)
  }

  /**
   * A new connection with the same options, for a subscriber; the caller closes it. `name` is set
   * with CLIENT SETNAME (single node), so operators can tell it apart in CLIENT LIST.
   */
  duplicate(name?: string): Redis | Cluster {
    const redis = this.#redis
    if (!(redis instanceof Redis)) return redis.duplicate()
    return redis.duplicate(name ? { connectionName: name.replace(/[^\w:.-]/g, '_') } : {})
  }

  serialize(value: unknown): string {
    return this.#serializer.stringify(value)
  }

  /**
   * Reads `key` and, in the same round trip, the current versions of `capture` (to store with a
   * value loaded after a miss). An entry whose tag versions moved is deleted and is a miss; so is
   * an entry past its stale window by this cache's clock.
   */
  async get<T = unknown>(key: string, capture: readonly string[] = []): Promise<L2Read<T>> {
    const entryKey = this.#entryKey(key)
    assertTags(capture)
    const keys = [entryKey, ...capture.map((tag) => this.#versionPrefix + tag)]
    const reply = (await this.#script('get', GET_SCRIPT, keys, [this.#versionPrefix])) as [number, ...string[]]
    const hit = reply[0] === 1
    const captured = reply.slice(hit ? 2 : 1) as string[]
    const versions = new Map<string, string>()
    for (const [i, tag] of capture.entries()) versions.set(tag, captured[i] ?? '')
    if (!hit) return { hit: false, versions }
    const raw = reply[1] as string
    const newline = raw.indexOf('\n')
    const header = raw.slice(0, newline).split('\t')
    const freshUntil = Number(header[0])
    const staleUntil = Number(header[1])
    const now = this.#now()
    let value: T
    try {
      if (!(Number.isFinite(freshUntil) && Number.isFinite(staleUntil))) throw new SyntaxError('bad header')
      if (now >= staleUntil) return { hit: false, versions }
      value = this.#serializer.parse<T>(raw.slice(newline + 1))
    } catch {
      // Someone else's data, or a format from another release: drop it and load afresh.
      await this.#call('del', () => this.#redis.unlink(entryKey)).catch(() => {})
      return { hit: false, versions }
    }
    const tags: string[] = []
    for (let i = 2; i < header.length; i += 2) tags.push(header[i] as string)
    return {
      hit: true,
      value,
      fresh: now < freshUntil,
      freshUntil,
      staleUntil,
      tags,
      bytes: raw.length - newline - 1,
      versions,
    }
  }

  /** The current versions of these tags ('' for a tag never invalidated), to capture before a load. */
  async capture(tags: readonly string[]): Promise<ReadonlyMap<string, string>> {
    assertTags(tags)
    const versions = new Map<string, string>()
    if (tags.length === 0) return versions
    const values = await this.#call('capture', () => this.#redis.mget(...tags.map((tag) => this.#versionPrefix + tag)))
    for (const [i, tag] of tags.entries()) versions.set(tag, values[i] ?? '')
    return versions
  }

  /**
   * Stores `value` unless a captured or guard version moved since it was captured; returns whether
   * it stored. Expires in Redis after `ttl + swr`.
   */
  async set(key: string, value: unknown, options: L2SetOptions = {}): Promise<boolean> {
    const entryKey = this.#entryKey(key)
    const ttl = options.ttl ?? this.#ttl
    const swr = options.swr ?? 0
    const px = Math.ceil((ttl + swr) * 1000)
    if (!(px > 0)) return false
    const captured = options.captured ?? new Map<string, string>()
    const guards = options.guards ?? new Map<string, string>()
    const late = [...new Set(options.tags ?? [])].filter((tag) => !captured.has(tag))
    assertTags([...captured.keys(), ...guards.keys(), ...late])
    const payload = options.payload ?? this.serialize(value)
    const freshUntil = this.#now() + ttl * 1000
    const args: (string | number)[] = [this.#versionPrefix, px, freshUntil, freshUntil + swr * 1000, captured.size]
    for (const [tag, version] of captured) args.push(tag, version)
    args.push(guards.size)
    for (const [tag, version] of guards) args.push(tag, version)
    args.push(late.length, ...late, payload)
    const stored = await this.#script('set', SET_SCRIPT, [entryKey, this.#maxLifetimeKey], args)
    return stored === 1
  }

  /** Deletes these keys (no bus message; see `invalidate`). Returns how many existed. */
  async delete(keys: string | readonly string[]): Promise<number> {
    const list = (typeof keys === 'string' ? [keys] : keys).map((key) => this.#entryKey(key))
    if (list.length === 0) return 0
    return this.#call('delete', () => this.#redis.unlink(...list))
  }

  /**
   * In one round trip: gives each tag a new version (every entry carrying it becomes a miss),
   * deletes `keys`, and publishes the invalidation on the bus channel.
   */
  async invalidate(tags: readonly string[], keys: readonly string[] = []): Promise<void> {
    assertTags(tags)
    for (const key of keys) this.#entryKey(key)
    if (tags.length === 0 && keys.length === 0) return
    const token = `${this.instanceId}.${(this.#counter++).toString(36)}`
    const message = encodeBusMessage({ from: this.instanceId, tags, keys })
    const args = [this.#versionPrefix, `${this.prefix}:`, token, VERSION_FLOOR_MS, tags.length, ...tags]
    args.push(keys.length, ...keys, this.channel, message)
    await this.#script('invalidate', INVALIDATE_SCRIPT, [this.#maxLifetimeKey], args)
  }

  /**
   * Deletes the entries whose key matches (a SCAN under the prefix, filtered by the pattern) and
   * publishes the pattern. Returns how many were deleted.
   */
  async invalidatePattern(pattern: KeyPattern | string): Promise<number> {
    const matcher = typeof pattern === 'string' ? new KeyPattern(pattern) : pattern
    const deleted = await this.#scanDelete(`${escapeGlob(this.prefix)}:${matcher.toRedisGlob()}`, (key) =>
      matcher.matches(key),
    )
    await this.#publish({ from: this.instanceId, pattern: matcher.globs })
    return deleted
  }

  /**
   * Deletes every entry under the prefix (SCAN + UNLINK in batches; never FLUSHDB) and publishes a
   * clear. Tag versions are kept: dropping them would let a read that captured a version before an
   * invalidation store its old value after the clear.
   */
  async clear(): Promise<number> {
    const deleted = await this.#scanDelete(`${escapeGlob(this.prefix)}:*`, () => true)
    await this.#publish({ from: this.instanceId, clear: true })
    return deleted
  }

  /** Ends the connection if this cache opened it; a caller's instance is left alone. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#owned) await endConnection(this.#redis)
  }

  /** The one place that turns a cache key into a Redis key (where cluster hash tags would go). */
  #entryKey(key: string): string {
    assertKey(key)
    return `${this.prefix}:${key}`
  }

  async #scanDelete(glob: string, keep: (key: string) => boolean): Promise<number> {
    const start = this.prefix.length + 1
    let cursor = '0'
    let deleted = 0
    do {
      const [next, found] = await this.#call('scan', () => this.#redis.scan(cursor, 'MATCH', glob, 'COUNT', SCAN_COUNT))
      cursor = next
      const doomed = found.filter((key) => key[start] !== '#' && keep(key.slice(start)))
      if (doomed.length > 0) deleted += await this.#call('unlink', () => this.#redis.unlink(...doomed))
    } while (cursor !== '0')
    return deleted
  }

  async #publish(message: Parameters<typeof encodeBusMessage>[0]): Promise<void> {
    await this.#call('publish', () => this.#redis.publish(this.channel, encodeBusMessage(message)))
  }

  /** EVALSHA, and EVAL once when the server does not know the script yet (a restart, a new server). */
  #script(operation: string, script: LuaScript, keys: readonly string[], args: readonly (string | number)[]) {
    return this.#call(operation, async () => {
      try {
        return await this.#redis.evalsha(script.sha, keys.length, ...keys, ...args)
      } catch (error) {
        if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
        return this.#redis.eval(script.source, keys.length, ...keys, ...args)
      }
    })
  }

  async #call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    const status = this.#redis.status
    if (status !== 'ready') throw new L2UnavailableError(operation, status)
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new L2TimeoutError(operation, this.#timeoutMs)), this.#timeoutMs)
    })
    try {
      return await Promise.race([run(), timeout])
    } finally {
      clearTimeout(timer)
    }
  }
}

/** Throws a `TypeError` (`CacheOptionError` naming `tags`) for a tag the storage format cannot hold. */
export function assertTags(tags: Iterable<string>): void {
  for (const tag of tags)
    if (typeof tag !== 'string' || /[\t\n]/.test(tag))
      throw new CacheOptionError('tags', `must be strings without tab or newline, got ${JSON.stringify(tag)}`)
}

/** Throws a `TypeError` (`CacheOptionError` naming `key`) for a key in the reserved `#` space. */
export function assertKey(key: string): void {
  if (typeof key !== 'string' || key.startsWith('#'))
    throw new CacheOptionError('key', `must be a string not starting with '#' (reserved), got ${String(key)}`)
}

/**
 * Ends a connection: QUIT (pending replies still arrive) and wait for its end when connected;
 * otherwise stop its reconnection attempts.
 */
export async function endConnection(redis: Redis | Cluster): Promise<void> {
  if (redis.status !== 'ready') return redis.disconnect()
  const ended = new Promise<void>((resolve) => redis.once('end', () => resolve()))
  await redis.quit().catch(() => redis.disconnect())
  await ended
}
