import type { KeyPattern } from '../keys.ts'

/** What an invalidation concerns, to detach the loads it may have made stale. */
export interface DetachScope {
  readonly tags?: readonly string[] | undefined
  readonly keys?: readonly string[] | undefined
  readonly pattern?: KeyPattern | undefined
  readonly clear?: boolean | undefined
}

interface Flight<V> {
  readonly promise: Promise<V>
  /** Tags and guards captured before it loaded: an invalidation of one of them detaches it. */
  readonly depends: readonly string[]
}

/**
 * Loads in progress that later callers for their key may share (one load per key per process).
 * An invalidation detaches the loads it concerns: their callers keep their answer, which a read
 * that started before the write may give, but a read that starts after it loads afresh
 * (docs/design.md, "Detached loads").
 */
export class SingleFlight<V> {
  readonly #flights = new Map<string, Flight<V>>()

  has(key: string): boolean {
    return this.#flights.has(key)
  }

  /** The load of `key` a caller arriving now may share, if any. */
  shared(key: string): Promise<V> | undefined {
    return this.#flights.get(key)?.promise
  }

  /** Makes `promise` the load of `key` until it settles (or is detached); returns it. */
  start(key: string, depends: readonly string[], promise: Promise<V>): Promise<V> {
    const flight: Flight<V> = { promise, depends }
    this.#flights.set(key, flight)
    const drop = () => {
      if (this.#flights.get(key) === flight) this.#flights.delete(key)
    }
    // The caller handles the rejection; this chain only drops the flight.
    promise.then(drop, drop)
    return promise
  }

  /** Stops later callers from sharing the loads an invalidation concerns. */
  detach(scope: DetachScope): void {
    if (this.#flights.size === 0) return
    if (scope.clear) {
      this.#flights.clear()
      return
    }
    const tags = scope.tags?.length ? new Set(scope.tags) : undefined
    for (const [key, flight] of this.#flights)
      if (
        scope.keys?.includes(key) ||
        scope.pattern?.matches(key) ||
        (tags !== undefined && flight.depends.some((tag) => tags.has(tag)))
      )
        this.#flights.delete(key)
  }
}
