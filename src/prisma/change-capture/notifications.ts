/**
 * The change a notification carries, and its parser. The payload (JSON, written by the trigger
 * function in sql.ts, always under 8000 bytes):
 *
 * ```json
 * {"v":1,"s":"public","t":"Post","op":"U","k":["5"],"ok":["4"],"c":["title","id"],"f":{"authorId":["1","2"]}}
 * ```
 *
 * - `v`: format version (1); `s`, `t`: the table's schema and name; `op`: `I`, `U`, `D` or `T` (truncate).
 * - `k`: the row's key column values as text (`null` for SQL NULL), in the order of the trigger's
 *   key columns (the data model's key order); the new row's for I and U, the old row's for D.
 *   Absent: a change to the whole table (a truncate, a table without a known key, or a row whose
 *   description did not fit in a notification).
 * - `ok`: U only, the old key when the update changed it.
 * - `c`: U only, the columns of the model's fields whose values changed (columns the schema does
 *   not name are not compared); absent when the row did not fit.
 * - `f`: foreign-key columns outside the key: `[old, new]` text values; every one for I and D
 *   (`null` on the side without a row), the changed ones for U.
 */
import { ChangeCaptureError } from './errors.ts'

export type ChangeOperation = 'insert' | 'update' | 'delete' | 'truncate'

/** One committed change, as the database names it (tables and columns, not models and fields). */
export interface RowChange {
  readonly schema: string
  readonly table: string
  readonly operation: ChangeOperation
  /** Key column values as text; `undefined` for a change to the whole table. */
  readonly key?: readonly (string | null)[]
  /** The key before an update that changed it. */
  readonly oldKey?: readonly (string | null)[]
  /** Columns of the model's fields an update changed; `undefined` when not known (any may have). */
  readonly changed?: readonly string[]
  /** Foreign-key column → `[old, new]` text values. */
  readonly foreignKeys?: Readonly<Record<string, readonly [string | null, string | null]>>
}

const OPERATIONS: Readonly<Record<string, ChangeOperation>> = { I: 'insert', U: 'update', D: 'delete', T: 'truncate' }

/**
 * The change in a notification payload.
 * @throws ChangeCaptureError when the payload is not one the trigger function writes.
 */
export function parseChange(payload: string): RowChange {
  let value: unknown
  try {
    value = JSON.parse(payload)
  } catch (error) {
    throw malformed(payload, 'not JSON', error)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw malformed(payload, 'not an object')
  const m = value as Record<string, unknown>
  if (m.v !== 1) throw malformed(payload, `unknown version ${JSON.stringify(m.v)}`)
  const operation = typeof m.op === 'string' ? OPERATIONS[m.op] : undefined
  if (typeof m.s !== 'string' || typeof m.t !== 'string' || operation === undefined) {
    throw malformed(payload, 'no schema, table or operation')
  }
  const change: { -readonly [K in keyof RowChange]: RowChange[K] } = { schema: m.s, table: m.t, operation }
  if (m.k !== undefined) change.key = texts(m.k, payload, 'k')
  if (m.ok !== undefined) change.oldKey = texts(m.ok, payload, 'ok')
  if (m.c !== undefined) {
    const changed = texts(m.c, payload, 'c')
    if (changed.includes(null)) throw malformed(payload, 'c holds a null')
    change.changed = changed as string[]
  }
  if (m.f !== undefined) {
    if (typeof m.f !== 'object' || m.f === null || Array.isArray(m.f)) throw malformed(payload, 'f is not an object')
    const foreignKeys: Record<string, readonly [string | null, string | null]> = {}
    for (const [column, pair] of Object.entries(m.f)) {
      const values = texts(pair, payload, 'f')
      if (values.length !== 2) throw malformed(payload, 'f holds a value that is not [old, new]')
      foreignKeys[column] = values as [string | null, string | null]
    }
    change.foreignKeys = foreignKeys
  }
  return change
}

function texts(value: unknown, payload: string, field: string): (string | null)[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' || v === null)) {
    throw malformed(payload, `${field} is not an array of strings`)
  }
  return value as (string | null)[]
}

function malformed(payload: string, reason: string, cause?: unknown): ChangeCaptureError {
  const shown = payload.length > 200 ? `${payload.slice(0, 200)}…` : payload
  return new ChangeCaptureError(`malformed change notification (${reason}): ${shown}`, { cause })
}
