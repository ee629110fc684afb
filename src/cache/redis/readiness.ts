import { CacheClosedError } from '../../core/errors.ts'

/**
 * The `ready()` calls waiting for something that may never happen (a connection, a subscription):
 * each resolves at the next `arrived()`, rejects with `timedOut()` after its `timeoutMs`, and with
 * `CacheClosedError` at `closed()`. So no such call waits longer than it asked to.
 */
export class Readiness {
  readonly #waiters = new Set<(error?: Error) => void>()

  wait(timeoutMs: number, timedOut: () => Error): Promise<void> {
    return new Promise((resolve, reject) => {
      const settle = (error?: Error) => {
        clearTimeout(timer)
        this.#waiters.delete(settle)
        if (error) reject(error)
        else resolve()
      }
      const timer = setTimeout(() => settle(timedOut()), timeoutMs)
      this.#waiters.add(settle)
    })
  }

  arrived(): void {
    for (const settle of [...this.#waiters]) settle()
  }

  closed(): void {
    for (const settle of [...this.#waiters]) settle(new CacheClosedError('ready'))
  }
}
