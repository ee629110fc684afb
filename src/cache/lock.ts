import { randomBytes } from 'node:crypto'
import { func, object, positive } from '../core/validate.ts'

/** Options of {@link StampedeLock}. Durations in milliseconds. */
export interface StampedeLockOptions {
  /**
   * How long a holder keeps the lock (its `PX`) and how long the others wait for its value before
   * loading it themselves. A holder that dies blocks nobody for longer than this.
   * @default 2000
   */
  readonly waitMs?: number
  /**
   * First pause between two reads of a waiter; it doubles up to `maxPollMs`. A release announced
   * on the bus wakes waiters before their pause ends, so polling only matters without a bus.
   * @default 2
   */
  readonly minPollMs?: number
  /** @default 50 */
  readonly maxPollMs?: number
  /**
   * The clock of the wait's deadline. Real time by default, because the lock's expiry in Redis is.
   * @default performance.now
   */
  readonly now?: () => number
  /**
   * Resolves after `ms`, or never when the test drives the waiter by `notify` alone.
   * @default setTimeout
   */
  readonly sleep?: (ms: number) => Promise<void>
}

/** How a wait ended. `result` is the poll's last answer (`undefined` after a timeout). */
export interface WaitResult<R> {
  readonly result: R | undefined
  readonly waitedMs: number
}

/**
 * The waiting side of the distributed stampede lock (the Redis side is `RedisCache.get` with
 * `lock`, which tries `SET NX PX` in the same round trip as the read, and `RedisCache.unlock`,
 * a compare-and-delete that announces the release on the bus).
 *
 * A waiter re-reads L2 until the holder's value is there, the lock is free again (it takes it
 * and loads), or `waitMs` has passed (it loads without the lock). Between reads it pauses with a
 * doubling backoff, cut short by {@link StampedeLock.notify} when the bus announces a release.
 */
export class StampedeLock {
  readonly waitMs: number
  readonly #minPollMs: number
  readonly #maxPollMs: number
  readonly #now: () => number
  readonly #sleep: (ms: number) => Promise<void>
  readonly #owner = randomBytes(6).toString('base64url')
  readonly #wakers = new Map<string, Set<() => void>>()
  #counter = 0

  constructor(options: StampedeLockOptions = {}) {
    object('lock', options, undefined)
    const waitMs = positive('waitMs', options.waitMs, 2_000)
    const minPollMs = positive('minPollMs', options.minPollMs, 2)
    const maxPollMs = positive('maxPollMs', options.maxPollMs, 50)
    this.waitMs = waitMs
    this.#minPollMs = minPollMs
    this.#maxPollMs = Math.max(minPollMs, maxPollMs)
    this.#now = options.now === undefined ? () => performance.now() : func('now', options.now)
    this.#sleep =
      options.sleep === undefined
        ? (ms) => new Promise((resolve) => setTimeout(resolve, ms))
        : func('sleep', options.sleep)
  }

  /** A token no other holder uses, so a release only ever deletes its own lock. */
  token(): string {
    return `${this.#owner}.${(this.#counter++).toString(36)}`
  }

  /** Wakes the waiters of these keys now (a holder released them). */
  notify(keys: readonly string[]): void {
    for (const key of keys) {
      const wakers = this.#wakers.get(key)
      if (wakers === undefined) continue
      this.#wakers.delete(key)
      for (const wake of wakers) wake()
    }
  }

  /** How many keys have someone waiting for them (for tests and diagnostics). */
  get waiting(): number {
    return this.#wakers.size
  }

  /**
   * Calls `poll` after each pause until it returns something other than `undefined`, or until
   * `waitMs` after the call. The pause is armed before each poll, so a release announced while
   * the poll is in flight still wakes the next pause.
   */
  async wait<R>(key: string, poll: () => Promise<R | undefined>): Promise<WaitResult<R>> {
    const start = this.#now()
    const deadline = start + this.waitMs
    let delay = this.#minPollMs
    let wake = this.#arm(key)
    try {
      for (;;) {
        const remaining = deadline - this.#now()
        if (remaining <= 0) return { result: undefined, waitedMs: this.#now() - start }
        await Promise.race([wake.promise, this.#sleep(Math.min(delay, remaining))])
        delay = Math.min(delay * 2, this.#maxPollMs)
        wake.cancel()
        wake = this.#arm(key)
        const result = await poll()
        if (result !== undefined) return { result, waitedMs: this.#now() - start }
      }
    } finally {
      wake.cancel()
    }
  }

  #arm(key: string): { promise: Promise<void>; cancel: () => void } {
    let wakers = this.#wakers.get(key)
    if (wakers === undefined) this.#wakers.set(key, (wakers = new Set()))
    let wake!: () => void
    const promise = new Promise<void>((resolve) => {
      wake = resolve
    })
    wakers.add(wake)
    const set = wakers
    return {
      promise,
      cancel: () => {
        set.delete(wake)
        if (set.size === 0 && this.#wakers.get(key) === set) this.#wakers.delete(key)
      },
    }
  }
}
