import type { Emitter, InvalidationCause } from '../../core/events.ts'
import type { KeyPattern } from '../keys.ts'
import type { RedisCache } from '../redis/redis-cache.ts'
import type { L2Guard } from './l2-guard.ts'

/** One invalidation owed to Redis. */
export type Invalidation =
  | {
      readonly kind: 'tags'
      readonly tags: readonly string[]
      readonly keys: readonly string[]
      readonly cause?: InvalidationCause | undefined
    }
  | { readonly kind: 'pattern'; readonly pattern: KeyPattern }
  | { readonly kind: 'clear' }

/** Past this many pending invalidations, they are replaced by one `clear` (conservative, bounded). */
const MAX_PENDING = 1000
/** Most invalidations sent in one round trip. */
const MAX_BATCH = 64
/** Bounds of the delay before an unsent invalidation is retried without a caller (ms). */
const RETRY_MIN_MS = 50
const RETRY_MAX_MS = 2_000

/**
 * The invalidations Redis has not received yet, sent in order (docs/design.md, "The outbox"):
 * consecutive tag invalidations in one round trip, the rest retried when Redis is ready again,
 * on the next call, and by themselves after a doubling delay.
 */
export class InvalidationOutbox {
  readonly #redis: RedisCache
  readonly #guard: L2Guard
  readonly #emitter: Emitter | undefined
  #queue: Invalidation[] = []
  /** Set when an invalidation failed; the replay that empties the queue reports how many it sent. */
  #replayOwed = false
  #replayed = 0
  #replaying: Promise<void> | undefined
  /**
   * Retries the queue by itself: a Redis that timed out comes back without a 'ready' event, and an
   * instance answering from L1 may not touch L2 again for a long time.
   */
  #retryTimer: NodeJS.Timeout | undefined
  #retryDelayMs = RETRY_MIN_MS
  readonly #stopReplayOnReady: () => void
  #closed = false

  constructor(redis: RedisCache, guard: L2Guard, emitter: Emitter | undefined) {
    this.#redis = redis
    this.#guard = guard
    this.#emitter = emitter
    // Redis is back: try the queue even if the breaker is open (the first call is the probe).
    this.#stopReplayOnReady = redis.onReady(() => void this.replay(true))
  }

  /** Invalidations Redis has not received yet. */
  get pending(): number {
    return this.#queue.length
  }

  /** Queues the invalidation and sends the queue in order; throws only for a required L2. */
  async send(invalidation: Invalidation): Promise<void> {
    this.#queue.push(invalidation)
    if (this.#queue.length > MAX_PENDING) this.#queue = [{ kind: 'clear' }]
    await this.replay()
    if (this.#guard.required && this.#queue.length > 0) throw this.#guard.unavailable('invalidate', this.#redis.status)
  }

  /** Sends what is queued; `probe` sends even while the breaker is open. */
  async replay(probe = false): Promise<void> {
    while (this.#replaying) await this.#replaying
    if (this.#queue.length === 0) return
    this.#replaying = this.#drain(probe).finally(() => {
      this.#replaying = undefined
    })
    await this.#replaying
  }

  /** Stops retrying by itself (what is queued stays queued). */
  close(): void {
    this.#closed = true
    this.#stopReplayOnReady()
    clearTimeout(this.#retryTimer)
  }

  async #drain(probe: boolean): Promise<void> {
    const redis = this.#redis
    while (this.#queue.length > 0) {
      if (!probe && !this.#guard.allows()) return this.#retryLater()
      // Consecutive tag invalidations are one script call each: sent together on one connection
      // they run in queue order, in one round trip instead of one each. A pattern or a clear
      // (several commands) goes alone.
      const batch: Invalidation[] = []
      for (const next of this.#queue) {
        if (batch.length > 0 && (next.kind !== 'tags' || batch.length >= MAX_BATCH)) break
        batch.push(next)
        if (next.kind !== 'tags') break
      }
      const sent = await Promise.allSettled(
        batch.map((next) =>
          next.kind === 'tags'
            ? redis.invalidate(next.tags, next.keys, next.cause)
            : next.kind === 'pattern'
              ? redis.invalidatePattern(next.pattern)
              : redis.clear(),
        ),
      )
      for (const [i, outcome] of sent.entries()) {
        if (outcome.status === 'rejected') {
          // The rest stays queued, in order (one that went through anyway is sent again: harmless).
          this.#replayOwed = true
          this.#guard.failed(outcome.reason, false)
          return this.#retryLater()
        }
        this.#guard.succeeded()
        if (this.#queue[0] === batch[i]) this.#queue.shift()
        if (this.#replayOwed) this.#replayed++
      }
    }
    this.#retryDelayMs = RETRY_MIN_MS
    if (this.#replayOwed) {
      this.#emitter?.emit('replay', { count: this.#replayed })
      this.#replayOwed = false
      this.#replayed = 0
    }
  }

  /** One retry of the queue after a doubling delay; unref'd, so it never keeps a process alive. */
  #retryLater(): void {
    if (this.#retryTimer !== undefined || this.#closed) return
    const delay = this.#retryDelayMs
    this.#retryDelayMs = Math.min(delay * 2, RETRY_MAX_MS)
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined
      void this.replay(true)
    }, delay)
    this.#retryTimer.unref?.()
  }
}
