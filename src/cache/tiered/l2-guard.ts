import { L2UnavailableError } from '../../core/errors.ts'
import type { Emitter } from '../../core/events.ts'
import type { StatsCounters } from '../../core/stats.ts'
import { CircuitBreaker } from '../breaker.ts'

/** Options of {@link L2Guard}. */
export interface L2GuardOptions {
  /** A failing L2 fails the call; the breaker is then off. */
  readonly required: boolean
  readonly threshold: number
  readonly coolDownMs: number
  readonly now: () => number
  readonly counters: StatsCounters
  readonly emitter: Emitter | undefined
}

/**
 * How the read flow treats L2 failures: an optional L2 that fails is skipped, counted and
 * reported, and after enough consecutive failures not called until the breaker's cool-down ends;
 * a required L2's failure is the caller's.
 */
export class L2Guard {
  readonly required: boolean
  readonly #breaker: CircuitBreaker
  readonly #counters: StatsCounters
  readonly #emitter: Emitter | undefined
  #lastError: unknown

  constructor(options: L2GuardOptions) {
    this.required = options.required
    this.#counters = options.counters
    this.#emitter = options.emitter
    this.#breaker = new CircuitBreaker({
      threshold: options.threshold,
      coolDownMs: options.coolDownMs,
      now: options.now,
      onOpen: (failures, until) => this.#emitter?.emit('breaker:open', { failures, until }),
      onClose: () => this.#emitter?.emit('breaker:close', {}),
    })
  }

  /** Whether L2 may be called now: always when required, otherwise unless the breaker is open. */
  allows(): boolean {
    return this.required || this.#breaker.allows()
  }

  succeeded(): void {
    this.#breaker.success()
  }

  /** Counts and reports an L2 failure; rethrows it for a required L2 unless `rethrow` is false. */
  failed(error: unknown, rethrow = true): void {
    this.#counters.l2Errors++
    this.#lastError = error
    this.#breaker.failure()
    this.#emitter?.emit('error', { tier: 'l2', error })
    if (rethrow && this.required) throw error
  }

  /** What a required L2 that cannot be used now throws: its last failure, if any. */
  unavailable(operation: string, status: string): unknown {
    return this.#lastError ?? new L2UnavailableError(operation, status)
  }
}
