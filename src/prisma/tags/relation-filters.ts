/**
 * What a read depends on through the relations its `where`, `orderBy` and `cursor` name: tags
 * known from the arguments alone (README, "How invalidation works", rules R4 to R6).
 */
import type { DataModel, ModelInfo, RelationInfo, TrackedKey } from '../schema/datamodel.ts'
import { isObject, keyFromWhere, pinnedKeys, recordLevel } from './record-identity.ts'
import type { Resolution } from './resolutions.ts'
import { filterFields } from './row-fields.ts'
import {
  changedFieldTag,
  entityTag,
  fieldTag,
  linkGainTag,
  linkKeyGainTag,
  linkKeyTag,
  linksTag,
  linkTag,
  modelTag,
  newRecordTag,
  recordTag,
  rowSetTag,
  valueTag,
} from './vocabulary.ts'

type Args = Record<string, unknown>

/** Where the tags of one read are collected. */
export interface TagSink {
  readonly dm: DataModel
  readonly tags: Set<string>
  /** Lookups to run beside the load (resolutions.ts); absent when the caller cannot run them. */
  readonly resolutions?: Resolution[]
}

/** Every row of `model`, and every entry touching it. */
export function wide(sink: TagSink, model: string): void {
  sink.tags.add(modelTag(model)).add(entityTag(model))
}

/**
 * The rows of `target` a filter `where` selects: the record or the rows its top-level conjunction
 * pins by a tracked key, else the fields it tests (and the key that links the rows, `via`), with
 * rows created or deleted; relation filters inside it add their own. `via` is `'links'` when which
 * rows are related is told by tags of its own (join rows, or a key the other side holds).
 */
export function targetRows(sink: TagSink, target: ModelInfo, where: unknown, via: 'links' | readonly string[]): void {
  const T = target.name
  sink.tags.add(entityTag(T))
  const pin = recordLevel(target) ? preferredPin(target, where) : undefined
  const fields = new Set<string>(via === 'links' ? [] : via)
  if (pin) pinTags(sink, target, pin.key, pin.values)
  else if (!target.precise || !filterFields(target, where, fields)) sink.tags.add(modelTag(T))
  else {
    if (via !== 'links') sink.tags.add(rowSetTag(T))
    for (const field of fields) sink.tags.add(changedFieldTag(T, field))
  }
  filterDeps(sink, target, where)
}

/** The pinned key a read is narrowed by: the primary key, else another unique key, else a foreign key. */
export function preferredPin(info: ModelInfo, where: unknown): { key: TrackedKey; values: unknown[][] } | undefined {
  const pins = pinnedKeys(info, where)
  let best: { key: TrackedKey; values: unknown[][] } | undefined
  const rank = (k: TrackedKey) => (k.primary ? 0 : k.unique ? 1 : 2)
  for (const [key, values] of pins) if (!best || rank(key) < rank(best.key)) best = { key, values }
  return best
}

/** The tags of the rows whose `key` holds one of `values`: record tags for the primary key. */
export function pinTags(sink: TagSink, info: ModelInfo, key: TrackedKey, values: readonly unknown[][]): void {
  for (const v of values) sink.tags.add(key.primary ? recordTag(info.name, v) : valueTag(info.name, key.fields, v))
  // The records may not exist yet, and be created by a write that cannot name them.
  if (key.primary) sink.tags.add(newRecordTag(info.name))
  // A write that cannot name the primary key bumps a:, which every entry of the model carries.
  if (!key.primary) sink.tags.add(fieldTag(info.name, key.fields))
}

/**
 * Relation filters anywhere in `where` (through AND, OR and NOT), and what they depend on.
 * `shown`: `where` is the filter of a list that shows every row it could lose (read-dependencies.ts,
 * shownRows): a row of it that loses a link by being deleted is one the list shows, and its own tags
 * evict the list, so its link filters need only the changes that can give a row a link.
 */
export function filterDeps(sink: TagSink, info: ModelInfo, where: unknown, shown = false): void {
  if (Array.isArray(where)) {
    for (const item of where) filterDeps(sink, info, item, shown)
    return
  }
  if (!isObject(where)) return
  for (const key in where) {
    const value = where[key]
    if (value === undefined) continue
    if (key === 'AND' || key === 'OR' || key === 'NOT') {
      filterDeps(sink, info, value, shown)
      continue
    }
    const rel = info.relations.get(key)
    if (rel) relationFilter(sink, rel, value, shown)
  }
}

const LIST_OPS = ['some', 'none'] as const
const SINGLE_OPS = ['is', 'isNot'] as const

function relationFilter(sink: TagSink, rel: RelationInfo, filter: unknown, shown: boolean): void {
  const target = sink.dm.model(rel.target)
  if (!target || !rel.precise) {
    wide(sink, rel.target)
    if (target) wideWhere(sink, target, filter)
    return
  }
  sink.tags.add(entityTag(target.name))
  if (filter === null || !isObject(filter)) {
    // `author: null`: whether a related row exists.
    wide(sink, target.name)
    return
  }
  const inner: unknown[] = []
  let wrapped = false
  for (const op of rel.isList ? LIST_OPS : SINGLE_OPS) {
    if (filter[op] === undefined) continue
    wrapped = true
    inner.push(filter[op])
  }
  if (rel.isList && filter.every !== undefined) {
    // Every related row must match: all of them matter, and all their links.
    wrapped = true
    wide(sink, target.name)
    if (rel.implicitManyToMany) sink.tags.add(linksTag(rel.model, rel.field))
    filterDeps(sink, target, filter.every)
  }
  // A to-one relation also takes the target's where directly (`author: { name: 'Ada' }`).
  if (!rel.isList && !wrapped) inner.push(filter)
  for (const where of inner) {
    if (where === null) wide(sink, target.name)
    else if (rel.implicitManyToMany) linkFilter(sink, rel, target, where, shown)
    else targetRows(sink, target, where, rel.holdsForeignKey ? 'links' : rel.fields)
  }
}

/** `favoritedBy: { some: W }`: the links of the record W pins, or every link of the relation. */
function linkFilter(sink: TagSink, rel: RelationInfo, target: ModelInfo, where: unknown, shown: boolean): void {
  const inverse = rel.inverse as string
  const pin = recordLevel(target) ? preferredPin(target, where) : undefined
  if (pin?.key.unique) {
    // A list that shows every row it could lose needs only the changes that can give a row a link.
    const named = shown ? linkGainTag : linkTag
    for (const v of pin.values) sink.tags.add(named(target.name, inverse, pin.key.fields, v))
    const fallback = shown ? linkKeyGainTag : linkKeyTag
    sink.tags.add(fallback(target.name, inverse, pin.key.fields))
  } else {
    sink.tags.add(linksTag(rel.model, rel.field))
  }
  targetRows(sink, target, where, 'links')
}

/** Ordering by a relation: by a related record's fields, or by the count of a list relation. */
export function orderByDeps(sink: TagSink, info: ModelInfo, orderBy: unknown): void {
  if (Array.isArray(orderBy)) {
    for (const item of orderBy) orderByDeps(sink, info, item)
    return
  }
  if (!isObject(orderBy)) return
  for (const key in orderBy) {
    const rel = info.relations.get(key)
    const order = orderBy[key]
    if (!rel || order === undefined) continue
    const target = sink.dm.model(rel.target)
    if (
      rel.precise &&
      rel.isList &&
      target?.precise &&
      isObject(order) &&
      Object.keys(order).every((k) => k === '_count')
    ) {
      // By how many related rows: which rows are related, not their fields.
      sink.tags.add(entityTag(rel.target))
      if (rel.implicitManyToMany) sink.tags.add(linksTag(rel.model, rel.field))
      else {
        sink.tags.add(rowSetTag(rel.target))
        for (const field of rel.fields) sink.tags.add(changedFieldTag(rel.target, field))
      }
      continue
    }
    wide(sink, rel.target)
    if (rel.implicitManyToMany) sink.tags.add(linksTag(rel.model, rel.field))
    if (target) orderByDeps(sink, target, order)
  }
}

/** A cursor names the record a page starts at: its fields place the page, wherever it is. */
export function cursorDeps(sink: TagSink, info: ModelInfo, cursor: unknown): void {
  if (!isObject(cursor)) return
  const key = recordLevel(info) ? keyFromWhere(info, cursor) : undefined
  if (key) {
    sink.tags.add(recordTag(info.name, key)).add(newRecordTag(info.name))
    return
  }
  const pin = recordLevel(info) ? preferredPin(info, cursor) : undefined
  if (pin?.key.unique) pinTags(sink, info, pin.key, pin.values)
  else sink.tags.add(modelTag(info.name))
}

/**
 * A relation the schema text does not describe: every model it reaches, whole, at any depth
 * (through its where, ordering and selection), as if nothing could be narrowed.
 */
export function wideQuery(sink: TagSink, info: ModelInfo, args: Args): void {
  wide(sink, info.name)
  if (args.where !== undefined) wideWhere(sink, info, args.where)
  for (const part of [args.select, args.include]) {
    if (!isObject(part)) continue
    for (const key in part) {
      const value = part[key]
      if (value === undefined || value === false) continue
      if (key === '_count') {
        for (const rel of info.relations.values()) if (rel.isList || !rel.precise) wide(sink, rel.target)
        continue
      }
      const rel = info.relations.get(key)
      const target = rel && sink.dm.model(rel.target)
      if (rel) wide(sink, rel.target)
      if (target && isObject(value)) wideQuery(sink, target, value)
    }
  }
  if (args.orderBy !== undefined) orderByDeps(sink, info, args.orderBy)
}

function wideWhere(sink: TagSink, info: ModelInfo, where: unknown): void {
  for (const part of Array.isArray(where) ? where : [where]) {
    if (!isObject(part)) continue
    for (const key in part) {
      const value = part[key]
      if (key === 'AND' || key === 'OR' || key === 'NOT') {
        wideWhere(sink, info, value)
        continue
      }
      const rel = info.relations.get(key)
      if (!rel || value === undefined) continue
      wide(sink, rel.target)
      if (rel.implicitManyToMany) sink.tags.add(linksTag(rel.model, rel.field))
      const target = sink.dm.model(rel.target)
      if (!target || !isObject(value)) continue
      for (const op of ['some', 'every', 'none', 'is', 'isNot'])
        if (value[op] !== undefined) wideWhere(sink, target, value[op])
      wideWhere(sink, target, value)
    }
  }
}
