import type { TieredCache } from '../cache/tiered/tiered-cache.ts'
import { RAW_WRITE_OPERATIONS, READ_OPERATIONS, WRITE_OPERATIONS } from './operations.ts'
import { withoutCacheArgs } from './read-plan.ts'
import type { DataModel } from './schema/datamodel.ts'
import { rawInvalidations, writeInvalidations } from './tags/write-invalidations.ts'
import { type TransactionScope, transactionKind } from './transactions.ts'

/** What the query component of `$extends` hands its `$allOperations` hook. */
export interface QueryParams {
  readonly model?: string
  readonly operation: string
  readonly args: unknown
  readonly query: (args: unknown) => Promise<unknown>
  readonly __internalParams?: unknown
}

/**
 * The query hook, under the model methods: strips the cache arguments before Prisma sees them,
 * and turns every write (raw ones included) into invalidations, after commit inside a transaction.
 */
export class WriteHook {
  readonly #cache: TieredCache
  readonly #dataModel: DataModel
  readonly #transactions: TransactionScope

  constructor(cache: TieredCache, dataModel: DataModel, transactions: TransactionScope) {
    this.#cache = cache
    this.#dataModel = dataModel
    this.#transactions = transactions
  }

  async onQuery(params: QueryParams): Promise<unknown> {
    const { model, operation, query } = params
    let args = params.args as Record<string, unknown> | undefined
    if (args && typeof args === 'object' && ('cache' in args || 'cacheStrategy' in args)) args = withoutCacheArgs(args)
    if (model === undefined) {
      if (!RAW_WRITE_OPERATIONS.has(operation)) return query(args)
      const result = await query(args)
      await this.#afterWrite(rawInvalidations(this.#dataModel), params.__internalParams)
      return result
    }
    if (READ_OPERATIONS.has(operation) || !WRITE_OPERATIONS.has(operation)) return query(args)
    const result = await query(args)
    await this.#afterWrite(
      writeInvalidations(this.#dataModel, model, operation, args ?? {}, result),
      params.__internalParams,
    )
    return result
  }

  async #afterWrite(tags: readonly string[], internalParams: unknown): Promise<void> {
    if (tags.length === 0) return
    // Inside a transaction: after commit, or never. Without our $transaction around it (a client
    // that bypassed this extension's), invalidating now is the best left to do.
    if (transactionKind(internalParams) !== undefined && this.#transactions.defer(tags)) return
    await this.#cache.invalidateTags(tags)
  }
}
