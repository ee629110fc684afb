import type { BusEvent, CacheEventMap, CacheEventSink } from '../core/events.ts'

/**
 * The `replicaLag` window: the tags written in the last `seconds`, here and (over the bus) on
 * every other instance. A read that depends on one of them is not stored, since it may have been
 * answered by a replica that has not caught up. It learns of writes from the cache's own events,
 * so it sees local invalidations, other instances' and clears alike.
 */
export class ReplicaLag {
  readonly #ms: number
  readonly #now: () => number
  readonly #until = new Map<string, number>()
  /** Until when every read is held back (a clear). */
  #all = 0

  constructor(seconds: number, now: () => number = Date.now) {
    this.#ms = seconds * 1000
    this.#now = now
  }

  /** An events sink that watches invalidations and passes every event on to `next`. */
  sink(next: CacheEventSink | undefined): CacheEventSink {
    return {
      emit: (name, payload) => {
        if (name === 'invalidate') this.#mark((payload as CacheEventMap['invalidate']).tags, false)
        else if (name === 'bus') this.#mark((payload as BusEvent).tags ?? [], (payload as BusEvent).clear === true)
        if (next !== undefined && !(name === 'error' && next.listenerCount?.('error') === 0)) next.emit(name, payload)
      },
      listenerCount: () => 1,
    }
  }

  /** Whether a read with these tags may be stored now. */
  holds(tags: readonly string[]): boolean {
    const now = this.#now()
    if (now < this.#all) return true
    for (const tag of tags) {
      const until = this.#until.get(tag)
      if (until === undefined) continue
      if (now < until) return true
      this.#until.delete(tag)
    }
    return false
  }

  /** A clear made on this instance (other instances' reach it as a bus message). */
  clear(): void {
    this.#all = this.#now() + this.#ms
  }

  #mark(tags: readonly string[], clear: boolean): void {
    const until = this.#now() + this.#ms
    if (clear) this.#all = until
    for (const tag of tags) this.#until.set(tag, until)
  }
}
