/**
 * From a database change to the tags a cache invalidates: exactly what the same write through
 * the client would (`writeInvalidations`), so a raw `UPDATE` and `prisma.post.update`
 * cost the same entries. This is the one file that imports the tag vocabulary.
 *
 * A row of a model table becomes the client write that makes it: INSERT a `create` returning
 * its key, UPDATE an `update` from the old key to the new one changing the updated columns'
 * fields, DELETE a `delete` by key. A change without a usable key becomes the `createMany`,
 * `updateMany` or `deleteMany` of the model. A row of an implicit many-to-many table changes the
 * relation lists of both models, as `connect`/`disconnect` through the client does.
 */
import { entityTag, modelTag } from '../tags/vocabulary.ts'
import { joinTableInvalidations, writeInvalidations } from '../tags/write-invalidations.ts'
import type { RowChange } from './notifications.ts'
import type { CaptureTable, CaptureTables } from './tables.ts'

type Fields = Record<string, unknown>

/** The tags `change` invalidates; for a table the schema does not know, those of the database views. */
export function changeToTags(change: RowChange, tables: CaptureTables): string[] {
  const dm = tables.dataModel
  const table = tables.find(change.schema, change.table)
  // A database view can show any table, as writeInvalidations assumes for every write.
  const views = dm.views.flatMap((view) => [modelTag(view), entityTag(view)])
  if (!table) return views
  if (table.joins) return [...new Set([...joinTableInvalidations(dm, table.joins), ...views])]
  const model = table.model as string
  const key = keyRecord(tables, table, change.key)
  switch (change.operation) {
    case 'insert':
      return key
        ? writeInvalidations(dm, model, 'create', { data: {} }, key)
        : writeInvalidations(dm, model, 'createMany', {}, undefined)
    case 'update': {
      const data = changedData(table, change.changed)
      const before = change.oldKey === undefined ? key : keyRecord(tables, table, change.oldKey)
      return key && before
        ? writeInvalidations(dm, model, 'update', { where: before, data }, key)
        : writeInvalidations(dm, model, 'updateMany', { data }, undefined)
    }
    case 'delete':
      return key
        ? writeInvalidations(dm, model, 'delete', { where: key }, null)
        : writeInvalidations(dm, model, 'deleteMany', {}, undefined)
    case 'truncate':
      return writeInvalidations(dm, model, 'deleteMany', {}, undefined)
  }
}

/** `data` naming the fields of the changed columns; every scalar field when unknown. */
function changedData(table: CaptureTable, changed: readonly string[] | undefined): Fields {
  const data: Fields = {}
  if (changed === undefined) {
    for (const field of table.fields.values()) data[field] = null
    return data
  }
  // A column Prisma does not know (added outside the schema, @ignore, Unsupported) changes no read.
  for (const column of changed) {
    const field = table.fields.get(column)
    if (field !== undefined) data[field] = null
  }
  return data
}

/** The key as the record Prisma would return (`{ id: 5 }`), or `undefined` when a value cannot be read exactly. */
function keyRecord(
  tables: CaptureTables,
  table: CaptureTable,
  key: readonly (string | null)[] | undefined,
): Fields | undefined {
  if (key === undefined || key.length !== table.keyColumns.length || key.length === 0) return undefined
  const info = tables.dataModel.model(table.model as string)
  const record: Fields = {}
  for (let i = 0; i < key.length; i++) {
    const field = table.fields.get(table.keyColumns[i] as string)
    const text = key[i]
    if (field === undefined || text === null || text === undefined) return undefined
    const value = fromText(info?.scalars.get(field), text)
    if (value === undefined) return undefined
    record[field] = value
  }
  return record
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?$/
const TIMESTAMP_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}(:\d{2})?$/
const DATE = /^\d{4}-\d{2}-\d{2}$/

/**
 * A key value from its text in `to_jsonb` form, typed as Prisma returns it for a field of `type`,
 * or `undefined` when this cannot be sure (the change then names no record, only its model).
 */
function fromText(type: string | undefined, text: string): unknown {
  switch (type) {
    case 'String':
      return text
    case 'Int': {
      const n = Number(text)
      return Number.isSafeInteger(n) && /^-?\d+$/.test(text) ? n : undefined
    }
    case 'BigInt':
      return /^-?\d+$/.test(text) ? BigInt(text) : undefined
    case 'Float': {
      const n = Number(text)
      return Number.isFinite(n) ? n : undefined
    }
    case 'Boolean':
      return text === 'true' ? true : text === 'false' ? false : undefined
    case 'DateTime': {
      // timestamp (Prisma's default, read as UTC), date, timestamptz.
      const iso = TIMESTAMP.test(text)
        ? `${text}Z`
        : DATE.test(text)
          ? `${text}T00:00:00Z`
          : TIMESTAMP_WITH_ZONE.test(text)
            ? text
            : undefined
      if (iso === undefined) return undefined
      const date = new Date(iso)
      return Number.isNaN(date.getTime()) ? undefined : date
    }
    case 'Bytes':
      return /^\\x([0-9a-f]{2})*$/.test(text) ? new Uint8Array(Buffer.from(text.slice(2), 'hex')) : undefined
    default:
      // An enum's value is its text; Decimal and Json keys have no exact text form here.
      return type !== undefined && type !== 'Decimal' && type !== 'Json' && isEnum(type) ? text : undefined
  }
}

const SCALARS: ReadonlySet<string> = new Set([
  'String',
  'Int',
  'BigInt',
  'Float',
  'Boolean',
  'DateTime',
  'Bytes',
  'Decimal',
  'Json',
])
const isEnum = (type: string): boolean => !SCALARS.has(type)
