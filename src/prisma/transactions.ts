import { AsyncLocalStorage } from 'node:async_hooks'

/** Invalidations collected from the writes of one `$transaction`, run once it commits. */
interface PendingTransaction {
  readonly tags: Set<string>
}

/**
 * Defers the invalidations of writes made inside `$transaction` (batch or interactive) until it
 * has committed, and drops them if it rolls back. Nested interactive transactions hand theirs to
 * the enclosing one, which may still roll back.
 */
export class TransactionScope {
  readonly #storage = new AsyncLocalStorage<PendingTransaction>()

  /**
   * Runs `start` (the client's own `$transaction`) with a fresh collection, then, after commit,
   * `flush(tags)` before the returned promise resolves, so the caller reads its own writes.
   */
  async run<T>(start: () => Promise<T>, flush: (tags: string[]) => Promise<void>): Promise<T> {
    const outer = this.#storage.getStore()
    const pending: PendingTransaction = { tags: new Set() }
    const result = await this.#storage.run(pending, start)
    if (pending.tags.size > 0) {
      if (outer) for (const tag of pending.tags) outer.tags.add(tag)
      else await flush([...pending.tags])
    }
    return result
  }

  /** Adds a write's tags to the enclosing transaction; false when there is none to add them to. */
  defer(tags: readonly string[]): boolean {
    const pending = this.#storage.getStore()
    if (!pending) return false
    for (const tag of tags) pending.tags.add(tag)
    return true
  }
}

/** What a query hook learns of the transaction it runs in (an undocumented Prisma field, read here only). */
export function transactionKind(internalParams: unknown): 'batch' | 'itx' | undefined {
  const transaction = (internalParams as { transaction?: { kind?: string } } | undefined)?.transaction
  const kind = transaction?.kind
  return kind === 'batch' || kind === 'itx' ? kind : undefined
}

/** Set by Prisma on a client bound to an interactive transaction (the `tx` of `$transaction(fn)`). */
const SCOPE = Symbol.for('prisma.client.transaction.scope_context')

/** Whether `client` is bound to an interactive transaction. */
export function isTransactionClient(client: unknown): boolean {
  return (client as Record<symbol, unknown>)[SCOPE] !== undefined
}

/**
 * The client component's `$transaction`: the client's own (found on the base client's prototype,
 * run on the extended client so `tx` has every extension), with the invalidations of its writes
 * run by `flush` once it has committed. Not in the declared type, so Prisma's own typing of
 * `$transaction` stays in force.
 */
export function transactionOverride(
  client: unknown,
  scope: TransactionScope,
  flush: (tags: string[]) => Promise<void>,
): {} {
  const base = client as { _originalClient?: object }
  const own = Object.getPrototypeOf(base._originalClient ?? client).$transaction as (
    this: unknown,
    ...args: unknown[]
  ) => Promise<unknown>
  return {
    $transaction(this: unknown, ...args: unknown[]) {
      return scope.run(() => own.apply(this, args), flush)
    },
  }
}
