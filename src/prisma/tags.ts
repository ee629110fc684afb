/**
 * The tag vocabulary: what a cached read depends on, and what a write invalidates.
 *
 * - `m:<Model>`: bumped by every write to the model; list-like reads depend on it.
 * - `a:<Model>`: "all records": bumped by writes that may change records they cannot name;
 *   every record-level read depends on it.
 * - `r:<Model>:<recordId>`: one record, by primary key.
 * - `u:<tag>`: a caller's own tag.
 *
 * A write may over-invalidate (cost: a miss) but never under-invalidate (cost: stale data).
 */
import { isDecimal, recordId } from '../core/canonical.ts'
import type { DataModel, ModelInfo, RelationInfo, UniqueSelector } from './schema/datamodel.ts'

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

export const modelTag = (model: string): string => `m:${model}`
export const allRecordsTag = (model: string): string => `a:${model}`
/** The tag of one record from its primary-key values (in primary-key order). */
export const recordTag = (model: string, key: readonly unknown[]): string => `r:${model}:${recordId(key)}`
export const userTag = (tag: string): string => `u:${tag}`

export interface ReadDependencies {
  /** Tags known before the read. */
  readonly tags: string[]
  /**
   * Set for a `findUnique` by a unique selector other than the primary key: the record is known
   * only from the result. Capture `m:<recordsOf>` as a guard before the read and add
   * `recordTags(dm, recordsOf, result)` (or `m:<recordsOf>` when it is `null`) after it.
   */
  readonly recordsOf?: string
}

type Args = Record<string, unknown>

const isObject = (value: unknown): value is Args => typeof value === 'object' && value !== null

/** The tags a read of `model` depends on, from its arguments alone. */
export function readDependencies(dm: DataModel, model: string, operation: string, args: unknown): ReadDependencies {
  const tags = new Set<string>()
  const info = dm.model(model)
  const a = isObject(args) ? args : {}
  let recordsOf: string | undefined
  if ((operation === 'findUnique' || operation === 'findUniqueOrThrow') && info && recordLevel(info)) {
    const key = keyFromWhere(info, a.where)
    if (key) {
      tags.add(recordTag(model, key))
      tags.add(allRecordsTag(model))
    } else {
      recordsOf = model
    }
  } else {
    tags.add(modelTag(model))
  }
  if (info) walkQuery(dm, info, a, tags)
  return recordsOf === undefined ? { tags: [...tags] } : { tags: [...tags], recordsOf }
}

/** `[r:M:<pk>, a:M]` for a record read from `model`, or `null` when it cannot be named. */
export function recordTags(dm: DataModel, model: string, result: unknown): string[] | null {
  const info = dm.model(model)
  if (!info || !recordLevel(info)) return null
  const key = keyFromRecord(info, result)
  return key ? [recordTag(model, key), allRecordsTag(model)] : null
}

/** Every model, whole: what a raw write (or anything not understood) invalidates. */
export function rawInvalidations(dm: DataModel): string[] {
  const tags: string[] = []
  for (const model of dm.models) tags.push(modelTag(model), allRecordsTag(model))
  return tags
}

/** Every tag whose cached reads the write of `model` by `operation` could have changed. */
export function writeInvalidations(
  dm: DataModel,
  model: string,
  operation: string,
  args: unknown,
  result: unknown,
): string[] {
  const info = dm.model(model)
  if (!info || !WRITE_OPERATIONS.has(operation)) {
    return [...new Set([modelTag(model), allRecordsTag(model), ...rawInvalidations(dm)])]
  }
  const tags = new Set<string>([modelTag(model)])
  const a = isObject(args) ? args : {}
  const all = () => tags.add(allRecordsTag(model))
  const record = (key: readonly unknown[] | undefined) => key && tags.add(recordTag(model, key))
  const level = recordLevel(info)
  if (!level) all()

  switch (operation) {
    case 'create': {
      const key = level ? (keyFromRecord(info, result) ?? keyFromRecord(info, a.data)) : undefined
      if (key) record(key)
      else all()
      walkData(dm, info, a.data, tags)
      break
    }
    case 'createManyAndReturn': {
      const keys = level && Array.isArray(result) ? result.map((r) => keyFromRecord(info, r)) : undefined
      if (keys?.every((k) => k !== undefined)) for (const k of keys) record(k)
      else all()
      break
    }
    case 'createMany':
      all()
      break
    case 'update':
    case 'upsert': {
      const data = operation === 'update' ? a.data : a.update
      const before = level ? keyFromWhere(info, a.where) : undefined
      const after = level ? keyFromRecord(info, result) : undefined
      record(before)
      record(after)
      const changed = changedFields(info, data)
      const keyChanged = !level || changed === undefined || (info.primaryKey ?? []).some((f) => changed.includes(f))
      // `where` names the record before the write, the result the record after it. An upsert that
      // creates makes a record `where` may not name, so it always needs the result.
      const named =
        operation === 'upsert'
          ? after !== undefined && (!keyChanged || before !== undefined)
          : keyChanged
            ? before !== undefined && after !== undefined
            : before !== undefined || after !== undefined
      if (!named) all()
      referential(dm, tags, model, 'update', changed)
      walkData(dm, info, data, tags)
      if (operation === 'upsert') walkData(dm, info, a.create, tags)
      break
    }
    case 'delete': {
      const key = level ? (keyFromWhere(info, a.where) ?? keyFromRecord(info, result)) : undefined
      if (key) record(key)
      else all()
      referential(dm, tags, model, 'delete')
      break
    }
    case 'updateMany':
    case 'updateManyAndReturn':
      all()
      referential(dm, tags, model, 'update', changedFields(info, a.data))
      walkData(dm, info, a.data, tags)
      break
    case 'deleteMany':
      all()
      referential(dm, tags, model, 'delete')
      break
  }
  // A database view can show any table; Prisma cannot tell which.
  for (const view of dm.views) tags.add(modelTag(view)).add(allRecordsTag(view))
  return [...tags]
}

/** Whether records of the model can be named: its identity is known and it is not a view. */
function recordLevel(info: ModelInfo): boolean {
  return info.precise && !info.isView && info.primaryKey !== undefined
}

function referential(
  dm: DataModel,
  tags: Set<string>,
  model: string,
  kind: 'delete' | 'update',
  changed?: readonly string[],
): void {
  if (kind === 'update' && changed !== undefined && changed.length === 0) return
  const effects = dm.referentialEffects(model, kind, changed)
  for (const m of effects.changed) tags.add(modelTag(m)).add(allRecordsTag(m))
  for (const m of effects.relationViews) tags.add(modelTag(m))
}

// Record identity. A primary-key value from a `where` is turned into the type the database
// returns, so that the record tag of a read by key equals the one computed from a result.

/** The primary key a `where` pins by equality (directly or through its selector), if it does. */
function keyFromWhere(info: ModelInfo, where: unknown): unknown[] | undefined {
  if (!isObject(where)) return undefined
  const pk = info.primaryKey as readonly string[]
  const compound = pk.length > 1 ? where[(info.primarySelector as UniqueSelector).name] : undefined
  const source = isObject(compound) ? compound : where
  return keyValues(info, pk, source, true)
}

function keyFromRecord(info: ModelInfo, record: unknown): unknown[] | undefined {
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
      if (value instanceof Uint8Array) return type === 'Bytes' ? value : undefined
      if (isDecimal(value)) return type === 'Decimal' ? value : undefined
      return undefined
    default:
      return undefined
  }
}

// Reads: every model a query reaches through relations.

function walkQuery(dm: DataModel, info: ModelInfo, args: Args, tags: Set<string>): void {
  if (args.where !== undefined) walkWhere(dm, info, args.where, tags)
  if (args.orderBy !== undefined) walkOrderBy(dm, info, args.orderBy, tags)
  if (isObject(args.select)) walkSelection(dm, info, args.select, tags)
  if (isObject(args.include)) walkSelection(dm, info, args.include, tags)
}

function walkSelection(dm: DataModel, info: ModelInfo, selection: Args, tags: Set<string>): void {
  for (const key in selection) {
    const value = selection[key]
    if (value === undefined || value === false) continue
    if (key === '_count') {
      walkCount(dm, info, value, tags)
      continue
    }
    const rel = info.relations.get(key)
    if (!rel) continue
    tags.add(modelTag(rel.target))
    const target = dm.model(rel.target)
    if (target && isObject(value)) walkQuery(dm, target, value, tags)
  }
}

/** `_count: true` counts every list relation; `_count: { select: { posts: … } }` the ones named. */
function walkCount(dm: DataModel, info: ModelInfo, value: unknown, tags: Set<string>): void {
  const select = isObject(value) ? value.select : undefined
  if (!isObject(select)) {
    for (const rel of info.relations.values()) if (rel.isList || !rel.precise) tags.add(modelTag(rel.target))
    return
  }
  for (const key in select) {
    const item = select[key]
    const rel = info.relations.get(key)
    if (!rel || item === undefined || item === false) continue
    tags.add(modelTag(rel.target))
    const target = dm.model(rel.target)
    if (target && isObject(item) && item.where !== undefined) walkWhere(dm, target, item.where, tags)
  }
}

const LIST_FILTERS = ['some', 'every', 'none'] as const
const SINGLE_FILTERS = ['is', 'isNot'] as const

function walkWhere(dm: DataModel, info: ModelInfo, where: unknown, tags: Set<string>): void {
  if (Array.isArray(where)) {
    for (const item of where) walkWhere(dm, info, item, tags)
    return
  }
  if (!isObject(where)) return
  for (const key in where) {
    const value = where[key]
    if (value === undefined) continue
    if (key === 'AND' || key === 'OR' || key === 'NOT') {
      walkWhere(dm, info, value, tags)
      continue
    }
    const rel = info.relations.get(key)
    if (!rel) continue
    tags.add(modelTag(rel.target))
    const target = dm.model(rel.target)
    if (!target || !isObject(value)) continue
    walkRelationFilter(dm, rel, target, value, tags)
  }
}

function walkRelationFilter(dm: DataModel, rel: RelationInfo, target: ModelInfo, filter: Args, tags: Set<string>) {
  let wrapped = false
  for (const op of rel.isList || !rel.precise ? LIST_FILTERS : []) {
    if (filter[op] === undefined) continue
    wrapped = true
    walkWhere(dm, target, filter[op], tags)
  }
  if (!rel.isList) {
    for (const op of SINGLE_FILTERS) {
      if (filter[op] === undefined) continue
      wrapped = true
      walkWhere(dm, target, filter[op], tags)
    }
    // A to-one relation also takes the target's where directly (`author: { name: 'Ada' }`).
    if (!wrapped || !rel.precise) walkWhere(dm, target, filter, tags)
  }
}

function walkOrderBy(dm: DataModel, info: ModelInfo, orderBy: unknown, tags: Set<string>): void {
  if (Array.isArray(orderBy)) {
    for (const item of orderBy) walkOrderBy(dm, info, item, tags)
    return
  }
  if (!isObject(orderBy)) return
  for (const key in orderBy) {
    const rel = info.relations.get(key)
    if (!rel || orderBy[key] === undefined) continue
    tags.add(modelTag(rel.target))
    const target = dm.model(rel.target)
    if (target) walkOrderBy(dm, target, orderBy[key], tags)
  }
}

// Writes: nested writes inside `data`, at any depth.

const NESTED_RECORD_WRITES: ReadonlySet<string> = new Set([
  'create',
  'createMany',
  'connectOrCreate',
  'update',
  'updateMany',
  'upsert',
  'delete',
  'deleteMany',
])
const LINK_WRITES: ReadonlySet<string> = new Set(['connect', 'disconnect', 'set'])

/** Scalar fields a `data` object changes, including foreign keys set through relations; `undefined` = unknown. */
function changedFields(info: ModelInfo, data: unknown): string[] | undefined {
  if (!isObject(data)) return []
  const changed: string[] = []
  for (const key in data) {
    if (data[key] === undefined) continue
    if (info.scalars.has(key)) {
      changed.push(key)
      continue
    }
    const rel = info.relations.get(key)
    if (!rel) continue
    if (!rel.precise) return undefined
    if (!rel.holdsForeignKey || !isObject(data[key])) continue
    // Writing the related record through the relation does not move this side's key; linking does.
    const ops = Object.keys(data[key] as Args)
    if (ops.some((op) => op !== 'update' && op !== 'updateMany' && op !== 'delete' && op !== 'deleteMany')) {
      changed.push(...rel.fields)
    }
  }
  return changed
}

function walkData(dm: DataModel, info: ModelInfo, data: unknown, tags: Set<string>): void {
  if (Array.isArray(data)) {
    for (const item of data) walkData(dm, info, item, tags)
    return
  }
  if (!isObject(data)) return
  for (const key in data) {
    const rel = info.relations.get(key)
    const ops = data[key]
    if (!rel || !isObject(ops)) continue
    const target = dm.model(rel.target)
    const T = rel.target
    for (const op in ops) {
      const arg = ops[op]
      if (arg === undefined) continue
      if (LINK_WRITES.has(op)) {
        if (rel.implicitManyToMany) {
          tags.add(modelTag(T))
        } else if (!rel.precise || !rel.holdsForeignKey) {
          // The key lives on the target's rows: linking or unlinking changes them.
          tags.add(modelTag(T)).add(allRecordsTag(T))
          if (rel.precise) referential(dm, tags, T, 'update', rel.fields)
          else referential(dm, tags, T, 'update')
        }
        continue
      }
      tags.add(modelTag(T)).add(allRecordsTag(T))
      if (!target) continue
      if (!NESTED_RECORD_WRITES.has(op)) {
        // Something this code does not know: assume it changes anything the target reaches.
        referential(dm, tags, T, 'delete')
        referential(dm, tags, T, 'update')
        continue
      }
      for (const item of Array.isArray(arg) ? arg : [arg]) nestedWrite(dm, target, op, item, tags)
    }
  }
}

function nestedWrite(dm: DataModel, target: ModelInfo, op: string, item: unknown, tags: Set<string>): void {
  const T = target.name
  switch (op) {
    case 'create':
      walkData(dm, target, item, tags)
      break
    case 'connectOrCreate':
      if (isObject(item)) walkData(dm, target, item.create, tags)
      break
    case 'update':
    case 'updateMany': {
      // To-many: `{ where, data }`. To-one: `{ where?, data }` or the data itself.
      // A model with a field named `data` makes that ambiguous: then both readings count.
      const data = isObject(item) && isObject(item.data) ? item.data : item
      let changed = changedFields(target, data)
      if (data !== item) {
        const direct = changedFields(target, item)
        changed = changed && direct && [...changed, ...direct]
        walkData(dm, target, item, tags)
      }
      referential(dm, tags, T, 'update', changed)
      walkData(dm, target, data, tags)
      break
    }
    case 'upsert':
      if (!isObject(item)) break
      referential(dm, tags, T, 'update', changedFields(target, item.update))
      walkData(dm, target, item.update, tags)
      walkData(dm, target, item.create, tags)
      break
    case 'delete':
    case 'deleteMany':
      if (item !== false) referential(dm, tags, T, 'delete')
      break
  }
}
