import { AsyncLocalStorage } from 'node:async_hooks'
import type { VersionWitness } from '../cache/tiered/version-witness.ts'
import type { InvalidationCause } from '../core/events.ts'
import type { CachedReads } from './cached-reads.ts'
import type { ChainReads } from './chain.ts'
import { RAW_WRITE_OPERATIONS, READ_OPERATIONS, WRITE_OPERATIONS } from './operations.ts'
import { withoutCacheArgs } from './read-plan.ts'
import type { DataModel } from './schema/datamodel.ts'
import { type DeleteRead, deleteRead, stillRead, watchedTags } from './tags/deleted-links.ts'
import { disconnectRead } from './tags/disconnect-reads.ts'
import { rawInvalidations, type WritePlan, writeInvalidations, writePlan } from './tags/write-invalidations.ts'
import { lookedUpTags, type WriteLookup } from './tags/write-lookups.ts'
import { type TransactionScope, transactionKind } from './transactions.ts'

/** What the query component of `$extends` hands its `$allOperations` hook. */
export interface QueryParams {
  readonly model?: string
  readonly operation: string
  readonly args: unknown
  readonly query: (args: unknown) => Promise<unknown>
  readonly __internalParams?: unknown
}

/** What one tieredCache's query hooks share. */
export interface QueryHookSetup {
  /** Invalidates a write's tags (the cache's `invalidateTags`, traced when tracing is on). */
  readonly invalidate: (tags: readonly string[], cause: InvalidationCause) => Promise<void>
  readonly dataModel: DataModel
  readonly transactions: TransactionScope
  readonly reads: CachedReads
  readonly chainReads: ChainReads
  /**
   * Runs a write's lookup on the database, uncached: `findMany` for tags/write-lookups.ts, and
   * `findUnique` for the read a delete or a disconnect makes first (tags/deleted-links.ts,
   * tags/disconnect-reads.ts). Without it, writes invalidate the fallbacks.
   */
  readonly lookup?: (model: string, operation: 'findMany' | 'findUnique', args: unknown) => Promise<unknown>
  /**
   * Tells a write that read first whether what it read changed before it committed; without it,
   * writes read nothing first.
   */
  readonly witness?: VersionWitness
}

/**
 * The query hooks of one tieredCache: the first one where the extension is applied (hook 0), and
 * one after each extension applied later that adds a query or result component (chain.ts). Each
 * strips the cache arguments before Prisma sees them; the hook a read was marked for caches it; and
 * every write (raw ones included) is invalidated from the arguments of every hook of ours it
 * passed, the innermost of which are the arguments that reached the database, once, after commit
 * inside a transaction.
 */
export class QueryHooks {
  readonly #setup: QueryHookSetup
  /** The tags of the write in flight, collected from the hooks under the outermost one. */
  readonly #writes = new AsyncLocalStorage<Set<string>>()

  constructor(setup: QueryHookSetup) {
    this.#setup = setup
  }

  /** The query component of hook `hook`. */
  extension(hook: number, onQuery?: (model: string | undefined) => void) {
    return {
      name: hook === 0 ? 'tieredCache:query' : `tieredCache:query:${hook}`,
      query: {
        $allOperations: (params: QueryParams) => {
          onQuery?.(params.model)
          return this.onQuery(hook, params)
        },
      },
    }
  }

  onQuery(hook: number, params: QueryParams): Promise<unknown> {
    const { model, operation, query } = params
    let args = params.args as Record<string, unknown> | undefined
    if (args && typeof args === 'object' && ('cache' in args || 'cacheStrategy' in args)) args = withoutCacheArgs(args)
    if (model !== undefined && READ_OPERATIONS.has(operation)) {
      const marked = this.#setup.chainReads.take(hook, model, operation)
      return marked ? this.#setup.reads.readInHook(model, operation, args ?? {}, marked, query) : query(args)
    }
    const raw = model === undefined
    if (raw ? !RAW_WRITE_OPERATIONS.has(operation) : !WRITE_OPERATIONS.has(operation)) return query(args)
    const { dataModel } = this.#setup
    const outer = this.#writes.getStore()
    if (outer !== undefined) {
      // A hook of ours above this one invalidates once the write returns to it.
      return query(args).then((result) => {
        const tags = raw
          ? rawInvalidations(dataModel)
          : writeInvalidations(dataModel, model, operation, args ?? {}, result)
        for (const tag of tags) outer.add(tag)
        return result
      })
    }
    const internalParams = params.__internalParams
    const cause: InvalidationCause = {
      ...(model !== undefined && { model }),
      operation,
      transaction: transactionKind(internalParams) !== undefined,
    }
    // Inside a transaction a lookup would wait for the connection the transaction holds.
    const lookups = !cause.transaction && this.#setup.lookup !== undefined
    const reading =
      lookups && this.#setup.witness && model !== undefined
        ? operation === 'delete'
          ? deleteRead(dataModel, model, args)
          : operation === 'update'
            ? disconnectRead(dataModel, model, args)
            : undefined
        : undefined
    let read: unknown
    const run = reading
      ? () =>
          this.#readingWrite(model, reading, () => query(args)).then((done) => {
            read = done.read
            return done.result
          })
      : () => query(args)
    const planOf = (result: unknown): WritePlan =>
      raw
        ? { tags: rawInvalidations(dataModel) }
        : writePlan(dataModel, model, operation, args ?? {}, result, lookups, read)
    return this.#write(run, planOf, internalParams, cause)
  }

  /**
   * A write that reads first what it changes (a delete its links and cascaded rows,
   * tags/deleted-links.ts; an update which records it disconnects are linked, disconnect-reads.ts):
   * `read` is what it found, less each relation a change of which was seen from before the read
   * until after the write.
   */
  async #readingWrite(
    model: string | undefined,
    reading: DeleteRead,
    run: () => Promise<unknown>,
  ): Promise<{ result: unknown; read: unknown }> {
    const { witness, lookup } = this.#setup
    const snapshot = await witness?.snapshot(watchedTags(reading))
    const read =
      snapshot && model !== undefined
        ? await lookup?.(model, 'findUnique', reading.args).catch(() => undefined)
        : undefined
    const result = await run()
    if (read === undefined || read === null || snapshot === undefined || witness === undefined)
      return { result, read: undefined }
    return { result, read: stillRead(reading, read, await witness.moved(snapshot)) }
  }

  async #write(
    run: () => Promise<unknown>,
    planOf: (result: unknown) => WritePlan,
    internalParams: unknown,
    cause: InvalidationCause,
  ): Promise<unknown> {
    const inner = new Set<string>()
    const result = await this.#writes.run(inner, run)
    const plan = planOf(result)
    for (const tag of plan.tags) inner.add(tag)
    if (plan.lookups) for (const tag of await this.#lookUp(plan.lookups)) inner.add(tag)
    if (inner.size === 0) return result
    const tags = [...inner]
    // Inside a transaction: after commit, or never. Without our $transaction around it (a client
    // that bypassed this extension's), invalidating now is the best left to do.
    if (cause.transaction && this.#setup.transactions.defer(tags, internalParams)) return result
    await this.#setup.invalidate(tags, cause)
    return result
  }

  /** The tags a write's lookups give, each lookup's fallback when it failed. */
  async #lookUp(lookups: readonly WriteLookup[]): Promise<string[]> {
    const lookup = this.#setup.lookup
    const answers = await Promise.all(
      lookups.map((l) =>
        (lookup?.(l.model, 'findMany', l.args) ?? Promise.resolve(undefined)).then(
          (rows) => (Array.isArray(rows) ? (rows as Record<string, unknown>[]) : undefined),
          () => undefined,
        ),
      ),
    )
    return lookedUpTags(lookups, answers)
  }
}
