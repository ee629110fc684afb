/**
 * What the relations inside a write's `data` change, at any depth (README, "How invalidation
 * works", rules W5 to W7): links of implicit many-to-many relations by the records they name,
 * everything else through the target model and the referential actions it sets off.
 */
import type { DataModel, ModelInfo, RelationInfo, TrackedKey } from '../schema/datamodel.ts'
import { fieldValues, foreignKeys, isObject, keyValuesFromWhere, linkKeys } from './record-identity.ts'
import {
  entityTag,
  fieldTag,
  linkGainTag,
  linkKeyGainTag,
  linkKeyTag,
  linksTag,
  linkTag,
  modelTag,
  newRecordTag,
  rowSetFieldTag,
  rowSetTag,
  rowSetValueTag,
  valueTag,
} from './vocabulary.ts'
import { lookupOtherKeys, WriteTags } from './write-lookups.ts'

type Args = Record<string, unknown>

/**
 * The values a written record is known by for a unique key: one tuple per state of the record
 * the write knows (before and after), or `undefined` when a state's values are unknown.
 */
export type RecordIdentity = (key: TrackedKey) => readonly unknown[][] | undefined

/**
 * Rows of the model were created or deleted (`s:`), each in one of `rows` (the values of a key,
 * `undefined` when unknown; no rows: unknown), and so by the value of each foreign key they hold
 * (`S:` when unknown; a null key relates to nothing, so no list filtered by the relation gains it).
 */
export function rowSetChanged(
  info: ModelInfo,
  rows: readonly ((key: TrackedKey) => readonly unknown[] | undefined)[],
  tags: Set<string>,
): void {
  tags.add(rowSetTag(info.name))
  for (const key of foreignKeys(info)) {
    for (const row of rows.length === 0 ? [() => undefined] : rows) {
      const values = row(key)
      if (values === undefined) tags.add(rowSetFieldTag(info.name, key.fields))
      else if (!values.includes(null)) tags.add(rowSetValueTag(info.name, key.fields, values))
    }
  }
}

/** A record the write cannot name (a record of a list, one a nested write reaches). */
export const UNKNOWN_RECORD: RecordIdentity = () => undefined
/** A record the write created: no read could have found it by a key of a record that existed. */
const NEW_RECORD: RecordIdentity = () => []

/**
 * The link lists of one side of an implicit many-to-many relation changed for the record known as
 * `identity` (by each key it is known by; the others get their fallback), and for any record.
 * `removedOnly`: the change only removes links to rows deleted at the other end.
 */
export function linkChanged(
  tags: Set<string>,
  info: ModelInfo,
  relation: string,
  identity: RecordIdentity,
  removedOnly = false,
): void {
  tags.add(linksTag(info.name, relation))
  for (const key of linkKeys(info)) {
    const values = identity(key)
    if (values === undefined) {
      tags.add(linkKeyTag(info.name, relation, key.fields))
      if (!removedOnly) tags.add(linkKeyGainTag(info.name, relation, key.fields))
    } else {
      for (const v of values) {
        tags.add(linkTag(info.name, relation, key.fields, v))
        if (!removedOnly) tags.add(linkGainTag(info.name, relation, key.fields, v))
      }
    }
  }
}

/**
 * The record known as `identity` lost or moved its join rows (a delete, a new primary key): its
 * own link lists, and those of whichever records it was linked to, on every implicit
 * many-to-many relation of its model. `deleted`: it was deleted, so those records only lose links.
 */
export function joinRowsChanged(
  dm: DataModel,
  tags: Set<string>,
  info: ModelInfo,
  identity: RecordIdentity,
  deleted = false,
  linked?: (rel: RelationInfo) => RecordIdentity | undefined,
): void {
  for (const rel of info.relations.values()) {
    if (!rel.implicitManyToMany) continue
    linkChanged(tags, info, rel.field, identity)
    const target = dm.model(rel.target)
    // `linked`: the records it was linked to, when the write read them (deleted-links.ts).
    if (target) linkChanged(tags, target, rel.inverse as string, linked?.(rel) ?? UNKNOWN_RECORD, deleted)
  }
}

/**
 * What referential actions change when a record of `model` is deleted or its `changed` fields
 * updated: the models they cascade to or set null, whole. (Those models' `a:` reaches every read of
 * their join rows too; the join rows of the written record itself are for the caller: joinRowsChanged.)
 */
export function referential(
  dm: DataModel,
  tags: Set<string>,
  model: string,
  kind: 'delete' | 'update',
  changed?: readonly string[],
): void {
  if (kind === 'update' && changed !== undefined && changed.length === 0) return
  const effects = dm.referentialEffects(model, kind, changed)
  for (const m of effects.changed) tags.add(modelTag(m)).add(entityTag(m))
}

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
export function changedFields(info: ModelInfo, data: unknown): string[] | undefined {
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

/** The relations in `data` of a write of the record known as `identity`, at any depth. */
export function walkData(
  dm: DataModel,
  info: ModelInfo,
  data: unknown,
  tags: Set<string>,
  identity: RecordIdentity,
): void {
  if (Array.isArray(data)) {
    for (const item of data) walkData(dm, info, item, tags, UNKNOWN_RECORD)
    return
  }
  if (!isObject(data)) return
  for (const key in data) {
    const rel = info.relations.get(key)
    const ops = data[key]
    if (!rel || !isObject(ops)) continue
    const target = dm.model(rel.target)
    for (const op in ops) {
      const arg = ops[op]
      if (arg === undefined) continue
      if (LINK_WRITES.has(op)) {
        link(dm, rel, info, target, op, arg, tags, identity)
        continue
      }
      if (target && rel.precise && creates(rel, op)) {
        created(dm, rel, info, target, op, arg, tags, identity)
        continue
      }
      tags.add(modelTag(rel.target)).add(entityTag(rel.target))
      if (!target) continue
      if (!NESTED_RECORD_WRITES.has(op)) {
        // Something this code does not know: assume it changes anything the target reaches.
        referential(dm, tags, rel.target, 'delete')
        referential(dm, tags, rel.target, 'update')
        continue
      }
      for (const item of Array.isArray(arg) ? arg : [arg]) nestedWrite(dm, target, op, item, tags)
    }
  }
}

/**
 * Whether the nested write only adds rows to `target` (and links): a create, or a connectOrCreate
 * that changes no existing row of the target (a to-one key held here, or a join row).
 */
function creates(rel: RelationInfo, op: string): boolean {
  if (op === 'create' || op === 'createMany') return true
  return op === 'connectOrCreate' && (rel.implicitManyToMany || rel.holdsForeignKey)
}

/** New rows of `target`, whose keys the write does not know, and the links a many-to-many gets. */
function created(
  dm: DataModel,
  rel: RelationInfo,
  info: ModelInfo,
  target: ModelInfo,
  op: string,
  arg: unknown,
  tags: Set<string>,
  identity: RecordIdentity,
): void {
  const T = target.name
  tags.add(modelTag(T)).add(newRecordTag(T))
  const items = (Array.isArray(arg) ? arg : [arg]).filter(isObject)
  const rows = op === 'createMany' ? [] : items.map((item) => (op === 'connectOrCreate' ? item.create : item))
  // The foreign key to the record written here is set by the relation, not spelt out in `data`.
  rowSetChanged(
    target,
    rows.map((row) => (key: TrackedKey) => (isObject(row) ? fieldValues(target, key.fields, row, 'data') : undefined)),
    tags,
  )
  for (const key of target.keys) {
    if (key.primary) continue
    // The values the new rows get, when `data` spells them out; a default or a key set through a
    // relation is not known here.
    const values = rows.map((row) => (isObject(row) ? fieldValues(target, key.fields, row, 'data') : undefined))
    if (rows.length === 0 || values.some((v) => v === undefined)) tags.add(fieldTag(T, key.fields))
    else for (const v of values) tags.add(valueTag(T, key.fields, v as unknown[]))
  }
  if (rel.implicitManyToMany) {
    linkChanged(tags, info, rel.field, identity)
    // A connectOrCreate links the record its where names, if it exists; a create, a new one.
    const wheres = op === 'connectOrCreate' ? items.map((item) => (isObject(item.where) ? item.where : {})) : []
    const named: RecordIdentity = op === 'connectOrCreate' ? (key) => namedBy(target, key, wheres) : NEW_RECORD
    linkChanged(tags, target, rel.inverse as string, named)
  }
  for (const row of rows) walkData(dm, target, row, tags, NEW_RECORD)
}

/** The values of `key` in each unique `where`, or `undefined` when one does not give them. */
function namedBy(target: ModelInfo, key: TrackedKey, wheres: readonly Args[]): unknown[][] | undefined {
  const out: unknown[][] = []
  for (const where of wheres) {
    const values = keyValuesFromWhere(target, key, where)
    if (values === undefined) return undefined
    out.push(values)
  }
  return out
}

/** `connect`, `disconnect` and `set` on a relation of the record known as `identity`. */
function link(
  dm: DataModel,
  rel: RelationInfo,
  info: ModelInfo,
  target: ModelInfo | undefined,
  op: string,
  arg: unknown,
  tags: Set<string>,
  identity: RecordIdentity,
): void {
  const T = rel.target
  if (rel.implicitManyToMany && target) {
    linkChanged(tags, info, rel.field, identity)
    // `set` also unlinks records it does not name.
    const items = (Array.isArray(arg) ? arg : [arg]).filter(isObject)
    const named: RecordIdentity = op === 'set' ? UNKNOWN_RECORD : (key) => namedBy(target, key, items)
    const inverse = rel.inverse as string
    // The keys the items do not give are looked up once the write committed (write-lookups.ts).
    const lookups = tags instanceof WriteTags ? tags.lookups : undefined
    const found =
      op !== 'set' && lookups
        ? lookupOtherKeys(
            target,
            items,
            (key, values) => [
              linkTag(target.name, inverse, key.fields, values),
              linkGainTag(target.name, inverse, key.fields, values),
            ],
            (key) => [linkKeyTag(target.name, inverse, key.fields), linkKeyGainTag(target.name, inverse, key.fields)],
          )
        : undefined
    if (found) {
      lookups?.push(found.lookup)
      // A key the lookup gives tags of has none now (linkKeys builds its primary key afresh: compared by fields).
      const looked = new Set(found.missing.map((key) => key.fields.join()))
      linkChanged(tags, target, inverse, (key) => (looked.has(key.fields.join()) ? [] : named(key)))
    } else linkChanged(tags, target, inverse, named)
    return
  }
  if (!rel.precise || !rel.holdsForeignKey) {
    // The key lives on the target's rows: linking or unlinking changes them.
    tags.add(modelTag(T)).add(entityTag(T))
    if (rel.precise) referential(dm, tags, T, 'update', rel.fields)
    else referential(dm, tags, T, 'update')
  }
}

function nestedWrite(dm: DataModel, target: ModelInfo, op: string, item: unknown, tags: Set<string>): void {
  const T = target.name
  switch (op) {
    case 'create':
      walkData(dm, target, item, tags, UNKNOWN_RECORD)
      break
    case 'connectOrCreate':
      if (isObject(item)) walkData(dm, target, item.create, tags, UNKNOWN_RECORD)
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
        walkData(dm, target, item, tags, UNKNOWN_RECORD)
      }
      referential(dm, tags, T, 'update', changed)
      walkData(dm, target, data, tags, UNKNOWN_RECORD)
      break
    }
    case 'upsert':
      if (!isObject(item)) break
      referential(dm, tags, T, 'update', changedFields(target, item.update))
      walkData(dm, target, item.update, tags, UNKNOWN_RECORD)
      walkData(dm, target, item.create, tags, UNKNOWN_RECORD)
      break
    case 'delete':
    case 'deleteMany':
      if (item !== false) referential(dm, tags, T, 'delete')
      break
  }
}
