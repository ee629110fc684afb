import type { Prisma } from '@prisma/client/extension'
import type { Operation } from '@prisma/client/runtime/client'
import type { CacheArgs } from './options.ts'
import type { AccelerateInfo } from './prisma-promise.ts'

/** A read's arguments with the cache options; `Subset` makes a misspelt or unknown key a compile error. */
type ReadArgs<T, O extends Operation> = Prisma.Args<T, O> & CacheArgs
type Subset<T, U> = { [K in keyof T]: K extends keyof U ? T[K] : never }
type SelectSubset<T, U> = Subset<T, U> &
  (T extends { select: unknown; include: unknown }
    ? 'Please either choose `select` or `include`.'
    : T extends { select: unknown; omit: unknown }
      ? 'Please either choose `select` or `omit`.'
      : unknown)

/** What a read method returns: Prisma's promise, with Prisma Accelerate's `withAccelerateInfo()`. */
export type CachedPromise<T> = Prisma.PrismaPromise<T> & {
  /** The result with how the cache answered it (`cacheStatus` `ttl`, `swr`, `miss`, or `none` when not cached). */
  withAccelerateInfo(): Promise<{ data: T; info: AccelerateInfo }>
}

/** Runs one read method: `self` is the model delegate the method was called on. */
export type ReadMethod = (self: unknown, operation: string, args: unknown) => unknown

/**
 * The model component's read methods (`$allModels`), typed as Prisma Accelerate types its own:
 * Prisma's arguments plus `cache`/`cacheStrategy`, Prisma's result. A method of the model component
 * answers a hit without Prisma's request pipeline (see PRISMA_OFFLINE.md: ~1.5 µs against ~25 µs).
 */
export function readMethods(read: ReadMethod) {
  return {
    findUnique<T, const A extends ReadArgs<T, 'findUnique'>>(
      this: T,
      args: SelectSubset<A, ReadArgs<T, 'findUnique'>>,
    ) {
      return read(this, 'findUnique', args) as CachedPromise<Prisma.Result<T, A, 'findUnique'>>
    },
    findUniqueOrThrow<T, const A extends ReadArgs<T, 'findUniqueOrThrow'>>(
      this: T,
      args: SelectSubset<A, ReadArgs<T, 'findUniqueOrThrow'>>,
    ) {
      return read(this, 'findUniqueOrThrow', args) as CachedPromise<Prisma.Result<T, A, 'findUniqueOrThrow'>>
    },
    findFirst<T, const A extends ReadArgs<T, 'findFirst'>>(this: T, args?: SelectSubset<A, ReadArgs<T, 'findFirst'>>) {
      return read(this, 'findFirst', args) as CachedPromise<Prisma.Result<T, A, 'findFirst'>>
    },
    findFirstOrThrow<T, const A extends ReadArgs<T, 'findFirstOrThrow'>>(
      this: T,
      args?: SelectSubset<A, ReadArgs<T, 'findFirstOrThrow'>>,
    ) {
      return read(this, 'findFirstOrThrow', args) as CachedPromise<Prisma.Result<T, A, 'findFirstOrThrow'>>
    },
    findMany<T, const A extends ReadArgs<T, 'findMany'>>(this: T, args?: SelectSubset<A, ReadArgs<T, 'findMany'>>) {
      return read(this, 'findMany', args) as CachedPromise<Prisma.Result<T, A, 'findMany'>>
    },
    count<T, const A extends ReadArgs<T, 'count'>>(this: T, args?: Subset<A, ReadArgs<T, 'count'>>) {
      return read(this, 'count', args) as CachedPromise<Prisma.Result<T, A, 'count'>>
    },
    aggregate<T, const A extends ReadArgs<T, 'aggregate'>>(this: T, args: Subset<A, ReadArgs<T, 'aggregate'>>) {
      return read(this, 'aggregate', args) as CachedPromise<Prisma.Result<T, A, 'aggregate'>>
    },
    groupBy<T, const A extends ReadArgs<T, 'groupBy'>>(this: T, args: Subset<A, ReadArgs<T, 'groupBy'>>) {
      return read(this, 'groupBy', args) as CachedPromise<Prisma.Result<T, A, 'groupBy'>>
    },
  }
}
