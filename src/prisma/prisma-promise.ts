/**
 * What a cached read method returns: a lazy promise that Prisma's `$transaction([...])` accepts.
 * Awaited on its own it runs `run` (the cache); put in a batch transaction it hands the batch to
 * the real query instead (`requestTransaction`), because a batch waits for every request in it
 * and a read answered from the cache would never reach it.
 */
/** The real query of a read, Prisma's own lazy promise: what a batch transaction runs. */
export type DirectQuery = () => { requestTransaction?(transaction: unknown): unknown }

export class CachedPrismaPromise<T> implements PromiseLike<T> {
  readonly #run: (outcome: ReadOutcome) => Promise<T>
  readonly #direct: DirectQuery
  readonly #outcome: ReadOutcome = { status: 'ttl', signature: '' }
  #promise: Promise<T> | undefined

  constructor(run: (outcome: ReadOutcome) => Promise<T>, direct: DirectQuery) {
    this.#run = run
    this.#direct = direct
  }

  /** Prisma Accelerate's method: the result with how the cache answered it. */
  withAccelerateInfo(): Promise<{ data: T; info: AccelerateInfo }> {
    return this.#start().then((data) => ({ data, info: accelerateInfo(this.#outcome) }))
  }

  get [Symbol.toStringTag](): 'PrismaPromise' {
    return 'PrismaPromise'
  }

  #start(): Promise<T> {
    this.#promise ??= this.#run(this.#outcome)
    return this.#promise
  }

  // biome-ignore lint/suspicious/noThenProperty: a PrismaPromise is a thenable by contract.
  then<A = T, B = never>(
    onFulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.#start().then(onFulfilled, onRejected)
  }

  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<T | B> {
    return this.#start().catch(onRejected)
  }

  finally(onFinally?: (() => void) | null): Promise<T> {
    return this.#start().finally(onFinally)
  }

  /**
   * How `promise` reads, for a promise built on it (a fluent read, fluent.ts): its cached read, to
   * run with an outcome of the new promise's, and the real query a batch transaction gets instead.
   * Static, so that no name is taken from the fluent API's relation methods.
   */
  static parts<T>(promise: CachedPrismaPromise<T>): {
    run: (outcome: ReadOutcome) => Promise<T>
    direct: DirectQuery
  } {
    return { run: promise.#run, direct: promise.#direct }
  }

  /** Called by `$transaction([...])`: the read runs in the batch, uncached. */
  requestTransaction(transaction: unknown): unknown {
    const direct = this.#direct()
    return direct.requestTransaction ? direct.requestTransaction(transaction) : direct
  }
}

/** How the cache answered one read, filled in by the read. */
export interface ReadOutcome {
  /**
   * `ttl`: a fresh hit; `swr`: a stale hit being refreshed; `miss`: this read queried the database;
   * `none`: not cached after all (an extension under the cache answered it).
   */
  status: 'ttl' | 'swr' | 'miss' | 'none'
  /** The cache key. */
  signature: string
}

/** Prisma Accelerate's description of how a read was answered. */
export interface AccelerateInfo {
  readonly cacheStatus: 'ttl' | 'swr' | 'miss' | 'none'
  readonly lastModified: Date
  readonly region: string
  readonly requestId: string
  readonly signature: string
}

let requests = 0

/** A request id in Accelerate's responses: unique within this process. */
export const requestId = (): string => `ptc-${process.pid.toString(36)}-${(requests++).toString(36)}`

export function accelerateInfo(outcome: ReadOutcome | undefined): AccelerateInfo {
  return {
    cacheStatus: outcome?.status ?? 'none',
    lastModified: new Date(),
    region: 'local',
    requestId: requestId(),
    signature: outcome?.signature ?? '',
  }
}

/**
 * Gives a promise Prisma returned for an uncached read Accelerate's `withAccelerateInfo()`, so
 * code written for Accelerate runs unchanged whether or not a read is cached.
 */
export function withNoCacheInfo<P extends object>(promise: P): P {
  ;(promise as { withAccelerateInfo?: unknown }).withAccelerateInfo = () =>
    Promise.resolve(promise as unknown as PromiseLike<unknown>).then((data) => ({
      data,
      info: accelerateInfo(undefined),
    }))
  return promise
}
