/** Options of {@link CircuitBreaker}; `TieredCache` documents and checks them (its `breaker` option). */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. */
  readonly threshold: number
  /** Milliseconds the breaker stays open before one call is let through to probe. */
  readonly coolDownMs: number
  readonly now: () => number
  readonly onOpen?: (failures: number, until: number) => void
  readonly onClose?: () => void
}

/**
 * Stops calling a tier that keeps failing, so a sick Redis costs requests nothing instead of
 * `timeoutMs` each. After the cool-down calls are let through again; the first success closes it,
 * a failure opens it for another cool-down.
 */
export class CircuitBreaker {
  readonly #threshold: number
  readonly #coolDownMs: number
  readonly #now: () => number
  readonly #onOpen: ((failures: number, until: number) => void) | undefined
  readonly #onClose: (() => void) | undefined
  #failures = 0
  #openUntil = 0
  #open = false

  constructor(options: CircuitBreakerOptions) {
    this.#threshold = options.threshold
    this.#coolDownMs = options.coolDownMs
    this.#now = options.now
    this.#onOpen = options.onOpen
    this.#onClose = options.onClose
  }

  /** Whether a call may be made now. */
  allows(): boolean {
    return !this.#open || this.#now() >= this.#openUntil
  }

  get open(): boolean {
    return this.#open
  }

  success(): void {
    this.#failures = 0
    if (!this.#open) return
    this.#open = false
    this.#onClose?.()
  }

  failure(): void {
    this.#failures++
    // While open, only a failed probe (made after the cool-down) reopens; calls made before it opened do not.
    if (this.#open ? this.#now() < this.#openUntil : this.#failures < this.#threshold) return
    this.#open = true
    this.#openUntil = this.#now() + this.#coolDownMs
    this.#onOpen?.(this.#failures, this.#openUntil)
  }
}
