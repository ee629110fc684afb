/**
 * Prisma's fluent API (`prisma.user.findUnique({ where }).posts()`) on the cached reads of one
 * record, typed and run as Prisma does: `.posts(args)` re-issues the parent read with
 * `select: { posts: args ?? true }` and takes that field out of its result (the client runtime's
 * `dataPath`). The re-issued read is an ordinary cached read, so it depends on the parent record
 * and on the relation's rows, and a batch transaction gets Prisma's own fluent query instead.
 */
import type { Prisma } from '@prisma/client/extension'
import type { Types } from '@prisma/client/runtime/client'
import type { CachedPromise } from './model-methods.ts'
import { CachedPrismaPromise, type DirectQuery, type ReadOutcome } from './prisma-promise.ts'
import type { DataModel } from './schema/datamodel.ts'

type Payload = Types.Payload

/** The payload a relation points at (`$PostPayload[]` → `$PostPayload`). */
type Related<V> = V extends readonly (infer O extends Payload)[] ? O : V extends Payload ? V : never
/** `null` when a to-one relation is optional. */
type Nullable<V> = null extends V ? null : never
/** The arguments of a relation in its model's `select` (`User$postsArgs`, `UserDefaultArgs`). */
type RelationArgs<S, K> = K extends keyof S ? Exclude<S[K], boolean | null | undefined> : never
type SelectOf<A> = A extends { select?: infer S } ? NonNullable<S> : never
/** The relation `K` of a record of `P` read with `select: { [K]: A }`, as Prisma types it. */
type Relation<P extends Payload, K extends string, A, Omit> = Types.Utils.Path<
  Types.Result.GetResult<P, { select: { [F in K]: A } }, 'findUniqueOrThrow', Omit>,
  [K]
>

/**
 * Prisma's fluent API over the relations of one record (`prisma.user.findUnique(…).posts()`),
 * typed as Prisma types it on an extended client, with the generated client's rule that a list
 * relation ends the chain (`Prisma__UserClient`). `P` is the record's payload, `S` its model's
 * `select` type, `Null` is `null` when the record may be missing, `Omit` the client's global omit.
 */
export type FluentApi<P extends Payload, S, Null, Omit> = {
  [K in keyof P['objects'] & string]: <A>(
    args?: Prisma.Exact<A, RelationArgs<S, K>>,
  ) => CachedPromise<Relation<P, K, A, Omit> | Null> &
    (P['objects'][K] extends readonly unknown[]
      ? unknown
      : FluentApi<Related<P['objects'][K]>, SelectOf<RelationArgs<S, K>>, Null | Nullable<P['objects'][K]>, Omit>)
}

/** The reads Prisma gives the fluent API. */
const FLUENT_OPERATIONS: ReadonlySet<string> = new Set([
  'findUnique',
  'findUniqueOrThrow',
  'findFirst',
  'findFirstOrThrow',
])

type Args = Record<string, unknown>
type Run = (outcome: ReadOutcome) => Promise<unknown>
/** Issues the first read of a fluent chain with other arguments. */
type Reissue = (args: Args) => unknown

/** The path of a read that selects no relation yet. */
const ROOT: readonly string[] = Object.freeze([])

/**
 * The promise of a cached read: for a read of one record, one with the fluent API over its model's
 * relations (`reissue` issues the same read with other arguments), else a plain one.
 */
export function cachedReadPromise(
  run: Run,
  direct: DirectQuery,
  dataModel: DataModel,
  model: string,
  operation: string,
  args: Args | undefined,
  reissue: Reissue,
): CachedPrismaPromise<unknown> {
  if (!FLUENT_OPERATIONS.has(operation)) return new CachedPrismaPromise(run, direct)
  // A class per model carries the relation methods on its prototype, so a read pays for one
  // object, not a closure per relation.
  return new (fluentClass(dataModel, model))(run, direct, dataModel, reissue, args ?? {}, ROOT)
}

/**
 * Gives a cached read of one record the fluent API over its model's relations; any other result
 * (an uncached read is Prisma's own promise, which has it already) is returned as it is.
 * `read` issues the same read with other arguments.
 */
export function withFluent(
  result: unknown,
  dataModel: DataModel,
  model: string,
  operation: string,
  args: Args | undefined,
  read: Reissue,
): unknown {
  if (!(result instanceof CachedPrismaPromise) || !FLUENT_OPERATIONS.has(operation)) return result
  const { run, direct } = CachedPrismaPromise.parts(result)
  return cachedReadPromise(run, direct, dataModel, model, operation, args, read)
}

/** Where a fluent read stands: the read it re-issues, with the relations selected so far. */
class FluentPromise<T> extends CachedPrismaPromise<T> {
  readonly #dataModel: DataModel
  readonly #reissue: Reissue
  /** The first read's arguments, with `select: { <relation>: … }` down to this level. */
  readonly #args: Args
  /** Prisma's `dataPath`: `['select', 'author', 'select', 'posts']`. */
  readonly #dataPath: readonly string[]

  constructor(
    run: (outcome: ReadOutcome) => Promise<T>,
    direct: DirectQuery,
    dataModel: DataModel,
    reissue: Reissue,
    args: Args,
    dataPath: readonly string[],
  ) {
    super(run, direct)
    this.#dataModel = dataModel
    this.#reissue = reissue
    this.#args = args
    this.#dataPath = dataPath
  }

  /** `promise.<field>(relationArgs)`: the relation `field`, a record of `target` or a list of them. */
  static follow(promise: FluentPromise<unknown>, field: string, target: string, relationArgs: unknown): unknown {
    const reissue = promise.#reissue
    const dataPath = [...promise.#dataPath, 'select', field]
    // As Prisma: missing arguments select the relation with `true`.
    const args = setIn(promise.#args, dataPath, relationArgs || true)
    const fields = dataPath.filter((_, i) => i % 2 === 1)
    const parent = CachedPrismaPromise.parts(promise).direct
    const direct = () =>
      (parent() as unknown as Record<string, (args: unknown) => ReturnType<DirectQuery>>)[field]!(relationArgs)
    const run = (outcome: ReadOutcome) => {
      const read = reissue(args)
      if (read instanceof CachedPrismaPromise)
        return CachedPrismaPromise.parts(read)
          .run(outcome)
          .then((record) => pick(record, fields))
      outcome.status = 'none'
      return Promise.resolve(read).then((record) => pick(record, fields))
    }
    return new (fluentClass(promise.#dataModel, target))(run, direct, promise.#dataModel, reissue, args, dataPath)
  }
}

/** Prisma's copy-on-write of nested arguments (the runtime's `vs`): the caller's object stays as it was. */
function setIn(target: unknown, path: readonly string[], value: unknown): Args {
  const [key, ...rest] = path as [string, ...string[]]
  const copy: Args = { ...(typeof target === 'object' && target !== null ? target : {}) }
  copy[key] = rest.length === 0 ? value : setIn(copy[key], rest, value)
  return copy
}

/** The selected relation out of the re-issued read's result; a missing record stays `null`. */
function pick(record: unknown, fields: readonly string[]): unknown {
  let value = record
  for (const field of fields) {
    if (!value) return value
    value = (value as Args)[field]
  }
  return value
}

type FluentClass = new (...args: ConstructorParameters<typeof FluentPromise<unknown>>) => CachedPrismaPromise<unknown>
const classes = new WeakMap<DataModel, Map<string, FluentClass>>()

/** The fluent promise of `model`: one method per relation, on the prototype. */
function fluentClass(dataModel: DataModel, model: string): FluentClass {
  let byModel = classes.get(dataModel)
  if (byModel === undefined) classes.set(dataModel, (byModel = new Map()))
  let made = byModel.get(model)
  if (made !== undefined) return made
  made = class extends FluentPromise<unknown> {
    // Written out: the implicit one passes its arguments on as a rest array, on every read.
    constructor(
      run: Run,
      direct: DirectQuery,
      dataModel: DataModel,
      reissue: Reissue,
      args: Args,
      dataPath: readonly string[],
    ) {
      super(run, direct, dataModel, reissue, args, dataPath)
    }
  }
  for (const [field, relation] of dataModel.model(model)?.relations ?? []) {
    // A relation named like a promise method (`then`) would make the read unusable: the method stays.
    if (field in made.prototype) continue
    Object.defineProperty(made.prototype, field, {
      value(this: FluentPromise<unknown>, relationArgs?: unknown) {
        return FluentPromise.follow(this, field, relation.target, relationArgs)
      },
      configurable: true,
      writable: true,
    })
  }
  byModel.set(model, made)
  return made
}
