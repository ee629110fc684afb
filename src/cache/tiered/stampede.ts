import type { Emitter } from '../../core/events.ts'
import type { StampedeLock } from '../lock.ts'
import type { L2Read } from '../redis/operations.ts'
import type { RedisCache } from '../redis/redis-cache.ts'
import type { L2Guard } from './l2-guard.ts'

/**
 * The distributed stampede lock as the read flow uses it: an L2 miss takes the lock in the same
 * round trip (`RedisCache.get` with `lock`); a caller that finds it held waits here for the
 * holder's value; the holder releases it after storing (lock.ts has the waiting itself).
 */
export class Stampede {
  readonly #lock: StampedeLock
  readonly #l2: RedisCache
  readonly #guard: L2Guard
  readonly #emitter: Emitter | undefined
  readonly #releases = new Set<Promise<void>>()

  constructor(lock: StampedeLock, l2: RedisCache, guard: L2Guard, emitter: Emitter | undefined) {
    this.#lock = lock
    this.#l2 = l2
    this.#guard = guard
    this.#emitter = emitter
  }

  /** The lock option of a read that may take the lock with `token`. */
  lockOption(token: string): { readonly token: string; readonly ttlMs: number } {
    return { token, ttlMs: this.#lock.waitMs }
  }

  token(): string {
    return this.#lock.token()
  }

  /** Wakes the waiters of these keys (the bus announced their release). */
  notify(keys: readonly string[]): void {
    this.#lock.notify(keys)
  }

  /**
   * Another instance holds the lock of `key`: re-reads L2 until its value is there (a validated L2
   * hit, like any other), the lock is free again (taken here: this instance loads), or `waitMs`
   * passed. Returns the last read, whose captured versions predate any load that follows;
   * `undefined` when L2 failed meanwhile (the load then stores in L1 only).
   */
  async awaitHolder<T>(
    key: string,
    capture: readonly string[],
    token: string,
    first: L2Read<T>,
  ): Promise<L2Read<T> | undefined> {
    this.#emitter?.emit('stampede:waiting', { key })
    let last: L2Read<T> | undefined = first
    const { result, waitedMs } = await this.#lock.wait<L2Read<T> | 'failed'>(key, async () => {
      if (!this.#guard.allows()) return 'failed'
      try {
        last = await this.#l2.get<T>(key, capture, { lock: this.lockOption(token) })
        this.#guard.succeeded()
      } catch (error) {
        last = undefined
        this.#guard.failed(error)
        return 'failed'
      }
      return last.hit || last.lock === 'acquired' ? last : undefined
    })
    const outcome =
      result === undefined ? 'timeout' : result === 'failed' ? 'failed' : result.hit ? 'filled' : 'acquired'
    this.#emitter?.emit('stampede:waited', { key, outcome, waitedMs })
    if (outcome === 'timeout' && last !== undefined && !last.hit) {
      // Load without the lock; the versions captured by the last read still guard the store.
      const { lock: _busy, ...unlocked } = last
      last = unlocked
    }
    return last
  }

  /** Releases a held lock without making the caller wait; `close()` waits for it. */
  release(key: string, token: string): void {
    const release = this.#l2.unlock(key, token).then(
      () => this.#guard.succeeded(),
      // The lock expires by itself within waitMs; nobody is blocked for longer.
      (error) => this.#guard.failed(error, false),
    )
    this.#releases.add(release)
    void release.finally(() => this.#releases.delete(release))
  }

  /** Resolves once every release sent has been answered. */
  async close(): Promise<void> {
    await Promise.all(this.#releases)
  }
}
