import { randomBytes } from 'node:crypto'
import { Cluster, Redis } from 'ioredis'
import { CacheOptionError, L2TimeoutError, L2UnavailableError } from '../core/errors.ts'
import { serializer as defaultSerializer, type Serializer } from '../core/serializer.ts'
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
  /**
   * Number of slot groups (see {@link KeyLayout}): entries are spread over this many Redis Cluster
   * hash tags, and each tag version is kept once per group, so an invalidation costs this many
   * script calls. Every instance sharing a prefix must use the same number.
   * @default 16 for a `Cluster`, 1 for a single server
   */
  readonly groups?: number
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

/** An entry found by {@link RedisCache.get}. */
interface L2HitBase<T> {
  readonly hit: true
  readonly value: T
  readonly freshUntil: number
  readonly staleUntil: number
  /** The entry is kept until then; past `staleUntil` it is returned only with `grace`. */
  readonly graceUntil: number
  readonly tags: readonly string[]
  /** Length of the stored payload. */
  readonly bytes: number
}

/**
 * What {@link RedisCache.get} returns. On a miss, and on a hit that is no longer fresh (a refresh
 * follows it), `versions` (the current versions of the tags asked to capture) and `epoch` are read
 * in the same round trip, before any load that follows. A fresh hit reads neither (it needs no load).
 */
export type L2Read<T> =
  | (L2HitBase<T> & { readonly fresh: true; readonly versions?: undefined; readonly epoch?: undefined })
  | (L2HitBase<T> &
      L2Capture & {
        /** False inside the stale-while-revalidate window (and the grace window). */
        readonly fresh: false
      })
  | (L2Capture & {
      readonly hit: false
      /** With `lock`: whether this call took it, or another holder has it. */
      readonly lock?: 'acquired' | 'busy'
    })

/**
 * The one place that knows where the cache's keys are in Redis.
 *
 * Every key carries the hash tag of its entry's slot group, `{g}`, so that a script touches only
 * keys of one cluster slot: `prefix:{g}:key` (entry), `prefix:{g}:#v:tag` (tag version, one copy
 * per group), `prefix:{g}:#epoch`, `prefix:{g}:#ml` (max lifetime), `prefix:{g}:#lock:key` and
 * `prefix:{g}:#wait:key` (stampede lock). The group of a key is a stable hash of it modulo
 * `groups`, so entries spread over `groups` slots (of a cluster's masters); a single server uses
 * one group, `{0}`. The bus channel, `prefix:#bus`, is not a key.
 */
export class KeyLayout {
  readonly prefix: string
  readonly groups: number
  readonly #bases: readonly string[]

  constructor(prefix: string, groups: number) {
    this.prefix = prefix
    this.groups = groups
    this.#bases = Array.from({ length: groups }, (_, g) => `${prefix}:{${g}}:`)
  }

  /** The slot group of a cache key: FNV-1a over its UTF-16 code units, modulo `groups`. */
  group(key: string): number {
    if (this.groups === 1) return 0
    let hash = 0x811c9dc5
    for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193)
    return (hash >>> 0) % this.groups
  }

  /** `prefix:{g}:`, what every key of group `g` starts with. */
  base(group: number): string {
    return this.#bases[group] as string
  }

  entry(key: string): string {
    return this.base(this.group(key)) + key
  }

  /** What a tag's name is appended to for its version key in group `group`. */
  versionPrefix(group: number): string {
    return `${this.base(group)}#v:`
  }

  version(group: number, tag: string): string {
    return this.versionPrefix(group) + tag
  }

  epoch(group: number): string {
    return `${this.base(group)}#epoch`
  }

  maxLifetime(group: number): string {
    return `${this.base(group)}#ml`
  }

  lock(key: string): string {
    return `${this.base(this.group(key))}#lock:${key}`
  }

  waiters(key: string): string {
    return `${this.base(this.group(key))}#wait:${key}`
  }

  /** The glob of every key of this prefix whose part after `{g}:` matches `glob`. */
  glob(glob: string): string {
    return `${escapeGlob(this.prefix)}:{*}:${glob}`
  }

  /** The group and cache key of an entry's Redis key; `undefined` for anything else (`#` keys included). */
  parse(redisKey: string): { group: number; key: string } | undefined {
    const start = this.prefix.length + 2
    if (!redisKey.startsWith(`${this.prefix}:{`)) return undefined
    const end = redisKey.indexOf('}:', start)
    if (end < 0) return undefined
    const group = Number(redisKey.slice(start, end))
    if (!(Number.isInteger(group) && group >= 0 && group < this.groups && this.base(group).length === end + 2))
      return undefined
    const key = redisKey.slice(end + 2)
    return key.startsWith('#') ? undefined : { group, key }
  }
}

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
  /** Where the keys are (see {@link KeyLayout}). */
  readonly layout: KeyLayout
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
    const groups = options.groups ?? (this.#redis instanceof Cluster ? 16 : 1)
    if (!(Number.isInteger(groups) && groups >= 1 && groups <= 1024))
      throw new CacheOptionError('groups', `must be an integer from 1 to 1024, got ${groups}`)
    this.layout = new KeyLayout(prefix, groups)
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

  /**
   * Calls `listener` every time the connection becomes ready, and on a cluster every time the
   * client learns the slots anew (as after a failover); returns the way to stop.
   */
  onReady(listener: () => void): () => void {
    const redis = this.#redis
    const events = redis instanceof Cluster ? ['ready', 'refresh'] : ['ready']
    for (const event of events) redis.on(event, listener)
    return () => {
      for (const event of events) redis.off(event, listener)
    }
  }

  /**
   * A new connection for a subscriber; the caller closes it. `name` is set with CLIENT SETNAME, so
   * operators can tell it apart in CLIENT LIST. On a single server, a duplicate that reconnects by
   * itself. On a cluster (where PUBLISH reaches every node), a connection to one node picked at
   * random that does not reconnect: it ends when its node goes, and the caller opens another
   * (ioredis's own cluster subscriber would switch nodes silently, hiding the messages lost
   * meanwhile). `undefined` while the cluster knows no node yet.
   */
  subscriber(name?: string): Redis | undefined {
    const redis = this.#redis
    const connectionName = name?.replace(/[^\w:.-]/g, '_')
    if (redis instanceof Redis) return redis.duplicate(connectionName ? { connectionName } : {})
    const nodes = redis.nodes('all')
    const live = nodes.filter((node) => node.status === 'ready')
    const pool = live.length > 0 ? live : nodes
    const node = pool[Math.floor(Math.random() * pool.length)]
    if (node === undefined) return undefined
    const { host, port, username, password, tls } = node.options
    return new Redis({
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
    assertKey(key)
    assertTags(capture)
    const layout = this.layout
    const group = layout.group(key)
    const entryKey = layout.base(group) + key
    const { lock } = options
    const keys = [entryKey, layout.epoch(group), layout.lock(key), layout.waiters(key)]
    for (const tag of capture) keys.push(layout.version(group, tag))
    const now = this.#now()
    const args = [
      layout.versionPrefix(group),
      this.#epochCandidate(),
      lock?.token ?? '',
      lock ? Math.ceil(lock.ttlMs) : 0,
    ]
    args.push(now, options.grace ? 3 : 2)
    const reply = (await this.#script('get', GET_SCRIPT, keys, args)) as [number, string | number, ...string[]]
    const hit = reply[0] === 1
    let captured: L2Capture | undefined
    const capturedNow = (): L2Capture => {
      if (captured) return captured
      const versions = new Map<string, string>()
      for (const [i, tag] of capture.entries()) versions.set(tag, String(reply[i + 3] ?? ''))
      captured = { versions, epoch: String(reply[2] ?? '') }
      return captured
    }
    const miss = async (): Promise<L2Read<T>> => {
      // A hit the script found valid but that is not (a foreign header): it sent no capture; read one.
      const { versions, epoch } = reply.length > 2 ? capturedNow() : await this.capture(capture, key)
      return lock && reply[0] === 0 && reply[1] !== -1
        ? { hit: false, versions, epoch, lock: reply[1] === 1 ? 'acquired' : 'busy' }
        : { hit: false, versions, epoch }
    }
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
    const entry = {
      hit: true as const,
      value,
      freshUntil,
      staleUntil,
      graceUntil,
      tags,
      bytes: raw.length - newline - 1,
    }
    // The script sends the capture exactly when the entry is not fresh by its clock, which is ours.
    if (reply.length <= 2 && now < freshUntil) return { ...entry, fresh: true }
    return { ...entry, fresh: false, ...(reply.length > 2 ? capturedNow() : await this.capture(capture, key)) }
  }

  /**
   * The current versions of these tags ('' for a tag never invalidated) and the epoch, in the slot
   * group of `key` (the one its entry will be stored in), to capture before loading it.
   */
  async capture(tags: readonly string[], key: string): Promise<L2Capture> {
    assertTags(tags)
    assertKey(key)
    const group = this.layout.group(key)
    const keys = [this.layout.epoch(group), ...tags.map((tag) => this.layout.version(group, tag))]
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
    assertKey(key)
    const group = this.layout.group(key)
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
    const args: (string | number)[] = [
      this.layout.versionPrefix(group),
      px,
      freshUntil,
      staleUntil,
      staleUntil + grace * 1000,
    ]
    args.push(options.epoch ?? '', captured.size)
    for (const [tag, version] of captured) args.push(tag, version)
    args.push(guards.size)
    for (const [tag, version] of guards) args.push(tag, version)
    args.push(late.length, ...late, payload)
    const keys = [this.layout.base(group) + key, this.layout.maxLifetime(group), this.layout.epoch(group)]
    const stored = await this.#script('set', SET_SCRIPT, keys, args)
    return stored === 1
  }

  /**
   * Releases the stampede lock of `key` if `token` still holds it (compare-and-delete), and tells
   * the instances waiting for it, over the bus channel, to read the key now. Returns whether it released.
   */
  async unlock(key: string, token: string): Promise<boolean> {
    const message = encodeBusMessage({ from: this.instanceId, unlocked: [key] })
    const keys = [this.layout.lock(key), this.layout.waiters(key)]
    return (await this.#script('unlock', UNLOCK_SCRIPT, keys, [token, this.channel, message])) === 1
  }

  /** Deletes these keys (no bus message; see `invalidate`). Returns how many existed. */
  async delete(keys: string | readonly string[]): Promise<number> {
    const byGroup = this.#byGroup(typeof keys === 'string' ? [keys] : keys)
    if (byGroup.size === 0) return 0
    return this.#call('delete', async () => {
      // One UNLINK per group: a command's keys must share a cluster slot.
      const counts = await Promise.all(
        [...byGroup].map(([group, list]) => this.#redis.unlink(...list.map((key) => this.layout.base(group) + key))),
      )
      return counts.reduce((sum, count) => sum + count, 0)
    })
  }

  /**
   * Gives each tag a new version (every entry carrying it becomes a miss) in every slot group,
   * deletes `keys`, and publishes the invalidation on the bus channel: one script call per group,
   * all sent at once (one round trip on a single server, where the script also publishes). If a
   * group fails, the call fails (after publishing anyway, so other instances drop their L1): it is
   * to be sent again whole, which is harmless since every call uses a new token.
   */
  async invalidate(tags: readonly string[], keys: readonly string[] = []): Promise<void> {
    assertTags(tags)
    const byGroup = this.#byGroup(keys)
    if (tags.length === 0 && keys.length === 0) return
    const token = `${this.instanceId}.${(this.#counter++).toString(36)}`
    const message = encodeBusMessage({ from: this.instanceId, tags, keys })
    const single = this.layout.groups === 1
    // Without tags only the groups holding keys are touched.
    const groups = tags.length > 0 ? Array.from({ length: this.layout.groups }, (_, g) => g) : [...byGroup.keys()]
    await this.#call('invalidate', async () => {
      const sent = await Promise.allSettled(
        groups.map((group) => {
          const inGroup = byGroup.get(group) ?? []
          const args = [this.layout.versionPrefix(group), this.layout.base(group), token, VERSION_FLOOR_MS]
          args.push(tags.length, ...tags, inGroup.length, ...inGroup)
          args.push(single ? this.channel : '', single ? message : '')
          return this.#evalScript(INVALIDATE_SCRIPT, [this.layout.maxLifetime(group)], args)
        }),
      )
      const failed = sent.find((outcome) => outcome.status === 'rejected')
      if (single) {
        if (failed) throw failed.reason
        return
      }
      const published = this.#redis.publish(this.channel, message)
      if (failed) {
        await published.catch(() => {})
        throw failed.reason
      }
      // Unpublished, other instances would keep the old value in L1: sent again with the rest.
      await published
    })
  }

  /**
   * Deletes the entries whose key matches (a SCAN of every master under the prefix, filtered by
   * the pattern) and publishes the pattern. Returns how many were deleted.
   */
  async invalidatePattern(pattern: KeyPattern | string): Promise<number> {
    const matcher = typeof pattern === 'string' ? new KeyPattern(pattern) : pattern
    const deleted = await this.#scanDelete(this.layout.glob(matcher.toRedisGlob()), (key) => matcher.matches(key))
    await this.#publish({ from: this.instanceId, pattern: matcher.globs })
    return deleted
  }

  /**
   * Deletes every entry under the prefix (SCAN of every master + UNLINK in batches; never FLUSHDB)
   * and publishes a clear. Tag versions are kept: dropping them would let a read that captured a
   * version before an invalidation store its old value after the clear.
   */
  async clear(): Promise<number> {
    const deleted = await this.#scanDelete(this.layout.glob('*'), () => true)
    await this.#publish({ from: this.instanceId, clear: true })
    return deleted
  }

  /** Ends the connection if this cache opened it; a caller's instance is left alone. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#owned) await endConnection(this.#redis)
  }

  /** Cache keys by slot group (checked). */
  #byGroup(keys: readonly string[]): Map<number, string[]> {
    const byGroup = new Map<number, string[]>()
    for (const key of keys) {
      assertKey(key)
      const group = this.layout.group(key)
      const list = byGroup.get(group)
      if (list) list.push(key)
      else byGroup.set(group, [key])
    }
    return byGroup
  }

  /** The epoch a script sets when the server has none: unique to this instance and moment. */
  #epochCandidate(): string {
    return `${this.instanceId}.${Date.now().toString(36)}`
  }

  /** SCANs every master (the one server, or each master of a cluster) and unlinks what `keep` accepts. */
  async #scanDelete(glob: string, keep: (key: string) => boolean): Promise<number> {
    const redis = this.#redis
    if (redis instanceof Cluster) {
      // The masters as they are now (after a failover ioredis may not have noticed yet), or a
      // master would go unscanned.
      await this.#call(
        'cluster slots',
        () => new Promise<void>((resolve, reject) => redis.refreshSlotsCache((e) => (e ? reject(e) : resolve()))),
      )
    }
    const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis]
    const counts = await Promise.all(
      nodes.map(async (node) => {
        let cursor = '0'
        let deleted = 0
        do {
          const [next, found] = await this.#call('scan', () => node.scan(cursor, 'MATCH', glob, 'COUNT', SCAN_COUNT))
          cursor = next
          const doomed = new Map<number, string[]>()
          for (const redisKey of found) {
            const parsed = this.layout.parse(redisKey)
            if (parsed === undefined || !keep(parsed.key)) continue
            const list = doomed.get(parsed.group)
            if (list) list.push(redisKey)
            else doomed.set(parsed.group, [redisKey])
          }
          // Through the client, one UNLINK per group (one slot each): it routes to the slot's owner.
          for (const list of doomed.values()) deleted += await this.#call('unlink', () => redis.unlink(...list))
        } while (cursor !== '0')
        return deleted
      }),
    )
    return counts.reduce((sum, count) => sum + count, 0)
  }

  async #publish(message: Parameters<typeof encodeBusMessage>[0]): Promise<void> {
    await this.#call('publish', () => this.#redis.publish(this.channel, encodeBusMessage(message)))
  }

  /** EVALSHA, and EVAL once when the server does not know the script yet (a restart, a new server). */
  #script(operation: string, script: LuaScript, keys: readonly string[], args: readonly (string | number)[]) {
    return this.#call(operation, () => this.#evalScript(script, keys, args))
  }

  async #evalScript(script: LuaScript, keys: readonly string[], args: readonly (string | number)[]) {
    try {
      return await this.#redis.evalsha(script.sha, keys.length, ...keys, ...args)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return this.#redis.eval(script.source, keys.length, ...keys, ...args)
    }
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
