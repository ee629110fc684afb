import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import { CacheClosedError, L2UnavailableError } from '../../core/errors.ts'
import type { InvalidationCause } from '../../core/events.ts'
import { checkSerializer, type Serializer } from '../../core/serializer.ts'
import { cacheTags as checkTags, entryKey, fail, func, integer, object, positive } from '../../core/validate.ts'
import { KeyPattern } from '../keys.ts'
import { lifetime, totalMs, windowAt } from '../lifetime.ts'
import { storedTags, storedVersions } from '../stored-tag.ts'
import { encodeBusMessage } from './bus-message.ts'
import { command, endConnection, isCluster, openSubscriber, type RedisConnection, useConnection } from './connection.ts'
import { checkDurable, type Durable, replicaCheck } from './durable.ts'
import { decodeEntry } from './entry.ts'
import { KeyLayout } from './layout.ts'
import type { L2Capture, L2GetOptions, L2Read, L2SetOptions } from './operations.ts'
import { Readiness } from './readiness.ts'
import type { RedisCacheOptions } from './redis-options.ts'
import { scanDelete } from './scan.ts'
import {
  CAPTURE_SCRIPT,
  evalScript,
  GET_SCRIPT,
  INVALIDATE_SCRIPT,
  type LuaScript,
  SET_SCRIPT,
  UNLOCK_SCRIPT,
} from './scripts.ts'

export type { RedisCacheOptions } from './redis-options.ts'

/**
 * `capture` with the sequence value S0 the script sent after the versions; without one (a script
 * that sends none) it has no `seq`, and a store of it checks every guard.
 */
function withSeq(capture: L2Capture, seq: unknown): L2Capture {
  return typeof seq === 'string' ? { ...capture, seq } : capture
}

/** The capture of a `peek` read (see `L2GetOptions.peek`). */
const NOTHING_CAPTURED: L2Capture = { versions: new Map(), epoch: '', fence: '' }

/** How long `ready()` waits by default, in milliseconds. */
const READY_TIMEOUT_MS = 10_000
/**
 * How long a version or load fence that a read creates lives before a store extends it: the
 * longest load whose value may still be stored in L2 (a slower one's value is returned, not stored).
 */
const LOAD_WINDOW_MS = 10 * 60 * 1000

/** Invalidated tags keep their version at least this long, whatever the entries' lifetimes. */
const VERSION_FLOOR_MS = 24 * 60 * 60 * 1000
const MAX_GROUPS = 1024

/**
 * The shared tier (L2): entries in Redis under `prefix:`, with versioned tags (docs/design.md) so
 * an invalidation is one round trip whatever the number of entries it drops.
 *
 * Every command fails fast with `L2UnavailableError` when the connection is not ready (instead of
 * waiting in ioredis's offline queue) and with `L2TimeoutError` after `timeoutMs`. A value under the
 * prefix that cannot be read back is a miss and is deleted.
 */
export class RedisCache {
  readonly prefix: string
  /** Random per instance: it makes the epochs and fences it creates unique and marks its bus messages. */
  readonly instanceId = randomBytes(9).toString('base64url')
  /** The pub/sub channel of invalidations. */
  readonly channel: string
  readonly #redis: RedisConnection
  readonly #owned: boolean
  readonly #ttl: number
  readonly #timeoutMs: number
  readonly #now: () => number
  readonly #serializer: Serializer
  readonly #durable: Durable | undefined
  /** Where the keys are (see {@link KeyLayout}). */
  readonly layout: KeyLayout
  #counter = 0
  #closed = false
  readonly #readiness = new Readiness()

  constructor(options: RedisCacheOptions) {
    object('options', options, undefined)
    const prefix = options.prefix ?? 'ptc'
    if (typeof prefix !== 'string' || prefix === '') fail('prefix', 'a non-empty string', prefix)
    this.#ttl = positive('ttl', options.ttl, 300)
    this.#timeoutMs = positive('timeoutMs', options.timeoutMs, 200)
    this.#now = func<() => number>('now', options.now ?? Date.now, 'a function returning milliseconds')
    this.#serializer = checkSerializer(options.serializer)
    const groups = options.groups === undefined ? undefined : integer('groups', options.groups, 1)
    if (groups !== undefined && groups > MAX_GROUPS) fail('groups', `an integer from 1 to ${MAX_GROUPS}`, groups)
    this.#durable = checkDurable(options.durable)
    // Last: a URL opens a connection, which a bad option above must not leak.
    const { redis, owned } = useConnection(options.redis)
    this.#redis = redis
    this.#owned = owned
    this.prefix = prefix
    this.channel = `${prefix}:#bus`
    this.layout = new KeyLayout(prefix, groups ?? (isCluster(redis) ? 16 : 1))
  }

  /** The connection's status (ioredis's). */
  get status(): string {
    return this.#redis.status
  }

  /** Whether commands are sent now; when false they fail at once with `L2UnavailableError`. */
  get available(): boolean {
    return this.#redis.status === 'ready'
  }

  /**
   * Resolves once the connection is ready. Rejects with `L2UnavailableError` when it is not within
   * `timeoutMs` (or the connection has ended), and with `CacheClosedError` after `close()` (at once,
   * or when `close()` is called while it waits).
   */
  ready(timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    if (this.#closed) return Promise.reject(new CacheClosedError('ready'))
    if (this.available) return Promise.resolve()
    const redis = this.#redis
    if (redis.status === 'end') return Promise.reject(new L2UnavailableError('ready', redis.status))
    const arrived = () => this.#readiness.arrived()
    redis.once('ready', arrived)
    const waiting = this.#readiness.wait(timeoutMs, () => new L2UnavailableError('ready', redis.status))
    void waiting.finally(() => redis.off('ready', arrived)).catch(() => {})
    return waiting
  }

  /**
   * Calls `listener` every time the connection becomes ready, and on a cluster every time the
   * client learns the slots anew (as after a failover); returns the way to stop.
   */
  onReady(listener: () => void): () => void {
    const redis = this.#redis
    const events = isCluster(redis) ? ['ready', 'refresh'] : ['ready']
    for (const event of events) redis.on(event, listener)
    return () => {
      for (const event of events) redis.off(event, listener)
    }
  }

  /** A new connection for the bus subscriber, which the caller ends (see {@link openSubscriber}). */
  subscriber(name?: string): Redis | undefined {
    return openSubscriber(this.#redis, name)
  }

  /** The clock entries' windows are computed with (the `now` option). */
  now(): number {
    return this.#now()
  }

  serialize(value: unknown): string {
    return this.#serializer.stringify(value)
  }

  /** Why `value` would not come back exactly from this cache (see `Serializer.check`), or `undefined`. */
  inexact(value: unknown): string | undefined {
    return this.#serializer.check?.(value)
  }

  /**
   * Reads `key` and, in the same round trip, the current versions of `capture`, the epoch and the
   * key's load fence (to store with a value loaded after a miss; missing ones are created), and with
   * `lock` takes the key's stampede lock on a miss. An entry whose tag versions are not the current
   * ones (moved, or missing) is deleted and is a miss; so is an entry past its stale window by this
   * cache's clock (past its grace window with `grace`).
   */
  async get<T = unknown>(key: string, tags: readonly string[] = [], options: L2GetOptions = {}): Promise<L2Read<T>> {
    entryKey('key', key)
    const capture = storedTags(checkTags('tags', tags))
    const layout = this.layout
    const group = layout.group(key)
    const redisKey = layout.base(group) + key
    const { lock } = options
    const keys = [redisKey, layout.epoch(group), layout.lock(key), layout.waiters(key), layout.fence(key)]
    keys.push(layout.sequence(group))
    for (const tag of capture) keys.push(layout.version(group, tag))
    const now = this.#now()
    const args = [layout.versionPrefix(group), this.#candidate(), lock?.token ?? '', lock ? Math.ceil(lock.ttlMs) : 0]
    args.push(now, options.grace ? 3 : 2, LOAD_WINDOW_MS, options.peek ? '' : '1')
    const reply = (await this.#script('get', GET_SCRIPT, keys, args)) as [number, string | number, ...string[]]
    const hit = reply[0] === 1
    let captured: L2Capture | undefined = options.peek ? NOTHING_CAPTURED : undefined
    const capturedNow = (): L2Capture => {
      if (captured) return captured
      const versions = new Map<string, string>()
      for (const [i, tag] of tags.entries()) versions.set(tag, String(reply[i + 4] ?? ''))
      captured = withSeq(
        { versions, epoch: String(reply[2] ?? ''), fence: String(reply[3] ?? '') },
        reply[4 + tags.length],
      )
      return captured
    }
    const miss = async (): Promise<L2Read<T>> => {
      // A hit the script found valid but that is not (a foreign header): it sent no capture; read one.
      const capture = reply.length > 2 || options.peek ? capturedNow() : await this.capture(tags, key)
      return lock && reply[0] === 0 && reply[1] !== -1
        ? { hit: false, ...capture, lock: reply[1] === 1 ? 'acquired' : 'busy' }
        : { hit: false, ...capture }
    }
    if (!hit) return miss()
    const raw = reply[1] as string
    const stored = decodeEntry(raw)
    let value: T
    try {
      if (stored === undefined) throw new SyntaxError('bad header')
      // The script judged the same with the same clock; this only guards a foreign header.
      if (now >= (options.grace ? stored.graceUntil : stored.staleUntil)) return miss()
      value = this.#serializer.parse<T>(stored.payload)
    } catch {
      // Someone else's data, or a format from another release: drop it and load afresh.
      await this.#call('del', () => this.#redis.unlink(redisKey)).catch(() => {})
      return miss()
    }
    const { freshUntil, staleUntil, graceUntil, tags: headerTags, payload } = stored
    const bytes = Buffer.byteLength(payload)
    const entry = { hit: true as const, value, freshUntil, staleUntil, graceUntil, tags: headerTags, bytes }
    // The script sends the capture exactly when the entry is not fresh by its clock, which is ours.
    if (reply.length <= 2 && now < freshUntil) return { ...entry, fresh: true }
    return {
      ...entry,
      fresh: false,
      ...(reply.length > 2 || options.peek ? capturedNow() : await this.capture(tags, key)),
    }
  }

  /**
   * The current versions of these tags, the epoch and the load fence of `key` (each created when
   * missing), in the slot group of `key` (the one its entry will be stored in), to capture before
   * loading it.
   */
  async capture(tags: readonly string[], key: string): Promise<L2Capture> {
    const capture = storedTags(checkTags('tags', tags))
    entryKey('key', key)
    const group = this.layout.group(key)
    const keys = [this.layout.epoch(group), this.layout.fence(key), this.layout.sequence(group)]
    for (const tag of capture) keys.push(this.layout.version(group, tag))
    const args = [this.#candidate(), LOAD_WINDOW_MS]
    const reply = (await this.#script('capture', CAPTURE_SCRIPT, keys, args)) as string[]
    const versions = new Map<string, string>()
    for (const [i, tag] of tags.entries()) versions.set(tag, reply[i + 2] ?? '')
    return withSeq({ versions, epoch: reply[0] ?? '', fence: reply[1] ?? '' }, reply[2 + tags.length])
  }

  /**
   * Stores `value` unless the epoch, the load fence or a captured version is not the one captured
   * (it moved, or is missing), or a late tag moved since the capture: by its version against `seq`
   * when it is ordered, by the guards otherwise (see {@link L2SetOptions.seq}). Returns whether it
   * stored. Expires in Redis after `ttl + swr + grace`.
   */
  async set(key: string, value: unknown, options: L2SetOptions = {}): Promise<boolean> {
    entryKey('key', key)
    const group = this.layout.group(key)
    const life = lifetime(options.ttl ?? this.#ttl, options.swr, options.grace)
    const now = this.#now()
    const at = Math.min(options.at ?? now, now)
    const px = Math.ceil(totalMs(life) - (now - at))
    if (!(px > 0)) return false
    const captured = storedVersions(options.captured)
    const guards = storedVersions(options.guards)
    const late = [...new Set(storedTags(checkTags('tags', options.tags ?? [])))].filter((tag) => !captured.has(tag))
    checkTags('tags', [...captured.keys(), ...guards.keys()])
    const payload = options.payload ?? this.serialize(value)
    const { freshUntil, staleUntil, graceUntil } = windowAt(at, life)
    const args: (string | number)[] = [this.layout.versionPrefix(group), px, freshUntil, staleUntil, graceUntil]
    args.push(options.epoch ?? '', options.fence ?? '', options.seq ?? '', LOAD_WINDOW_MS, captured.size)
    for (const [tag, version] of captured) args.push(tag, version)
    args.push(guards.size)
    for (const [tag, version] of guards) args.push(tag, version)
    args.push(late.length, ...late, payload)
    const keys = [
      this.layout.base(group) + key,
      this.layout.maxLifetime(group),
      this.layout.epoch(group),
      this.layout.fence(key),
      this.layout.sequence(group),
    ]
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
   * Gives each tag a new version (every entry carrying it becomes a miss) in every slot group: the
   * group's next sequence value, above every version given or captured there before. Deletes `keys`
   * and their load fences (a load of one in flight cannot store its value), and publishes the
   * invalidation on the bus channel: one script call per group, all sent at once (one round trip on
   * a single server, where the script also publishes). If a group fails, the call fails (after
   * publishing anyway, so other instances drop their L1): it is to be sent again whole, which is
   * harmless since every call draws new versions. With `durable`, then waits for the
   * replicas (see {@link RedisCacheOptions.durable}). `cause` rides in the bus message.
   */
  async invalidate(given: readonly string[], keys: readonly string[] = [], cause?: InvalidationCause): Promise<void> {
    const tags = storedTags(checkTags('tags', given))
    const byGroup = this.#byGroup(keys)
    if (tags.length === 0 && keys.length === 0) return
    const message = encodeBusMessage({ from: this.instanceId, tags, keys, ...(cause && { cause }) })
    const single = this.layout.groups === 1
    const replicas = this.#replicas()
    // Without tags only the groups holding keys are touched.
    const groups = tags.length > 0 ? Array.from({ length: this.layout.groups }, (_, g) => g) : [...byGroup.keys()]
    await this.#call('invalidate', async () => {
      const sent = await Promise.allSettled(
        groups.map((group) => {
          const inGroup = byGroup.get(group) ?? []
          const args = [this.layout.versionPrefix(group), this.layout.base(group), VERSION_FLOOR_MS]
          args.push(tags.length, ...tags, inGroup.length, ...inGroup)
          args.push(single ? this.channel : '', single ? message : '')
          const keys = [this.layout.maxLifetime(group), this.layout.sequence(group)]
          return evalScript(this.#redis, INVALIDATE_SCRIPT, keys, args)
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
    await replicas.wait('invalidate')
  }

  /**
   * Deletes the entries whose key matches (a SCAN of every master under the prefix, filtered by
   * the pattern) and publishes the pattern. Returns how many were deleted.
   */
  async invalidatePattern(pattern: KeyPattern | string): Promise<number> {
    const matcher = typeof pattern === 'string' ? new KeyPattern(pattern) : pattern
    const glob = this.layout.glob(matcher.toRedisGlob())
    const replicas = this.#replicas()
    const deleted = await scanDelete(this.#redis, this.layout, glob, (key) => matcher.matches(key), this.#timeoutMs)
    await this.#publish({ from: this.instanceId, pattern: matcher.globs })
    await replicas.wait('invalidatePattern')
    return deleted
  }

  /**
   * Deletes the epoch of every slot group first (a load in flight captured the old one: it cannot
   * store), then every entry under the prefix (SCAN of every master + UNLINK in batches; never
   * FLUSHDB), and publishes a clear. Tag versions are kept: dropping them would let a read that
   * captured a version before an invalidation store its old value after the clear.
   */
  async clear(): Promise<number> {
    const epochs = Array.from({ length: this.layout.groups }, (_, g) => this.layout.epoch(g))
    const replicas = this.#replicas()
    // One DEL per group: a command's keys must share a cluster slot.
    await this.#call('clear', () => Promise.all(epochs.map((epoch) => this.#redis.del(epoch))))
    const deleted = await scanDelete(this.#redis, this.layout, this.layout.glob('*'), () => true, this.#timeoutMs)
    await this.#publish({ from: this.instanceId, clear: true })
    await replicas.wait('clear')
    return deleted
  }

  /**
   * Ends the connection if this cache opened it (within `timeoutMs`, then forcibly); a caller's
   * instance is left alone. A `ready()` still waiting rejects. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#readiness.closed()
    if (this.#owned) await endConnection(this.#redis, this.#timeoutMs)
  }

  /** Cache keys by slot group (checked). */
  #byGroup(keys: readonly string[]): Map<number, string[]> {
    const byGroup = new Map<number, string[]>()
    for (const key of keys) {
      entryKey('key', key)
      const group = this.layout.group(key)
      const list = byGroup.get(group)
      if (list) list.push(key)
      else byGroup.set(group, [key])
    }
    return byGroup
  }

  /**
   * A value never used before, by any instance: what a script gives an epoch or a fence it creates
   * (so none can equal one a load recorded). Versions are sequence values instead (scripts.ts).
   */
  #candidate(): string {
    return `${this.instanceId}.${(this.#counter++).toString(36)}`
  }

  /** With `durable`: what waits for the replicas of the writes about to be sent (see durable.ts). */
  #replicas(): { wait(operation: string): Promise<void> } {
    if (this.#durable === undefined) return { wait: () => Promise.resolve() }
    if (!this.available) return { wait: (operation) => Promise.reject(new L2UnavailableError(operation, this.status)) }
    return replicaCheck(this.#redis, this.#durable, this.#timeoutMs)
  }

  async #publish(message: Parameters<typeof encodeBusMessage>[0]): Promise<void> {
    await this.#call('publish', () => this.#redis.publish(this.channel, encodeBusMessage(message)))
  }

  #script(operation: string, script: LuaScript, keys: readonly string[], args: readonly (string | number)[]) {
    return this.#call(operation, () => evalScript(this.#redis, script, keys, args))
  }

  /** Fails fast when the connection is not ready, and after `timeoutMs` (see {@link command}). */
  #call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    return command(this.#redis, operation, this.#timeoutMs, run)
  }
}
