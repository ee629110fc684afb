import type { Prisma } from '@prisma/client/extension'
import type { Types } from '@prisma/client/runtime/client'
import type { FluentApi } from './fluent.ts'
import type { CacheArgs } from './options.ts'
import type { AccelerateInfo } from './prisma-promise.ts'

type Payload = Types.Payload
type ReadOperation = 'findUnique' | 'findUniqueOrThrow' | 'findFirst' | 'findFirstOrThrow' | 'findMany'

/** Prisma's arguments of `O` on the model delegate `T` (the method's `this`). */
type Args<T, O extends Types.Public.Operation> = Prisma.Args<T, O>
/** Prisma's arguments with the cache options: the constraint of a read's arguments. */
type ReadArgs<T, O extends Types.Public.Operation> = Args<T, O> & CacheArgs

/**
 * Prisma's `Subset` and `SelectSubset` guards (a misspelt key is a compile error), written as the
 * generated client writes them so that `Prisma.SelectSubset<T, Prisma.UserFindManyArgs>` in a
 * generic helper is assignable here: `U` is Prisma's own argument type, and the cache options get
 * through in the guard's `never` branch, which relates to Prisma's `never`.
 */
type Subset<T, U> = { [key in keyof T]: key extends keyof U ? T[key] : key extends keyof CacheArgs ? T[key] : never }
type SelectSubset<T, U> = Subset<T, U> &
  (T extends { select: any; include: any }
    ? 'Please either choose `select` or `include`.'
    : T extends { select: any; omit: any }
      ? 'Please either choose `select` or `omit`.'
      : {})

/** The payload (scalars, relations) of the model delegate `T`. */
export type PayloadOf<T> = T extends { [K: symbol]: { types: { payload: infer P extends Payload } } } ? P : never

/**
 * The client's global `omit` (`new PrismaClient({ omit })`), read from the type map of the
 * delegate `T`: Prisma's `Prisma.Result` leaves it out, so results would show omitted fields.
 */
export type GlobalOmitOf<T> =
  T extends Types.Extensions.DynamicModelExtensionThis<infer M extends Types.Extensions.TypeMapDef, any, any>
    ? M['globalOmitOptions']
    : {}

type Scalar<P extends Payload, F> = F extends keyof P['scalars'] ? P['scalars'][F] : never
/** An average is a float, of a BigInt column too (as the generated client types it). */
type Average<V> = V extends bigint ? number : V
type AggregateKey = '_count' | '_avg' | '_sum' | '_min' | '_max'

/** Aggregates as the generated client types them (`GetUserAggregateType`, the group-by payload). */
type Aggregates<P extends Payload, A, CountAll> = {
  [K in keyof A as K extends AggregateKey ? K : never]: K extends '_count'
    ? A[K] extends CountAll
      ? number
      : { [F in keyof A[K]]: number }
    : { [F in keyof A[K]]: (K extends '_avg' ? Average<Scalar<P, F>> : Scalar<P, F>) | null }
}

type GroupByFields<B> = B extends readonly (infer F)[] ? F : B
type GroupByResult<P extends Payload, A> = A extends { by: infer B }
  ? Array<{ [F in GroupByFields<B> & string]: Scalar<P, F> } & Aggregates<P, A, boolean>>
  : {}[]

/** What a read returns: Prisma's result, with the client's global `omit`. */
export type ReadResult<T, A, O extends Types.Public.Operation> = O extends ReadOperation
  ? Types.Result.GetResult<PayloadOf<T>, A, O, GlobalOmitOf<T>>
  : O extends 'aggregate'
    ? Aggregates<PayloadOf<T>, A, true>
    : O extends 'groupBy'
      ? GroupByResult<PayloadOf<T>, A>
      : Prisma.Result<T, A, O>

/** What a read method returns: Prisma's promise, with Prisma Accelerate's `withAccelerateInfo()`. */
export type CachedPromise<T> = Prisma.PrismaPromise<T> & {
  /** The result with how the cache answered it (`cacheStatus` `ttl`, `swr`, `miss`, or `none` when not cached). */
  withAccelerateInfo(): Promise<{ data: T; info: AccelerateInfo }>
}

/** The reads of one record, that Prisma gives the fluent API (`findUnique(…).posts()`). */
type OneRecordOperation = 'findUnique' | 'findUniqueOrThrow' | 'findFirst' | 'findFirstOrThrow'

/** What a read method returns: a read of one record also has Prisma's fluent API over its relations. */
type Returned<T, A, O extends Types.Public.Operation> = O extends OneRecordOperation
  ? CachedPromise<ReadResult<T, A, O>> &
      FluentApi<
        PayloadOf<T>,
        NonNullable<Args<T, O>['select']>,
        O extends 'findUnique' | 'findFirst' ? null : never,
        GlobalOmitOf<T>
      >
  : CachedPromise<ReadResult<T, A, O>>

/** The guard of the generated client for `O`: `SelectSubset` where a result has a shape, else `Subset`. */
type Guarded<A, T, O extends Types.Public.Operation> = O extends OneRecordOperation | 'findMany'
  ? SelectSubset<A, Args<T, O>>
  : Subset<A, Args<T, O>>

/**
 * A read method, typed twice. First as Prisma types the methods of an extended client
 * (`Prisma.Exact`, which infers `true` and `[1, 2]` as the literals they are, so the result has the
 * shape asked for; `const` type parameters would make that array a readonly tuple Prisma rejects).
 * Then as the generated client types its own, for arguments of a generic type such as
 * `Prisma.SelectSubset<T, Prisma.UserFindManyArgs>` in a helper, which `Exact` does not accept.
 */
export interface RequiredArgsRead<O extends Types.Public.Operation> {
  <T, A>(this: T, args: Prisma.Exact<A, ReadArgs<T, O>>): Returned<T, A, O>
  <T, A extends ReadArgs<T, O>>(this: T, args: Guarded<A, T, O>): Returned<T, A, O>
}
/** {@link RequiredArgsRead}, for the reads whose arguments are optional. */
export interface OptionalArgsRead<O extends Types.Public.Operation> {
  <T, A>(this: T, args?: Prisma.Exact<A, ReadArgs<T, O>>): Returned<T, A, O>
  <T, A extends ReadArgs<T, O>>(this: T, args?: Guarded<A, T, O>): Returned<T, A, O>
}

/** Runs one read method: `self` is the model delegate the method was called on. */
export type ReadMethod = (self: unknown, operation: string, args: unknown) => unknown

/**
 * The model component's read methods (`$allModels`), typed as Prisma types its own (see
 * {@link RequiredArgsRead}) with `cache`/`cacheStrategy` added, and Prisma's result for the
 * arguments given, global `omit` included. A method of the model component answers a hit without
 * Prisma's request pipeline (see PRISMA_OFFLINE.md: ~1.5 µs against ~25 µs).
 */
export function readMethods(read: ReadMethod) {
  const method = (operation: string) =>
    function (this: unknown, args?: unknown) {
      return read(this, operation, args)
    }
  return {
    findUnique: method('findUnique') as RequiredArgsRead<'findUnique'>,
    findUniqueOrThrow: method('findUniqueOrThrow') as RequiredArgsRead<'findUniqueOrThrow'>,
    findFirst: method('findFirst') as OptionalArgsRead<'findFirst'>,
    findFirstOrThrow: method('findFirstOrThrow') as OptionalArgsRead<'findFirstOrThrow'>,
    findMany: method('findMany') as OptionalArgsRead<'findMany'>,
    count: method('count') as OptionalArgsRead<'count'>,
    aggregate: method('aggregate') as RequiredArgsRead<'aggregate'>,
    groupBy: method('groupBy') as RequiredArgsRead<'groupBy'>,
  }
}
