import type { MemoryCache } from '../../cache/memory.ts'
import type { TieredCache } from '../../cache/tiered/tiered-cache.ts'
import type { CacheEventSink } from '../../core/events.ts'
import { changeToTags } from './change-tags.ts'
import { ChangeCaptureListener } from './listener.ts'
import type { CaptureTables } from './tables.ts'

/** The `changeCapture` option of `tieredCache()`. */
export interface ChangeCaptureOptions {
  /**
   * A PostgreSQL connection string for the listening session (its own; not through a
   * transaction-mode pooler, which cannot LISTEN). Install the triggers first: `changeCaptureSql(prisma)`.
   */
  readonly url: string
  /** As given to `changeCaptureSql`: names the channel. @default 'ptc' */
  readonly prefix?: string
  /** As given to `changeCaptureSql`. @default `${prefix}_changes` */
  readonly channel?: string
  /** Bound of each wait of the listener (connect, LISTEN, ping). @default 5000 */
  readonly timeoutMs?: number
}

/**
 * Change capture as one instance lives it: every committed change, from this client or not (raw
 * SQL, another service, a migration), becomes the invalidations the same write through the
 * client would make, in both tiers and on every instance (each instance hears every change and
 * invalidates it itself). While the listener is not listening the instance cannot know what it
 * misses: its reads bypass the cache (L1 and L2) until it listens again; after a drop, it empties
 * its L1 and invalidates every model's tags, since what it missed may be in L2 too.
 */
export class ChangeCaptureLink {
  readonly #listener: ChangeCaptureListener
  #listening = false
  #heard = false
  #started: Promise<void> | undefined

  constructor(
    options: ChangeCaptureOptions,
    tables: CaptureTables,
    cache: TieredCache,
    l1: MemoryCache | undefined,
    everyModel: readonly string[],
    events: CacheEventSink | undefined,
  ) {
    this.#listener = new ChangeCaptureListener({
      url: options.url,
      ...(options.prefix !== undefined && { prefix: options.prefix }),
      ...(options.channel !== undefined && { channel: options.channel }),
      ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
      ...(events !== undefined && { events }),
      onChange: (change) =>
        cache.invalidateTags(changeToTags(change, tables), {
          model: tables.find(change.schema, change.table)?.model,
          operation: 'changeCapture',
          transaction: false,
        }),
      onLost: () => {
        this.#listening = false
      },
      onRestored: () => {
        this.#restore(cache, l1, everyModel).catch(() => {})
      },
    })
  }

  /** Listening again: trusted once what it may have missed is gone (the first LISTEN missed nothing cached). */
  async #restore(cache: TieredCache, l1: MemoryCache | undefined, everyModel: readonly string[]): Promise<void> {
    if (this.#heard) {
      l1?.clear()
      await cache.invalidateTags(everyModel)
    }
    this.#heard = true
    this.#listening = true
  }

  /** Whether reads may use the cache now. */
  get listening(): boolean {
    return this.#listening
  }

  /** Starts listening (once); a failure goes to the events and is retried, never thrown into a query. */
  start(): Promise<void> {
    this.#started ??= this.#listener.start().catch(() => {})
    return this.#started
  }

  close(): Promise<void> {
    return this.#listener.close()
  }
}
