import { AsyncLocalStorage } from 'node:async_hooks'

/** Invalidations collected from the writes of one `$transaction`, run once it commits. */
interface PendingTransaction {
  readonly tags: Set<string>
  /** The transaction this one is nested in (`tx.$transaction(...)`), which may still roll back. */
  readonly outer: PendingTransaction | undefined
  /** Prisma's id of the transaction, learnt from its first write. */
  id: string | undefined
  /** Settled (committed or rolled back): nothing more is added to it. */
  done: boolean
}

/**
 * Defers the invalidations of writes made inside `$transaction` (batch or interactive) until it
 * has committed, and drops them if it rolls back. The scope follows the transaction a write really
 * ran in: `tx.$transaction(...)` nests in `tx`'s transaction (Prisma runs it inside it) and hands
 * its invalidations to it; a `$transaction` of a client that is not a transaction's is independent,
 * even when it is started inside another one's callback, and invalidates at its own commit; a
 * write made after its scope settled (work a transaction's callback scheduled) is not deferred.
 */
export class TransactionScope {
  readonly #storage = new AsyncLocalStorage<PendingTransaction>()

  /**
   * Runs `start` (the client's own `$transaction`, called on `client`) with a fresh collection,
   * then, after commit, `flush(tags)` before the returned promise resolves, so the caller reads
   * its own writes.
   */
  async run<T>(client: unknown, start: () => Promise<T>, flush: (tags: string[]) => Promise<void>): Promise<T> {
    const current = this.#storage.getStore()
    const outer = isTransactionClient(client) && current !== undefined && !current.done ? current : undefined
    const pending: PendingTransaction = { tags: new Set(), outer, id: undefined, done: false }
    let result: T
    try {
      result = await this.#storage.run(pending, start)
    } finally {
      pending.done = true
    }
    if (pending.tags.size > 0) {
      if (outer !== undefined && !outer.done) for (const tag of pending.tags) outer.tags.add(tag)
      else await flush([...pending.tags])
    }
    return result
  }

  /**
   * Adds a write's tags to the scope of the transaction it ran in (`internalParams`, the hook's);
   * false when no open scope is that transaction's, and the caller invalidates at once.
   */
  defer(tags: readonly string[], internalParams: unknown): boolean {
    const id = transactionId(internalParams)
    for (let pending = this.#storage.getStore(); pending !== undefined; pending = pending.outer) {
      if (pending.done) continue
      pending.id ??= id
      if (pending.id !== id) continue
      for (const tag of tags) pending.tags.add(tag)
      return true
    }
    return false
  }
}

/** What a query hook learns of the transaction it runs in (an undocumented Prisma field, read here only). */
function transactionOf(internalParams: unknown): { kind?: string; id?: unknown } | undefined {
  return (internalParams as { transaction?: { kind?: string; id?: unknown } } | undefined)?.transaction
}

export function transactionKind(internalParams: unknown): 'batch' | 'itx' | undefined {
  const kind = transactionOf(internalParams)?.kind
  return kind === 'batch' || kind === 'itx' ? kind : undefined
}

/** Prisma's id of the transaction a query runs in. */
function transactionId(internalParams: unknown): string | undefined {
  const id = transactionOf(internalParams)?.id
  return id === undefined ? undefined : String(id)
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
      return scope.run(this, () => own.apply(this, args), flush)
    },
  }
}
