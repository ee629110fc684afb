/**
 * `findUniqueOrThrow` and `findFirstOrThrow`, emulated: they share the entry of `findUnique` /
 * `findFirst`, and a cached `null` becomes the error Prisma raises when nothing is found.
 */
import { PrismaClientKnownRequestError } from '@prisma/client/runtime/client'
import { delegateName } from './operations.ts'

const SUFFIX = 'OrThrow'

/** The operation an OrThrow read loads and caches (`findUniqueOrThrow` → `findUnique`); others are their own. */
export function loadedOperation(operation: string): string {
  return operation.endsWith(SUFFIX) ? operation.slice(0, -SUFFIX.length) : operation
}

/** The error Prisma raises when an OrThrow read finds nothing (P2025), for a cached empty result. */
export function notFound(model: string, operation: string, clientVersion: string): Error {
  return new PrismaClientKnownRequestError(
    `\nInvalid \`prisma.${delegateName(model)}.${operation}()\` invocation:\n\n\nAn operation failed because it depends on one or more records that were required but not found. No record was found for a query.`,
    { code: 'P2025', clientVersion, meta: { modelName: model, operation: 'a query' } },
  )
}
