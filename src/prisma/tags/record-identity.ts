/**
 * Record identity and key values: the primary key of a record, and the values of any tracked key
 * (schema/tracked-keys.ts), from a `where`, from the `data` of a write or from a result. A value
 * from a `where` or `data` is turned into the type the database returns, so that the tag of a read
 * by a value equals the one computed from a result; a value the database would compare loosely
 * (a field that is not exact) is not used at all.
 */
import { isBytes, isDecimal } from '../../core/values.ts'
import type { DataModel, ModelInfo, TrackedKey, UniqueSelector } from '../schema/datamodel.ts'

type Args = Record<string, unknown>

export const isObject = (value: unknown): value is Args => typeof value === 'object' && value !== null

/** Whether records of the model can be named: its identity is known and it is not a view. */
export function recordLevel(info: ModelInfo): boolean {
  return info.precise && !info.isView && info.primaryKey !== undefined
}

/** The keys a record's relation lists are tagged by: its primary key, then its other unique keys. */
export function linkKeys(info: ModelInfo): TrackedKey[] {
  const primary: TrackedKey = { fields: info.primaryKey ?? [], unique: true, primary: true, selector: undefined }
  const others = info.keys.filter((k) => k.unique && !k.primary)
  return info.primaryKey ? [primary, ...others] : others
}

/** The tracked keys that are the foreign key of a to-one relation the model holds (not its primary key). */
export function foreignKeys(info: ModelInfo): TrackedKey[] {
  const held = [...info.relations.values()].filter((rel) => rel.precise && rel.holdsForeignKey && !rel.isList)
  return info.keys.filter(
    (k) =>
      !k.primary &&
      held.some((rel) => rel.fields.length === k.fields.length && rel.fields.every((f) => k.fields.includes(f))),
  )
}

/** Where a value comes from: what the database returned, or what a query wrote in `where` or `data`. */
export type ValueSource = 'result' | 'where' | 'data'

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
  if (!isObject(where) || info.primaryKey === undefined) return undefined
  const compound = info.primaryKey.length > 1 ? where[(info.primarySelector as UniqueSelector).name] : undefined
  return withoutNull(fieldValues(info, info.primaryKey, isObject(compound) ? compound : where, 'where'))
}

export function keyFromRecord(info: ModelInfo, record: unknown): unknown[] | undefined {
  if (!isObject(record) || info.primaryKey === undefined) return undefined
  return withoutNull(fieldValues(info, info.primaryKey, record, 'result'))
}

/** A key with a null part names no record. */
const withoutNull = (key: unknown[] | undefined) => (key?.includes(null) ? undefined : key)

/**
 * The values of `fields` in `source`, or `undefined` when one is missing or not a plain value. In
 * a `where`, `{ equals: v }` counts as `v`; in `data`, `{ set: v }` does. `null` is a value (a row
 * whose optional foreign key is null).
 */
export function fieldValues(
  info: ModelInfo,
  fields: readonly string[],
  source: Args,
  from: ValueSource,
): unknown[] | undefined {
  const values: unknown[] = []
  for (const field of fields) {
    if (from !== 'result' && !info.exact.has(field)) return undefined
    const value = normalizeValue(info.scalars.get(field), unwrap(source[field], from), from !== 'result')
    if (value === undefined) return undefined
    values.push(value)
  }
  return values
}

/** The values of a tracked key in a `where` (its selector object for a compound unique, or the fields). */
export function keyValuesFromWhere(info: ModelInfo, key: TrackedKey, where: Args): unknown[] | undefined {
  const compound = key.fields.length > 1 && key.selector !== undefined ? where[key.selector] : undefined
  return fieldValues(info, key.fields, isObject(compound) ? compound : where, 'where')
}

/**
 * The values of the tracked keys a `where` pins by equality in its top-level conjunction (its own
 * fields and `AND`, never under `OR` or `NOT`), one tuple per key; a single-field key also by
 * `{ in: [...] }` (several tuples).
 */
export function pinnedKeys(info: ModelInfo, where: unknown): Map<TrackedKey, unknown[][]> {
  const pinned = new Map<TrackedKey, unknown[][]>()
  if (!info.precise) return pinned
  for (const part of conjuncts(where)) {
    for (const key of info.keys) {
      if (pinned.has(key)) continue
      const values = keyValuesFromWhere(info, key, part)
      if (values) {
        pinned.set(key, [values])
        continue
      }
      const list =
        key.fields.length === 1 ? inList(info, key.fields[0] as string, part[key.fields[0] as string]) : undefined
      if (list) pinned.set(key, list)
    }
  }
  return pinned
}

/** The objects of a `where`'s top-level conjunction: itself and, recursively, its `AND`. */
export function conjuncts(where: unknown): Args[] {
  if (!isObject(where)) return []
  const out: Args[] = [where]
  const and = where.AND
  for (const item of Array.isArray(and) ? and : [and]) out.push(...conjuncts(item))
  return out
}

const MAX_IN = 100

function inList(info: ModelInfo, field: string, filter: unknown): unknown[][] | undefined {
  if (!isObject(filter) || Object.keys(filter).length !== 1 || !Array.isArray(filter.in)) return undefined
  if (filter.in.length > MAX_IN || !info.exact.has(field)) return undefined
  const out: unknown[][] = []
  for (const item of filter.in) {
    const value = normalizeValue(info.scalars.get(field), item, true)
    if (value === undefined || value === null) return undefined
    out.push([value])
  }
  return out
}

function unwrap(value: unknown, from: ValueSource): unknown {
  if (from === 'result' || !isObject(value) || value instanceof Date || isBytes(value) || isDecimal(value)) return value
  const keys = Object.keys(value)
  const wrapper = from === 'where' ? 'equals' : 'set'
  return keys.length === 1 && keys[0] === wrapper ? value[wrapper] : undefined
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/

/** The value as the database returns it for a field of `type`, or `undefined` when unsure. */
function normalizeValue(type: string | undefined, value: unknown, fromQuery: boolean): unknown {
  switch (typeof value) {
    case 'string':
      if (type === 'DateTime') {
        if (!fromQuery || !ISO_WITH_ZONE.test(value)) return undefined
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
      if (value === null) return null
      if (value instanceof Date) return type === 'DateTime' && !Number.isNaN(value.getTime()) ? value : undefined
      if (isBytes(value)) return type === 'Bytes' ? value : undefined
      if (isDecimal(value)) return type === 'Decimal' ? value : undefined
      return undefined
    default:
      return undefined
  }
}
