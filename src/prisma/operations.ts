/** Prisma's model operations, by what they do to the cache. */

/** Reads: the ones that may be cached. */
export const READ_OPERATIONS: ReadonlySet<string> = new Set([
  'findUnique',
  'findUniqueOrThrow',
  'findFirst',
  'findFirstOrThrow',
  'findMany',
  'count',
  'aggregate',
  'groupBy',
])

/** Writes: each one invalidates what it could have changed. */
export const WRITE_OPERATIONS: ReadonlySet<string> = new Set([
  'create',
  'createMany',
  'createManyAndReturn',
  'update',
  'updateMany',
  'updateManyAndReturn',
  'upsert',
  'delete',
  'deleteMany',
])

/** Writes Prisma cannot see into; they invalidate every model. */
export const RAW_WRITE_OPERATIONS: ReadonlySet<string> = new Set(['$executeRaw', '$executeRawUnsafe', '$runCommandRaw'])

/** The delegate of a model on a client (`User` → `client.user`). */
export const delegateName = (model: string): string => model.charAt(0).toLowerCase() + model.slice(1)
