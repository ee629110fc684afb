/**
 * tieredCache in an extension chain (`base.$extends(a).$extends(tieredCache()).$extends(b)`).
 *
 * Prisma runs query hooks in the order the extensions were applied (the first one outermost), and
 * model methods of the last extension win. So an extension `b` applied after the cache sits under
 * the cache's query hook (it may rewrite the arguments the database gets: a tenant filter), while
 * the cache's model methods sit above everything. The cache keeps both right by owning every
 * client built on top of it: its client component's `$extends` rebuilds `ours.$extends(b)` as
 * `below.$extends(b)[.$extends(innerHook)].$extends(ourTop)`, where `below` is the chain under our
 * top component. Then:
 *
 * - our model methods call `$parent`, which is `b`'s chain without our model methods (no re-entry);
 * - when `b` adds a query or result component, an inner query hook of ours is appended after it:
 *   reads of that client are cached there, keyed on the arguments as they reach the database
 *   (a marked read, see {@link ChainReads}), and a write's invalidations include the arguments that
 *   inner hook saw;
 * - when `b` adds neither, the chain under our top is as transparent as before, and reads keep the
 *   model method's fast path.
 */
import { AsyncLocalStorage } from 'node:async_hooks'

/** How reads of a client whose `$parent` is a given chain are cached. */
export type ChainState =
  /** Nothing between our model methods and our first query hook changes a read: the fast path. */
  | { readonly kind: 'fast' }
  /** Cached in the inner query hook `hook`, on the arguments it sees. */
  | { readonly kind: 'hook'; readonly hook: number }

/** One marked read on its way down the pipeline to the inner hook that caches it. */
export interface MarkedRead {
  readonly hook: number
  readonly model: string
  readonly operation: string
  readonly cache: unknown
  readonly cacheStrategy: unknown
  /** Set by the hook that takes it, so a second query of the same shape inside it is not taken too. */
  taken: boolean
  /** How the hook answered, for `withAccelerateInfo()`. */
  status: 'ttl' | 'swr' | 'miss' | 'none'
  signature: string
}

/**
 * The marked reads in flight. A marker travels in the async context, not in the arguments: an
 * extension between the model method and the inner hook may hand the arguments to another client
 * (read replicas do), which must not see an argument it does not know.
 */
export class ChainReads {
  readonly #storage = new AsyncLocalStorage<MarkedRead>()

  run<T>(read: MarkedRead, start: () => T): T {
    return this.#storage.run(read, start)
  }

  /** The marked read for `hook`, if the query it is called for is that read; taken once. */
  take(hook: number, model: string | undefined, operation: string): MarkedRead | undefined {
    const read = this.#storage.getStore()
    if (read === undefined || read.taken || read.hook !== hook || read.model !== model || read.operation !== operation)
      return undefined
    read.taken = true
    return read
  }
}

/** An extension object as `$extends` takes it (the function form is called with the client). */
interface ExtensionObject {
  readonly query?: unknown
  readonly result?: unknown
  readonly client?: Record<string, unknown>
}

type Extends = (this: unknown, extension: unknown) => unknown

/**
 * Read replicas (`@prisma/extension-read-replicas`) answer reads from a replica client inside their
 * query hook: an inner hook under them would never see a read. They route without rewriting, so
 * the model method's cache in front of them is right: treat them as transparent.
 */
function isRouter(extension: ExtensionObject): boolean {
  return typeof extension.client?.$primary === 'function' && typeof extension.client?.$replica === 'function'
}

/** The chains of one tieredCache: which chain under a top component reads how. */
export class ChainRegistry {
  readonly #states = new WeakMap<object, ChainState>()
  #hooks = 0

  /** Registers a chain our top component sits on directly above our first query hook. */
  register(chain: object): void {
    this.#states.set(chain, { kind: 'fast' })
  }

  state(chain: unknown): ChainState | undefined {
    return typeof chain === 'object' && chain !== null ? this.#states.get(chain) : undefined
  }

  /**
   * The client component's `$extends`: `realExtends` is Prisma's own; `innerHook(id)` is a query
   * extension object of ours; `stackTop(chain)` puts our client and model components on a chain.
   */
  extender(realExtends: Extends, innerHook: (hook: number) => object, stackTop: (chain: object) => object): Extends {
    const registry = this
    return function $extends(this: unknown, extension: unknown): unknown {
      // The function form (`Prisma.defineExtension(client => client.$extends({...}))`) calls
      // `$extends` on the client it is given, which comes back here with the object.
      if (typeof extension === 'function') return (extension as (client: unknown) => unknown)(this)
      const below = (this as { $parent?: unknown }).$parent
      const state = registry.state(below)
      if (state === undefined || typeof extension !== 'object' || extension === null)
        return realExtends.call(this, extension)
      const object = extension as ExtensionObject
      let chain = realExtends.call(below, extension) as object
      let next: ChainState = state
      if ((object.query !== undefined || object.result !== undefined) && !isRouter(object)) {
        const hook = ++registry.#hooks
        chain = realExtends.call(chain, innerHook(hook)) as object
        next = { kind: 'hook', hook }
      }
      registry.#states.set(chain, next)
      return stackTop(chain)
    }
  }
}
