/**
 * What a cached read depends on, from its arguments (and, for a lookup by a unique field other
 * than the primary key, from its result): the tags of tags/vocabulary.ts.
 */
import type { DataModel, ModelInfo, RelationInfo } from '../schema/datamodel.ts'
import { isObject, keyFromRecord, lookedUpRecord, recordLevel } from './record-identity.ts'
import { entityTag, modelTag, recordTag } from './vocabulary.ts'

type Args = Record<string, unknown>

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

/** The tags a read of `model` depends on, from its arguments alone. */
export function readDependencies(dm: DataModel, model: string, operation: string, args: unknown): ReadDependencies {
  const tags = new Set<string>()
  const info = dm.model(model)
  const a = isObject(args) ? args : {}
  let recordsOf: string | undefined
  const record = lookedUpRecord(dm, model, operation, a)
  if (record) {
    tags.add(recordTag(model, record))
    tags.add(entityTag(model))
  } else if (record === null) {
    recordsOf = model
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
  return key ? [recordTag(model, key), entityTag(model)] : null
}

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
