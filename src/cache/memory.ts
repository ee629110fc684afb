import { Decimal } from '@prisma/client/runtime/client'
import { LRUCache } from 'lru-cache'
import { cloneValue } from '../clone.ts'
import { CacheOptionError } from '../errors.ts'
import { KeyPattern } from './keys.ts'

/** Options of {@link MemoryCache}. */
export interface MemoryCacheOptions {
  /**
   * Most entries held; the least recently used goes first.
   * @default 10_000
   */
  readonly max?: number
  /**
   * Most bytes held, counted as the serialized length of each value when the caller knows it and
   * as a cheap estimate otherwise. An entry larger than this is not stored.
   * @default undefined (no byte bound)
   */
  readonly maxBytes?: number
  /**
   * Seconds an entry is fresh when `set` gives no `ttl`.
   * @default 60
   */
  readonly ttl?: number
  /**
   * The clock, in milliseconds. Inject one to test expiry without sleeping.
   * @default Date.now
   */
  readonly now?: () => number
}

/** Options of one {@link MemoryCache.set}. Durations in seconds (fractions allowed). */
export interface MemorySetOptions {
  /** Seconds the entry is fresh. Defaults to the cache's `ttl`. */
  readonly ttl?: number
  /** Seconds after `ttl` during which `get` still returns the entry, marked not fresh. @default 0 */
  readonly swr?: number
  /**
   * Seconds after `ttl + swr` during which the entry is kept but returned only by a `get` that
   * asks for `grace` (a fallback when the source fails). @default 0
   */
  readonly grace?: number
  /** Tags the entry carries: `invalidateTags` drops it. */
  readonly tags?: readonly string[]
  /** Tags checked against `capturedSeq` but not carried. */
  readonly guards?: readonly string[]
  /**
   * A {@link MemoryCache.capture} taken before the value was loaded. The entry is refused if one of
   * its tags, guards or its key was invalidated since, or the cache was cleared since.
   */
  readonly capturedSeq?: number
  /** Size of the value when known (its serialized length); estimated otherwise. */
  readonly bytes?: number
}

/** What {@link MemoryCache.get} returns: a copy of the value and its timing. */
export interface MemoryHit<T> {
  readonly value: T
  /** False inside the stale-while-revalidate window (and the grace window). */
  readonly fresh: boolean
  readonly freshUntil: number
  readonly staleUntil: number
  readonly graceUntil: number
  readonly tags: readonly string[]
}

interface Entry {
  readonly value: unknown
  readonly freshUntil: number
  readonly staleUntil: number
  readonly graceUntil: number
  readonly tags: readonly string[]
  readonly bytes: number
}

/** Past this many remembered invalidations, forget them and refuse every older capture instead. */
const MAX_REMEMBERED_BUMPS = 100_000

/**
 * The in-process tier (L1): an LRU of copies, with per-entry TTL and stale window, a tag index
 * kept in sync with every removal (delete, eviction, expiry), and a local version clock.
 *
 * The clock closes the race on this instance: a read captures `seq` before loading; an
 * invalidation that lands while it loads bumps the tags it names; the read's `set` is then refused.
 * Remembered bumps are bounded: when there are too many, they are dropped and a floor refuses every
 * capture older than it (conservative: a refused set only costs a later miss).
 */
export class MemoryCache {
  readonly #lru: LRUCache<string, Entry>
  readonly #byTag = new Map<string, Set<string>>()
  readonly #ttlMs: number
  readonly #maxBytes: number | undefined
  readonly #now: () => number
  #bytes = 0
  #seq = 0
  #floor = 0
  readonly #tagBumps = new Map<string, number>()
  readonly #keyBumps = new Map<string, number>()

  constructor(options: MemoryCacheOptions = {}) {
    const { max = 10_000, maxBytes, ttl = 60, now = Date.now } = options
    if (!Number.isInteger(max) || max < 1) throw new CacheOptionError('max', `must be a positive integer, got ${max}`)
    if (maxBytes !== undefined && (!Number.isInteger(maxBytes) || maxBytes < 1))
      throw new CacheOptionError('maxBytes', `must be a positive integer, got ${maxBytes}`)
    if (!(Number.isFinite(ttl) && ttl > 0)) throw new CacheOptionError('ttl', `must be a positive number, got ${ttl}`)
    if (typeof now !== 'function') throw new CacheOptionError('now', 'must be a function returning milliseconds')
    this.#ttlMs = ttl * 1000
    this.#maxBytes = maxBytes
    this.#now = now
    this.#lru = new LRUCache<string, Entry>({
      max,
      ...(maxBytes === undefined ? {} : { maxSize: maxBytes }),
      ttl: Math.ceil(this.#ttlMs),
      // lru-cache reads the same clock; 0 stops it caching `now` for a real millisecond.
      perf: { now: () => this.#now() },
      ttlResolution: 0,
      dispose: (entry, key) => this.#forget(key, entry),
    })
  }

  /**
   * A copy of the entry's value, or `undefined` when absent or past its stale window (past its
   * grace window with `grace`). Marks it recently used.
   */
  get<T = unknown>(key: string, options?: { readonly grace?: boolean }): MemoryHit<T> | undefined {
    const entry = this.#lru.get(key)
    if (entry === undefined) return undefined
    const now = this.#now()
    if (now >= entry.graceUntil) {
      this.#lru.delete(key)
      return undefined
    }
    if (now >= entry.staleUntil && !options?.grace) return undefined
    return {
      value: cloneValue(entry.value) as T,
      fresh: now < entry.freshUntil,
      freshUntil: entry.freshUntil,
      staleUntil: entry.staleUntil,
      graceUntil: entry.graceUntil,
      tags: entry.tags,
    }
  }

  /** Whether a live entry exists, without copying it or touching its recency. */
  has(key: string): boolean {
    const entry = this.#lru.peek(key)
    return entry !== undefined && this.#now() < entry.staleUntil
  }

  /**
   * Stores a copy of `value`. Returns false when it was refused: invalidated since `capturedSeq`,
   * a lifetime of zero, or larger than `maxBytes`.
   */
  set(key: string, value: unknown, options: MemorySetOptions = {}): boolean {
    const { tags = [], guards = [], capturedSeq } = options
    if (capturedSeq !== undefined && this.#movedSince(capturedSeq, key, tags, guards)) return false
    const ttlMs = options.ttl === undefined ? this.#ttlMs : options.ttl * 1000
    const swrMs = (options.swr ?? 0) * 1000
    const graceMs = (options.grace ?? 0) * 1000
    if (!(ttlMs > 0) || !(swrMs >= 0) || !(graceMs >= 0)) return false
    const bytes = Math.max(1, Math.ceil(options.bytes ?? estimateBytes(value)))
    if (this.#maxBytes !== undefined && bytes > this.#maxBytes) {
      this.#lru.delete(key)
      return false
    }
    const now = this.#now()
    const entry: Entry = {
      value: cloneValue(value),
      freshUntil: now + ttlMs,
      staleUntil: now + ttlMs + swrMs,
      graceUntil: now + ttlMs + swrMs + graceMs,
      tags: [...new Set(tags)],
      bytes,
    }
    // The old entry (if any) is disposed inside set(), so the new tags are indexed afterwards.
    // lru-cache expires when `now - start > ttl`, this cache when `now >= staleUntil`: one ms less
    // makes them agree on integer clocks, so `size` never counts an entry `get` would not return.
    const ttl = Math.max(1, Math.ceil(ttlMs + swrMs + graceMs) - 1)
    this.#lru.set(key, entry, this.#maxBytes === undefined ? { ttl } : { ttl, size: bytes })
    if (this.#lru.peek(key) !== entry) return false
    this.#bytes += bytes
    for (const tag of entry.tags) {
      let keys = this.#byTag.get(tag)
      if (keys === undefined) this.#byTag.set(tag, (keys = new Set()))
      keys.add(key)
    }
    return true
  }

  /** Removes these keys and refuses sets of them captured before now. Returns how many were present. */
  delete(keys: string | readonly string[]): number {
    const list = typeof keys === 'string' ? [keys] : keys
    const seq = this.#bump()
    let removed = 0
    for (const key of list) {
      this.#keyBumps.set(key, seq)
      if (this.#remove(key)) removed++
    }
    this.#bound()
    return removed
  }

  /** Removes exactly the entries carrying any of these tags and refuses older captures of them. */
  invalidateTags(tags: readonly string[]): number {
    const seq = this.#bump()
    let removed = 0
    for (const tag of tags) {
      this.#tagBumps.set(tag, seq)
      const keys = this.#byTag.get(tag)
      if (keys === undefined) continue
      for (const key of [...keys]) if (this.#remove(key)) removed++
    }
    this.#bound()
    return removed
  }

  /**
   * Removes the entries whose key matches. Which future keys match is unknown, so every capture
   * taken before now is refused.
   */
  invalidatePattern(pattern: KeyPattern | string): number {
    const matcher = typeof pattern === 'string' ? new KeyPattern(pattern) : pattern
    this.#floor = this.#bump()
    let removed = 0
    for (const key of [...this.#lru.keys()]) if (matcher.matches(key) && this.#remove(key)) removed++
    return removed
  }

  /** Removes everything and refuses every capture taken before now. */
  clear(): void {
    this.#floor = this.#bump()
    this.#tagBumps.clear()
    this.#keyBumps.clear()
    this.#lru.clear()
  }

  /** The current version clock, to pass as `capturedSeq` to a later `set`. */
  capture(): number {
    return this.#seq
  }

  /** Live entries (expired ones are purged first). */
  get size(): number {
    this.#lru.purgeStale()
    return this.#lru.size
  }

  /** Bytes held by live entries, as counted for `maxBytes`. */
  get bytes(): number {
    this.#lru.purgeStale()
    return this.#bytes
  }

  /** Deletes `key`; true when it held an entry that had not expired yet. */
  #remove(key: string): boolean {
    const entry = this.#lru.peek(key, { allowStale: true })
    return this.#lru.delete(key) && entry !== undefined && this.#now() < entry.staleUntil
  }

  #movedSince(seq: number, key: string, tags: readonly string[], guards: readonly string[]): boolean {
    if (seq >= this.#seq) return false
    if (this.#floor > seq) return true
    if ((this.#keyBumps.get(key) ?? 0) > seq) return true
    for (const tag of tags) if ((this.#tagBumps.get(tag) ?? 0) > seq) return true
    for (const tag of guards) if ((this.#tagBumps.get(tag) ?? 0) > seq) return true
    return false
  }

  #bump(): number {
    return ++this.#seq
  }

  #bound(): void {
    if (this.#tagBumps.size + this.#keyBumps.size <= MAX_REMEMBERED_BUMPS) return
    this.#tagBumps.clear()
    this.#keyBumps.clear()
    this.#floor = this.#seq
  }

  #forget(key: string, entry: Entry): void {
    this.#bytes -= entry.bytes
    for (const tag of entry.tags) {
      const keys = this.#byTag.get(tag)
      if (keys === undefined) continue
      keys.delete(key)
      if (keys.size === 0) this.#byTag.delete(tag)
    }
  }
}

/** A rough size in bytes from a cheap walk: string lengths and fixed costs for everything else. */
export function estimateBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return value.length + 2
    case 'number':
      return 8
    case 'boolean':
      return 4
    case 'bigint':
      return 16
    case 'object': {
      if (value === null) return 4
      if (Array.isArray(value)) {
        let n = 2
        for (const item of value) n += estimateBytes(item) + 1
        return n
      }
      if (value instanceof Date) return 24
      if (ArrayBuffer.isView(value)) return value.byteLength
      if (Decimal.isDecimal(value)) return 24
      let n = 2
      for (const key of Object.keys(value)) n += key.length + 3 + estimateBytes((value as Record<string, unknown>)[key])
      return n
    }
    default:
      return 0
  }
}
