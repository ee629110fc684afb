import { randomBytes } from 'node:crypto'
import { type Cluster, Redis } from 'ioredis'
import { CacheOptionError, L2TimeoutError, L2UnavailableError } from '../errors.ts'
import { serializer as defaultSerializer, type Serializer } from '../serializer.ts'
import { encodeBusMessage } from './bus-message.ts'
import { escapeGlob, KeyPattern } from './keys.ts'
import { CAPTURE_SCRIPT, GET_SCRIPT, INVALIDATE_SCRIPT, type LuaScript, SET_SCRIPT, UNLOCK_SCRIPT } from './lua.ts'

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
  /**
   * Seconds after `ttl + swr` during which the entry is kept, returned only to a `get` that asks
   * for `grace` (a fallback when the source fails). @default 0
   */
  readonly grace?: number
  /** Tag versions captured (by `get`) before the value was loaded; stored with the entry. */
  readonly captured?: ReadonlyMap<string, string>
  /**
   * The epoch captured with `captured` (see lua.ts): the set is refused if the server's epoch
   * changed since (a restart that lost the tag versions). @default not checked
   */
  readonly epoch?: string
  /** Tag versions captured before loading, checked but not stored. */
  readonly guards?: ReadonlyMap<string, string>
  /** Tags whose versions are read when storing (sound only for a value known to be current). */
  readonly tags?: readonly string[]
  /** The value already serialized with {@link RedisCache.serialize}, to avoid doing it twice. */
  readonly payload?: string
}

/** Tag versions and the server epoch, read before a load, to store its value with (see lua.ts). */
export interface L2Capture {
  readonly versions: ReadonlyMap<string, string>
  readonly epoch: string
}

/** Options of one {@link RedisCache.get}. */
export interface L2GetOptions {
  /** Return an entry past its stale window but inside its grace window (marked `fresh: false`). @default false */
  readonly grace?: boolean
  /**
   * On a miss, take the stampede lock of this key (`SET NX PX`) in the same round trip; the reply
   * says whether it was taken. Release it with {@link RedisCache.unlock}.
   */
  readonly lock?: { readonly token: string; readonly ttlMs: number }
}

/**
 * What {@link RedisCache.get} returns. `versions` (the current versions of the tags asked to
 * capture) and `epoch` are read in the same round trip, before any load that follows.
 */
export type L2Read<T> =
  | (L2Capture & {
      readonly hit: true
      readonly value: T
      /** False inside the stale-while-revalidate window (and the grace window). */
      readonly fresh: boolean
      readonly freshUntil: number
      readonly staleUntil: number
      /** The entry is kept until then; past `staleUntil` it is returned only with `grace`. */
      readonly graceUntil: number
      readonly tags: readonly string[]
      /** Length of the stored payload. */
      readonly bytes: number
    })
  | (L2Capture & {
      readonly hit: false
      /** With `lock`: whether this call took it, or another holder has it. */
      readonly lock?: 'acquired' | 'busy'
    })

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
  readonly #epochKey: string
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
    this.#epochKey = `${prefix}:#epoch`
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
   * Reads `key` and, in the same round trip, the current versions of `capture` and the epoch (to
   * store with a value loaded after a miss), and with `lock` takes the key's stampede lock on a
   * miss. An entry whose tag versions moved is deleted and is a miss; so is an entry past its stale
   * window by this cache's clock (past its grace window with `grace`).
   */
  async get<T = unknown>(key: string, capture: readonly string[] = [], options: L2GetOptions = {}): Promise<L2Read<T>> {
    const entryKey = this.#entryKey(key)
    assertTags(capture)
    const { lock } = options
    const keys = [entryKey, this.#epochKey, this.#lockKey(key), this.#waitersKey(key)]
    for (const tag of capture) keys.push(this.#versionPrefix + tag)
    const now = this.#now()
    const args = [this.#versionPrefix, this.#epochCandidate(), lock?.token ?? '', lock ? Math.ceil(lock.ttlMs) : 0]
    args.push(now, options.grace ? 3 : 2)
    const reply = (await this.#script('get', GET_SCRIPT, keys, args)) as [number, string | number, string, ...string[]]
    const hit = reply[0] === 1
    const epoch = reply[2]
    const versions = new Map<string, string>()
    for (const [i, tag] of capture.entries()) versions.set(tag, String(reply[i + 3] ?? ''))
    const miss = (): L2Read<T> =>
      lock && reply[0] === 0 && reply[1] !== -1
        ? { hit: false, versions, epoch, lock: reply[1] === 1 ? 'acquired' : 'busy' }
        : { hit: false, versions, epoch }
    if (!hit) return miss()
    const raw = reply[1] as string
    const newline = raw.indexOf('\n')
    const header = raw.slice(0, newline).split('\t')
    const freshUntil = Number(header[0])
    const staleUntil = Number(header[1])
    const graceUntil = Number(header[2])
    let value: T
    try {
      if (!(Number.isFinite(freshUntil) && Number.isFinite(staleUntil) && Number.isFinite(graceUntil)))
        throw new SyntaxError('bad header')
      // The script judged the same with the same clock; this only guards a foreign header.
      if (now >= (options.grace ? graceUntil : staleUntil)) return miss()
      value = this.#serializer.parse<T>(raw.slice(newline + 1))
    } catch {
      // Someone else's data, or a format from another release: drop it and load afresh.
      await this.#call('del', () => this.#redis.unlink(entryKey)).catch(() => {})
      return miss()
    }
    const tags: string[] = []
    for (let i = 3; i < header.length; i += 2) tags.push(header[i] as string)
    return {
      hit: true,
      value,
      fresh: now < freshUntil,
      freshUntil,
      staleUntil,
      graceUntil,
      tags,
      bytes: raw.length - newline - 1,
      versions,
      epoch,
    }
  }

  /** The current versions of these tags ('' for a tag never invalidated) and the epoch, to capture before a load. */
  async capture(tags: readonly string[]): Promise<L2Capture> {
    assertTags(tags)
    const keys = [this.#epochKey, ...tags.map((tag) => this.#versionPrefix + tag)]
    const reply = (await this.#script('capture', CAPTURE_SCRIPT, keys, [this.#epochCandidate()])) as string[]
    const versions = new Map<string, string>()
    for (const [i, tag] of tags.entries()) versions.set(tag, reply[i + 1] ?? '')
    return { versions, epoch: reply[0] ?? '' }
  }

  /**
   * Stores `value` unless the epoch or a captured or guard version moved since it was captured;
   * returns whether it stored. Expires in Redis after `ttl + swr + grace`.
   */
  async set(key: string, value: unknown, options: L2SetOptions = {}): Promise<boolean> {
    const entryKey = this.#entryKey(key)
    const ttl = options.ttl ?? this.#ttl
    const swr = options.swr ?? 0
    const grace = options.grace ?? 0
    const px = Math.ceil((ttl + swr + grace) * 1000)
    if (!(px > 0)) return false
    const captured = options.captured ?? new Map<string, string>()
    const guards = options.guards ?? new Map<string, string>()
    const late = [...new Set(options.tags ?? [])].filter((tag) => !captured.has(tag))
    assertTags([...captured.keys(), ...guards.keys(), ...late])
    const payload = options.payload ?? this.serialize(value)
    const freshUntil = this.#now() + ttl * 1000
    const staleUntil = freshUntil + swr * 1000
    const args: (string | number)[] = [this.#versionPrefix, px, freshUntil, staleUntil, staleUntil + grace * 1000]
    args.push(options.epoch ?? '', captured.size)
    for (const [tag, version] of captured) args.push(tag, version)
    args.push(guards.size)
    for (const [tag, version] of guards) args.push(tag, version)
    args.push(late.length, ...late, payload)
    const stored = await this.#script('set', SET_SCRIPT, [entryKey, this.#maxLifetimeKey, this.#epochKey], args)
    return stored === 1
  }

  /**
   * Releases the stampede lock of `key` if `token` still holds it (compare-and-delete), and tells
   * the instances waiting for it, over the bus channel, to read the key now. Returns whether it released.
   */
  async unlock(key: string, token: string): Promise<boolean> {
    const message = encodeBusMessage({ from: this.instanceId, unlocked: [key] })
    const keys = [this.#lockKey(key), this.#waitersKey(key)]
    return (await this.#script('unlock', UNLOCK_SCRIPT, keys, [token, this.channel, message])) === 1
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

  #lockKey(key: string): string {
    return `${this.prefix}:#lock:${key}`
  }

  #waitersKey(key: string): string {
    return `${this.prefix}:#wait:${key}`
  }

  /** The epoch a script sets when the server has none: unique to this instance and moment. */
  #epochCandidate(): string {
    return `${this.instanceId}.${Date.now().toString(36)}`
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
