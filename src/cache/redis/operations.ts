/** What the operations of `RedisCache` take and return. */

/** Options of one `RedisCache.set`. Durations in seconds. */
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
   * The server epoch captured with `captured` (docs/design.md): the set is refused if the server's epoch
   * changed since (a restart that lost the tag versions, a `clear()`). @default not checked
   */
  readonly epoch?: string
  /**
   * The key's load fence captured with `captured` (docs/design.md, "Keys and clears"): the set is
   * refused if the key was invalidated since. @default not checked
   */
  readonly fence?: string
  /**
   * Tag versions captured before loading, checked but not stored: all of them without `seq`, and
   * with it only when a late tag's version cannot tell whether it moved (see `seq`).
   */
  readonly guards?: ReadonlyMap<string, string>
  /**
   * Tags whose versions are read when storing: sound for a value known to be current, or, for a
   * loaded one, when `guards` cover every write that could move them (or `seq` is given).
   */
  readonly tags?: readonly string[]
  /**
   * The sequence value captured with `captured` (`L2Capture.seq`), for a value whose `guards` stand
   * only for its late `tags` (docs/design.md, "Ordered versions"): a late tag whose version is a
   * sequence value is judged by it (above `seq`: bumped during the load, refused; otherwise
   * unmoved), and the guards are checked only when one is missing or written by an older release.
   * @default not given: every guard is checked
   */
  readonly seq?: string
  /** The value already serialized with `RedisCache.serialize`, to avoid doing it twice. */
  readonly payload?: string
  /**
   * When the value was loaded, on the cache's clock (`RedisCache.now`): its windows start then, not
   * when a store sent behind the read reaches Redis. Defaults to now.
   */
  readonly at?: number
}

/**
 * Tag versions, the server epoch and the key's load fence, read before a load, to store its value
 * with (docs/design.md). None is ever '': a missing one is created by the capture.
 */
export interface L2Capture {
  readonly versions: ReadonlyMap<string, string>
  readonly epoch: string
  readonly fence: string
  /**
   * The group's sequence value when the versions were read (S0, docs/design.md, "Ordered
   * versions"): every version bumped after it is above it. Absent from an empty capture (`peek`).
   */
  readonly seq?: string
}

/** Options of one `RedisCache.get`. */
export interface L2GetOptions {
  /** Return an entry past its stale window but inside its grace window (marked `fresh: false`). @default false */
  readonly grace?: boolean
  /**
   * On a miss, take the stampede lock of this key (`SET NX PX`) in the same round trip; the reply
   * says whether it was taken. Release it with `RedisCache.unlock`.
   */
  readonly lock?: { readonly token: string; readonly ttlMs: number }
  /**
   * No load follows this read: nothing is captured (or created). The capture it returns is empty
   * and must not be stored with.
   * @default false
   */
  readonly peek?: boolean
}

/** An entry found by `RedisCache.get`. */
interface L2HitBase<T> {
  readonly hit: true
  readonly value: T
  readonly freshUntil: number
  readonly staleUntil: number
  /** The entry is kept until then; past `staleUntil` it is returned only with `grace`. */
  readonly graceUntil: number
  readonly tags: readonly string[]
  /** Size of the stored payload in bytes (UTF-8). */
  readonly bytes: number
}

/**
 * What `RedisCache.get` returns. On a miss, and on a hit that is no longer fresh (a refresh
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
