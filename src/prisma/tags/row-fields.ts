/**
 * Which fields decide what rows an unpinned read returns, and in which order (README, rule R3):
 * those its `where` tests (and the foreign keys of the to-one relations it filters by), its
 * `orderBy`, `distinct`, `by`, `having` and aggregates name. A write that changes none of them,
 * and creates or deletes no row, cannot move a row into or out of the result, nor reorder it;
 * it can change the rows the result holds, which their own record tags cover.
 *
 * Only when the order is total: rows that tie on the ordering come back in whatever order the
 * database finds them, which an update of an unrelated field can change (PostgreSQL writes a
 * new row version elsewhere), so a list of rows must end its ordering with the primary key.
 */
import type { ModelInfo } from '../schema/datamodel.ts'
import { isObject } from './record-identity.ts'

type Args = Record<string, unknown>

const AGGREGATES = ['_count', '_sum', '_avg', '_min', '_max'] as const
const ROW_READS: ReadonlySet<string> = new Set(['findMany', 'findFirst', 'findFirstOrThrow'])

/** The fields that decide the rows and their order, or `undefined` when the rules cannot tell. */
export function decidingFields(info: ModelInfo, operation: string, args: Args): Set<string> | undefined {
  const fields = new Set<string>()
  if (!whereFields(info, args.where, fields)) return undefined
  const order = orderFields(args.orderBy)
  if (order === undefined) return undefined
  for (const f of order) fields.add(f)
  if (ROW_READS.has(operation)) {
    // Ties would reorder: the ordering must end with the primary key.
    const primary = info.primaryKey ?? []
    if (primary.length === 0 || !primary.every((f) => order.includes(f))) return undefined
    const distinct = args.distinct
    for (const f of Array.isArray(distinct) ? distinct : distinct === undefined ? [] : [distinct]) {
      if (typeof f !== 'string') return undefined
      fields.add(f)
    }
    return fields
  }
  if (operation === 'count') {
    const select = args.select
    if (isObject(select)) for (const f in select) if (f !== '_all') fields.add(f)
    return fields
  }
  if (operation === 'aggregate' || operation === 'groupBy') {
    if (operation === 'groupBy') {
      const by = Array.isArray(args.by) ? args.by : [args.by]
      if (!by.every((f) => typeof f === 'string')) return undefined
      for (const f of by as string[]) fields.add(f)
      // Groups come back in the order asked for; without one covering `by`, in any order.
      if (args.take !== undefined || args.skip !== undefined) {
        if (!(by as string[]).every((f) => order.includes(f))) return undefined
      }
      if (!whereFields(info, args.having, fields)) return undefined
    }
    for (const name of AGGREGATES) {
      const spec = args[name]
      if (spec === true) continue
      if (spec !== undefined && !isObject(spec)) return undefined
      if (isObject(spec)) for (const f in spec) if (f !== '_all') fields.add(f)
    }
    return fields
  }
  return undefined
}

/** Adds the fields a `where` tests at its own level (through AND, OR, NOT); false when it cannot tell. */
export const filterFields = (info: ModelInfo, where: unknown, into: Set<string>): boolean =>
  whereFields(info, where, into)

function whereFields(info: ModelInfo, where: unknown, into: Set<string>): boolean {
  if (where === undefined) return true
  if (Array.isArray(where)) return where.every((w) => whereFields(info, w, into))
  if (!isObject(where)) return false
  for (const key in where) {
    if (where[key] === undefined) continue
    if (key === 'AND' || key === 'OR' || key === 'NOT') {
      if (!whereFields(info, where[key], into)) return false
      continue
    }
    const rel = info.relations.get(key)
    if (!rel) {
      // A field, or an aggregate in `having` (`_count: { id: … }`).
      if ((AGGREGATES as readonly string[]).includes(key)) {
        const spec = where[key]
        if (!isObject(spec)) return false
        for (const f in spec) into.add(f)
      } else into.add(key)
      continue
    }
    // Whether a row passes a relation filter depends on the relation's own tags, and, for a to-one
    // relation whose key this row holds, on that key.
    if (!rel.precise) return false
    if (rel.holdsForeignKey) for (const f of rel.fields) into.add(f)
  }
  return true
}

/** The scalar fields an `orderBy` names, in order; `undefined` for ordering by a relation or relevance. */
function orderFields(orderBy: unknown): string[] | undefined {
  if (orderBy === undefined) return []
  const out: string[] = []
  for (const item of Array.isArray(orderBy) ? orderBy : [orderBy]) {
    if (!isObject(item)) return undefined
    for (const key in item) {
      const value = item[key]
      if (value === undefined) continue
      if (key === '_relevance') return undefined
      if ((AGGREGATES as readonly string[]).includes(key)) {
        // groupBy ordering by an aggregate: its fields.
        if (!isObject(value)) return undefined
        for (const f in value) out.push(f)
        continue
      }
      // `{ field: 'asc' }` or `{ field: { sort, nulls } }`; a relation's ordering is an object of fields.
      if (value === 'asc' || value === 'desc' || (isObject(value) && typeof value.sort === 'string')) out.push(key)
      else return undefined
    }
  }
  return out
}
