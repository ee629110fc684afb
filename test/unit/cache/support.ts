import { EventEmitter } from 'node:events'

/** A clock the test moves by hand: TTL and SWR tests advance it instead of sleeping. */
export function manualClock(start = 1_700_000_000_000) {
  const clock = {
    time: start,
    now: () => clock.time,
    advance(ms: number) {
      clock.time += ms
    },
  }
  return clock
}

/** A promise with its resolve/reject outside, to hold a loader until the test lets it go. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/**
 * A loader that starts, then waits until `release()`, resolving with `value`: the slow read of
 * old data in the no-stale-set race. `started` resolves once the loader runs.
 */
export function heldLoader<T>(value: T) {
  const started = deferred()
  const gate = deferred()
  const load = async () => {
    started.resolve()
    await gate.promise
    return value
  }
  return { load, started: started.promise, release: () => gate.resolve() }
}

/** Resolves with the payload of the next `name` event for which `accept` holds. */
export function nextEvent<T = unknown>(
  emitter: EventEmitter,
  name: string,
  accept: (payload: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve) => {
    const listener = (payload: T) => {
      if (!accept(payload)) return
      emitter.off(name, listener)
      resolve(payload)
    }
    emitter.on(name, listener)
  })
}

/** An EventEmitter that records every event it receives. */
export function recordingEmitter() {
  const emitter = new EventEmitter()
  // The cache only emits 'error' to an EventEmitter that listens for it (otherwise emit would throw).
  emitter.on('error', () => {})
  const seen: Array<{ name: string; payload: unknown }> = []
  const emit = emitter.emit.bind(emitter)
  emitter.emit = (name: string | symbol, ...args: unknown[]) => {
    seen.push({ name: String(name), payload: args[0] })
    return emit(name, ...args)
  }
  return { emitter, seen }
}
