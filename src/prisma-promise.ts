/**
 * What a cached read method returns: a lazy promise that Prisma's `$transaction([...])` accepts.
 * Awaited on its own it runs `run` (the cache); put in a batch transaction it hands the batch to
 * the real query instead (`requestTransaction`), because a batch waits for every request in it
 * and a read answered from the cache would never reach it.
 */
export class CachedPrismaPromise<T> implements PromiseLike<T> {
  readonly #run: () => Promise<T>
  readonly #direct: () => { requestTransaction?(transaction: unknown): unknown }
  #promise: Promise<T> | undefined

  constructor(run: () => Promise<T>, direct: () => { requestTransaction?(transaction: unknown): unknown }) {
    this.#run = run
    this.#direct = direct
  }

  get [Symbol.toStringTag](): 'PrismaPromise' {
    return 'PrismaPromise'
  }

  #start(): Promise<T> {
    this.#promise ??= this.#run()
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

  /** Called by `$transaction([...])`: the read runs in the batch, uncached. */
  requestTransaction(transaction: unknown): unknown {
    const direct = this.#direct()
    return direct.requestTransaction ? direct.requestTransaction(transaction) : direct
  }
}
