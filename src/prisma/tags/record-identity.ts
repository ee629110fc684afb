/**
 * Record identity: the primary key of a record, from a `where` or from a result. A value from a
 * `where` is turned into the type the database returns, so that the record tag (and the key) of a
 * read by primary key equals the one computed from a result.
 */
import { isBytes, isDecimal } from '../../core/values.ts'
import type { DataModel, ModelInfo, UniqueSelector } from '../schema/datamodel.ts'

type Args = Record<string, unknown>

export const isObject = (value: unknown): value is Args => typeof value === 'object' && value !== null

/** Whether records of the model can be named: its identity is known and it is not a view. */
export function recordLevel(info: ModelInfo): boolean {
  return info.precise && !info.isView && info.primaryKey !== undefined
}

/**
 * The record a `findUnique`/`findUniqueOrThrow` looks up: its primary key when `where` pins it by
 * equality, `null` when only the result will tell (another unique selector), `undefined` when the
 * read is not the lookup of one nameable record.
 */
export function lookedUpRecord(
  dm: DataModel,
  model: string,
  operation: string,
  args: unknown,
): unknown[] | null | undefined {
  if (operation !== 'findUnique' && operation !== 'findUniqueOrThrow') return undefined
  const info = dm.model(model)
  if (!info || !recordLevel(info)) return undefined
  return keyFromWhere(info, isObject(args) ? args.where : undefined) ?? null
}

/** The primary key a `where` pins by equality (directly or through its selector), if it does. */
export function keyFromWhere(info: ModelInfo, where: unknown): unknown[] | undefined {
  if (!isObject(where)) return undefined
  const pk = info.primaryKey as readonly string[]
  const compound = pk.length > 1 ? where[(info.primarySelector as UniqueSelector).name] : undefined
  const source = isObject(compound) ? compound : where
  return keyValues(info, pk, source, true)
}

export function keyFromRecord(info: ModelInfo, record: unknown): unknown[] | undefined {
  if (!isObject(record)) return undefined
  return keyValues(info, info.primaryKey as readonly string[], record, false)
}

function keyValues(info: ModelInfo, pk: readonly string[], source: Args, fromWhere: boolean): unknown[] | undefined {
  const key: unknown[] = []
  for (const field of pk) {
    const value = normalizeKey(info.scalars.get(field), source[field], fromWhere)
    if (value === undefined) return undefined
    key.push(value)
  }
  return key
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/

/** The value as the database returns it for a field of `type`, or `undefined` when unsure. */
function normalizeKey(type: string | undefined, value: unknown, fromWhere: boolean): unknown {
  switch (typeof value) {
    case 'string':
      if (type === 'DateTime') {
        if (!fromWhere || !ISO_WITH_ZONE.test(value)) return undefined
        const date = new Date(value)
        return Number.isNaN(date.getTime()) ? undefined : date
      }
      return type === 'BigInt' || type === 'Decimal' || type === 'Int' || type === 'Float' || type === 'Bytes'
        ? undefined
        : value
    case 'number':
      if (type === 'BigInt') return Number.isSafeInteger(value) ? BigInt(value) : undefined
      return type === 'Int' || type === 'Float' ? value : undefined
    case 'bigint':
      return type === 'BigInt' || type === 'Int' ? (type === 'Int' ? Number(value) : value) : undefined
    case 'boolean':
      return type === 'Boolean' ? value : undefined
    case 'object':
      if (value instanceof Date) return type === 'DateTime' && !Number.isNaN(value.getTime()) ? value : undefined
      if (isBytes(value)) return type === 'Bytes' ? value : undefined
      if (isDecimal(value)) return type === 'Decimal' ? value : undefined
      return undefined
    default:
      return undefined
  }
}
