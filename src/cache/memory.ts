import { LRUCache } from 'lru-cache'
import { cloneValue } from '../core/clone.ts'
import { heapBytes, stringHeapBytes } from '../core/size.ts'
import { func, integer, positive } from '../core/validate.ts'
import { KeyPattern } from './keys.ts'
import { type LifetimeWindow, lifetime, windowAt } from './lifetime.ts'

/** Options of {@link MemoryCache}. */
export interface MemoryCacheOptions {
  /**
   * Most entries held; the least recently used goes first.
   * @default 10_000
   */
  readonly max?: number
  /**
   * Most bytes held, the least recently used entry going first; an entry larger than this is not
   * stored. Bytes are what each entry costs on V8's heap, estimated when it is stored: the copy of
   * its value (objects, strings, numbers, dates, decimals, byte arrays, see `heapBytes`; `bytes` of
   * `set` instead when given), its key, its tags, and its bookkeeping here and in lru-cache.
   * Measured within 2x of the heap the entries hold (bench/profile/memory-bytes.ts). Not counted:
   * lru-cache's slot arrays, allocated once for `max` entries (about 24 bytes each).
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
  /**
   * Heap bytes of the value, when the caller knows better than the estimate (see `maxBytes`). What
   * the entry costs besides its value (key, tags, bookkeeping) is added either way.
   * @default the estimate of the copy the cache holds
   */
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

/** A class, not a literal: one fixed shape of 7 in-object fields, the smallest an entry can be. */
class Entry {
  readonly value: unknown
  readonly freshUntil: number
  readonly staleUntil: number
  readonly graceUntil: number
  readonly tags: readonly string[]
  readonly bytes: number
  /** The clock value as of which no tag of this entry was invalidated (its store, or a later check). */
  seq: number

  constructor(value: unknown, window: LifetimeWindow, tags: readonly string[], bytes: number, seq: number) {
    this.value = value
    this.freshUntil = window.freshUntil
    this.staleUntil = window.staleUntil
    this.graceUntil = window.graceUntil
    this.tags = tags
    this.bytes = bytes
    this.seq = seq
  }
}

/*
 * What an entry costs besides its value and the strings of its key and tags, in heap bytes (Node 20,
 * x64; measured by bench/profile/memory-bytes.ts). ENTRY_BYTES: the Entry (24 + 7 slots = 80), its
 * three times as heap numbers (16 each), and lru-cache's key map slot (a Map entry of 3 slots with
 * its share of buckets and spare capacity, ~46). TAGS_BYTES: the tags array, when there are tags.
 * TAG_BYTES, for each tag: its slot in that array and in the tag index (a Map entry while one entry
 * carries the tag, a Set slot once several share it).
 */
const ENTRY_BYTES = 176
const TAGS_BYTES = 48
const TAG_BYTES = 44
/** The tags array of an entry without tags, shared. */
const NO_TAGS: readonly string[] = Object.freeze([])

/** The key of {@link MemoryCache}'s method that gives a held value itself (tiered/l1-tier.ts). */
export const HELD: unique symbol = Symbol('tieredCache.held')

/** Past this many remembered invalidations, forget them and refuse every older capture instead. */
const MAX_REMEMBERED_BUMPS = 100_000

/** Invalidated entries removed per turn of the event loop by the background sweep: small, so I/O callbacks never wait long behind it. */
const SWEEP_CHUNK = 64
/** Invalidated entries removed by each `set` while a sweep is pending. */
const SWEEP_PER_SET = 4

/**
 * The in-process tier (L1): an LRU of copies, with per-entry TTL and stale window, a tag index
 * kept in sync with every removal (delete, eviction, expiry), and a local version clock.
 *
 * The clock closes the no-stale-set race on this instance (docs/design.md): a read captures `seq`
 * before loading; an invalidation that lands while it loads bumps the tags it names; the read's
 * `set` is then refused. Remembered bumps are bounded: when there are too many, they are dropped and a floor refuses every
 * capture older than it (conservative: a refused set only costs a later miss).
 *
 * The same clock makes a tag invalidation O(tags), whatever the number of entries: each entry
 * records the `seq` it was stored at, and `get` treats an entry with a tag bumped after that as
 * absent (and deletes it). The entries themselves are removed by a background sweep, a few dozen
 * per turn of the event loop and a few per `set`; `size` and `bytes` finish the sweep first, so
 * they stay exact.
 *
 * Expiry is checked here, with one clock read per `get`; lru-cache only keeps the LRU order
 * (its own TTL reads the clock again on every get). Expired entries are removed when read, when
 * evicted, and by `size`/`bytes`.
 */
export class MemoryCache {
  readonly #lru: LRUCache<string, Entry>
  /** Keys of the entries carrying each tag: the key itself while only one does (most record tags), a Set once several do. */
  readonly #byTag = new Map<string, string | Set<string>>()
  readonly #ttl: number
  readonly #maxBytes: number | undefined
  readonly #now: () => number
  #bytes = 0
  #seq = 0
  #floor = 0
  /** The latest `seq` at which a tag was invalidated: entries stored at or after it need no check. */
  #lastTagBump = 0
  readonly #tagBumps = new Map<string, number>()
  readonly #keyBumps = new Map<string, number>()
  /** Key sets of invalidated tags, detached from `#byTag`, whose entries the sweep removes. */
  #pending: (string | Set<string>)[] = []
  #sweepScheduled = false

  constructor(options: MemoryCacheOptions = {}) {
    const max = integer('max', options.max, 10_000)
    const maxBytes = options.maxBytes === undefined ? undefined : integer('maxBytes', options.maxBytes, 0)
    const ttl = positive('ttl', options.ttl, 60)
    const now = func<() => number>('now', options.now ?? Date.now, 'a function returning milliseconds')
    this.#ttl = ttl
    this.#maxBytes = maxBytes
    this.#now = now
    this.#lru = new LRUCache<string, Entry>({
      max,
      ...(maxBytes === undefined ? {} : { maxSize: maxBytes }),
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
    if (now >= entry.graceUntil || (entry.seq < this.#lastTagBump && this.#invalidated(entry))) {
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

  /**
   * The value held for `key` itself, not a copy, or `undefined`: only for a reader that neither
   * changes nor hands it out (L2's store serializes the copy L1 just took, rather than a second one).
   * Keyed by a symbol the package does not export, so it is not part of the public class.
   */
  [HELD](key: string): unknown {
    return this.#lru.peek(key)?.value
  }

  /** Whether a live entry exists, without copying it or touching its recency. */
  has(key: string): boolean {
    const entry = this.#lru.peek(key)
    return (
      entry !== undefined &&
      this.#now() < entry.staleUntil &&
      !(entry.seq < this.#lastTagBump && this.#invalidated(entry))
    )
  }

  /**
   * Stores a copy of `value`. Returns false when it was refused: invalidated since `capturedSeq`,
   * a lifetime of zero, or larger than `maxBytes`.
   */
  set(key: string, value: unknown, options: MemorySetOptions = {}): boolean {
    // Sets help the sweep, so invalidated entries never pile up faster than they are removed.
    if (this.#pending.length > 0) this.#sweep(SWEEP_PER_SET)
    const { tags = [], guards = [], capturedSeq } = options
    if (capturedSeq !== undefined && this.#movedSince(capturedSeq, key, tags, guards)) return false
    const life = lifetime(options.ttl ?? this.#ttl, options.swr, options.grace)
    if (!(life.ttlMs > 0) || !(life.swrMs >= 0) || !(life.graceMs >= 0)) return false
    const held = distinct(tags)
    // The value is of the shape of its copy (what heapBytes models), so it can be measured before copying.
    let bytes = Math.max(0, Math.ceil(options.bytes ?? heapBytes(value))) + ENTRY_BYTES + stringHeapBytes(key)
    if (held.length > 0) bytes += TAGS_BYTES
    for (const tag of held) bytes += TAG_BYTES + stringHeapBytes(tag)
    if (this.#maxBytes !== undefined && bytes > this.#maxBytes) {
      this.#lru.delete(key)
      return false
    }
    const entry = new Entry(cloneValue(value), windowAt(this.#now(), life), held, bytes, this.#seq)
    // The old entry (if any) is disposed inside set(), so the new tags are indexed afterwards.
    this.#lru.set(key, entry, this.#maxBytes === undefined ? undefined : { size: bytes })
    if (this.#lru.peek(key) !== entry) return false
    this.#bytes += bytes
    for (const tag of held) {
      const keys = this.#byTag.get(tag)
      if (keys === undefined) this.#byTag.set(tag, key)
      else if (typeof keys !== 'string') keys.add(key)
      else if (keys !== key) this.#byTag.set(tag, new Set([keys, key]))
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

  /**
   * Invalidates exactly the entries carrying any of these tags and refuses older captures of them,
   * in O(tags): from now on `get` and `has` do not see those entries, and a background sweep removes
   * them. Returns how many entries carried these tags (one carrying two of them counts twice; one
   * past its lifetime that nothing has purged yet counts too).
   */
  invalidateTags(tags: readonly string[]): number {
    const seq = this.#bump()
    this.#lastTagBump = seq
    let invalidated = 0
    for (const tag of tags) {
      this.#tagBumps.set(tag, seq)
      const keys = this.#byTag.get(tag)
      if (keys === undefined) continue
      this.#byTag.delete(tag)
      invalidated += typeof keys === 'string' ? 1 : keys.size
      this.#pending.push(keys)
    }
    if (this.#pending.length > 0) this.#scheduleSweep()
    this.#bound()
    return invalidated
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
    this.#pending = []
    this.#lru.clear()
  }

  /** The current version clock, to pass as `capturedSeq` to a later `set`. */
  capture(): number {
    return this.#seq
  }

  /** Whether one of `tags` was invalidated, or the cache cleared, since `capture()` returned `seq`. */
  tagsMovedSince(seq: number, tags: readonly string[]): boolean {
    if (seq >= this.#seq) return false
    if (this.#floor > seq) return true
    for (const tag of tags) if ((this.#tagBumps.get(tag) ?? 0) > seq) return true
    return false
  }

  /** Live entries (invalidated and expired ones are purged first: O(entries)). */
  get size(): number {
    this.#purge()
    return this.#lru.size
  }

  /** Bytes held by live entries, as counted for `maxBytes` (purges first, as `size`). */
  get bytes(): number {
    this.#purge()
    return this.#bytes
  }

  /** Deletes `key`; true when it held an entry that had not expired yet. */
  #remove(key: string): boolean {
    const entry = this.#lru.peek(key)
    return this.#lru.delete(key) && entry !== undefined && this.#now() < entry.staleUntil
  }

  /** Whether a tag of the entry was invalidated after it was stored; if not, marks it checked as of now. */
  #invalidated(entry: Entry): boolean {
    for (const tag of entry.tags) if ((this.#tagBumps.get(tag) ?? 0) > entry.seq) return true
    entry.seq = this.#seq
    return false
  }

  /** Finishes the sweep of invalidated entries, then drops the entries past their grace window. */
  #purge(): void {
    this.#sweep(Number.POSITIVE_INFINITY)
    const now = this.#now()
    const expired: string[] = []
    for (const [key, entry] of this.#lru.entries()) if (now >= entry.graceUntil) expired.push(key)
    for (const key of expired) this.#lru.delete(key)
  }

  /**
   * A sweep starts on a timer, so the round trip that usually follows an invalidation (Redis) is not
   * answered behind it, and goes on one chunk per turn of the event loop. Neither keeps the process alive.
   */
  #scheduleSweep(next = false): void {
    if (this.#sweepScheduled) return
    this.#sweepScheduled = true
    const run = () => {
      this.#sweepScheduled = false
      if (this.#sweep(SWEEP_CHUNK)) this.#scheduleSweep(true)
    }
    if (next) setImmediate(run).unref()
    else setTimeout(run, 0).unref()
  }

  /** Removes up to `limit` entries of invalidated tags' key sets; true when some are left. */
  #sweep(limit: number): boolean {
    let done = 0
    while (this.#pending.length > 0) {
      const keys = this.#pending[this.#pending.length - 1]!
      if (typeof keys === 'string') {
        this.#pending.pop()
        this.#sweepKey(keys)
        if (++done >= limit) return this.#pending.length > 0
        continue
      }
      for (const key of keys) {
        keys.delete(key)
        this.#sweepKey(key)
        if (++done >= limit) return keys.size > 0 || this.#pending.length > 1
      }
      this.#pending.pop()
    }
    return false
  }

  #sweepKey(key: string): void {
    // The key may hold a newer entry by now, stored after the invalidation: it stays.
    const entry = this.#lru.peek(key)
    if (entry !== undefined && entry.seq < this.#lastTagBump && this.#invalidated(entry)) this.#lru.delete(key)
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
    // Entries are checked against the bumps about to be forgotten: the invalidated ones go now and
    // the rest are marked checked as of now, so the floor below leaves them valid.
    this.#sweep(Number.POSITIVE_INFINITY)
    for (const entry of this.#lru.values()) entry.seq = this.#seq
    this.#tagBumps.clear()
    this.#keyBumps.clear()
    this.#floor = this.#seq
  }

  #forget(key: string, entry: Entry): void {
    this.#bytes -= entry.bytes
    for (const tag of entry.tags) {
      const keys = this.#byTag.get(tag)
      if (keys === undefined) continue
      if (typeof keys === 'string') {
        if (keys === key) this.#byTag.delete(tag)
      } else if (keys.delete(key) && keys.size === 0) this.#byTag.delete(tag)
    }
  }
}

/** The tags without repeats, in an array of their own (shared and empty when there are none). */
function distinct(tags: readonly string[]): readonly string[] {
  if (tags.length === 0) return NO_TAGS
  // A few tags, as an entry has: comparing them pairwise is cheaper than building a Set.
  if (tags.length > 16) return [...new Set(tags)]
  for (let i = 1; i < tags.length; i++) if (tags.lastIndexOf(tags[i]!, i - 1) !== -1) return [...new Set(tags)]
  return tags.slice()
}
