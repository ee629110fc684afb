/**
 * What a read depends on through the relations its selection includes or counts, at any depth
 * (README, "How invalidation works", rule R4): before the read when the read names the parent by
 * the key that links, else from the rows of its result (late-tags.ts).
 */
import type { ModelInfo, RelationInfo, TrackedKey } from '../schema/datamodel.ts'
import { isEmptyNode, type LateKey, type LateNode, newNode } from './late-tags.ts'
import { isObject, recordLevel } from './record-identity.ts'
import { cursorDeps, filterDeps, orderByDeps, type TagSink, wide, wideQuery } from './relation-filters.ts'
import {
  entityTag,
  fieldTag,
  linkKeyTag,
  linksTag,
  linkTag,
  modelTag,
  newRecordTag,
  recordTag,
  rowValueTag,
  valueTag,
} from './vocabulary.ts'

type Args = Record<string, unknown>

/** A record a read names by a unique key before it runs: its relation lists can be tagged by that key. */
export interface Identity {
  readonly key: TrackedKey
  readonly values: readonly unknown[]
}

/** R4: the relations a selection includes or counts, at any depth. */
export function includedRelations(
  sink: TagSink,
  info: ModelInfo,
  selection: Args,
  identity: Identity | undefined,
  node: LateNode | undefined,
): void {
  for (const key in selection) {
    const value = selection[key]
    if (value === undefined || value === false) continue
    if (key === '_count') {
      walkCount(sink, info, value, identity, node)
      continue
    }
    const rel = info.relations.get(key)
    if (!rel) continue
    const target = sink.dm.model(rel.target)
    const sub = isObject(value) ? value : {}
    if (!target || !rel.precise || !recordLevel(target)) {
      if (target) wideQuery(sink, target, sub)
      else wide(sink, rel.target)
      continue
    }
    sink.tags.add(entityTag(target.name))
    if (sub.where !== undefined) filterDeps(sink, target, sub.where)
    if (sub.orderBy !== undefined) orderByDeps(sink, target, sub.orderBy)
    if (sub.cursor !== undefined) cursorDeps(sink, target, sub.cursor)
    const child = node ? newNode() : undefined
    if (rel.implicitManyToMany) {
      links(sink, info, rel, identity, node)
      // Unless every linked row is returned, rows not returned can change what is.
      const partial =
        sub.where !== undefined || sub.take !== undefined || sub.skip !== undefined || sub.cursor !== undefined
      if (partial || !child) sink.tags.add(modelTag(target.name))
      else recordsOf(sink, child, target)
    } else if (rel.holdsForeignKey) {
      if (!child || !node) sink.tags.add(modelTag(target.name))
      else {
        // The related row's key is this row's foreign key, shown or not in its own selection.
        child.inherit = { from: rel.fields, to: rel.references }
        recordsOf(sink, child, target)
        missingTarget(sink, node, rel, target)
      }
    } else {
      children(sink, rel, target, identity, node)
    }
    for (const nested of [sub.select, sub.include]) {
      if (isObject(nested)) includedRelations(sink, target, nested, undefined, child)
    }
    if (node && child && !isEmptyNode(child)) node.children.set(key, child)
  }
}

/** `_count: true` counts every list relation; `_count: { select: { posts: … } }` the ones named. */
function walkCount(
  sink: TagSink,
  info: ModelInfo,
  value: unknown,
  identity: Identity | undefined,
  node: LateNode | undefined,
): void {
  const select = isObject(value) ? value.select : undefined
  const counted: Array<[RelationInfo, unknown]> = []
  if (isObject(select)) {
    for (const key in select) {
      const rel = info.relations.get(key)
      if (rel && select[key] !== undefined && select[key] !== false) counted.push([rel, select[key]])
    }
  } else {
    for (const rel of info.relations.values()) if (rel.isList || !rel.precise) counted.push([rel, true])
  }
  for (const [rel, item] of counted) {
    const target = sink.dm.model(rel.target)
    if (!target || !rel.precise || !recordLevel(target)) {
      wide(sink, rel.target)
      continue
    }
    sink.tags.add(entityTag(target.name))
    const where = isObject(item) ? item.where : undefined
    if (where !== undefined) filterDeps(sink, target, where)
    if (rel.implicitManyToMany) {
      links(sink, info, rel, identity, node)
      if (where !== undefined) sink.tags.add(modelTag(target.name))
    } else {
      children(sink, rel, target, identity, node)
    }
  }
}

/** Which records the rows are linked to through an implicit many-to-many relation (not their fields). */
function links(
  sink: TagSink,
  info: ModelInfo,
  rel: RelationInfo,
  identity: Identity | undefined,
  node: LateNode | undefined,
): void {
  const M = info.name
  // By primary key only: a link write from the other side names this record by the key its
  // connect gives, usually that one, so a lookup by another unique field takes it from the result.
  if (identity?.key.primary) {
    sink.tags.add(linkTag(M, rel.field, identity.key.fields, identity.values))
    sink.tags.add(linkKeyTag(M, rel.field, identity.key.fields))
    return
  }
  if (!node) {
    sink.tags.add(linksTag(M, rel.field))
    return
  }
  // Rows named by primary key, from the result (an included to-one row takes it from its parent's
  // key); a write that cannot name a record by it gives the fallback.
  const primary = info.primaryKey as readonly string[]
  sink.tags.add(linkKeyTag(M, rel.field, primary))
  // A write names a record's links by every key it knows it by, and gives the fallback of the
  // others: the links of the record a read names by a unique value are guarded by that value alone.
  const guards = identity?.key.unique
    ? [linkTag(M, rel.field, identity.key.fields, identity.values), linkKeyTag(M, rel.field, identity.key.fields)]
    : [linksTag(M, rel.field)]
  node.rules.push({ keys: [{ fields: primary, tag: (v) => linkTag(M, rel.field, primary, v) }], guards })
}

/** The rows of `target` whose foreign key points at each row: they and their fields. */
function children(
  sink: TagSink,
  rel: RelationInfo,
  target: ModelInfo,
  identity: Identity | undefined,
  node: LateNode | undefined,
): void {
  const T = target.name
  const key = target.keys.find((k) => sameSet(k.fields, rel.fields))
  if (!key) {
    sink.tags.add(modelTag(T))
    return
  }
  // The parent's field each of the key's fields references.
  const parentFields = key.fields.map((f) => rel.references[rel.fields.indexOf(f)] as string)
  const tag = (v: unknown[]) => (key.primary ? recordTag(T, v) : valueTag(T, key.fields, v))
  if (identity && parentFields.every((f) => identity.key.fields.includes(f))) {
    const values = parentFields.map((f) => identity.values[identity.key.fields.indexOf(f)])
    if (!values.includes(null)) sink.tags.add(tag(values))
    sink.tags.add(key.primary ? newRecordTag(T) : fieldTag(T, key.fields))
    return
  }
  if (!node) {
    sink.tags.add(modelTag(T))
    return
  }
  sink.tags.add(key.primary ? newRecordTag(T) : fieldTag(T, key.fields))
  node.rules.push({ keys: [{ fields: parentFields, tag }], guards: [modelTag(T)] })
}

/** The fields of each row of an included relation, by its primary key or another unique key it shows. */
function recordsOf(sink: TagSink, node: LateNode, target: ModelInfo): void {
  node.rules.push({ keys: rowKeys(sink, target), guards: [modelTag(target.name)] })
}

/**
 * Ways to name a row's fields: its primary key, else another unique key (whose fallback is
 * captured). The row existed when it was read, so a write that creates a row with that value
 * cannot change it: `w:`, not `v:`, which also stands for the rows a filter by the value may find.
 */
export function rowKeys(sink: TagSink, info: ModelInfo): LateKey[] {
  const keys: LateKey[] = [{ fields: info.primaryKey as readonly string[], tag: (v) => recordTag(info.name, v) }]
  for (const key of info.keys) {
    if (!key.unique || key.primary) continue
    sink.tags.add(fieldTag(info.name, key.fields))
    keys.push({ fields: key.fields, tag: (v) => rowValueTag(info.name, key.fields, v) })
  }
  return keys
}

/**
 * A to-one include that found nothing while the row's foreign key is set (possible without
 * foreign-key constraints): the record that would appear under that key.
 */
function missingTarget(sink: TagSink, node: LateNode, rel: RelationInfo, target: ModelInfo): void {
  sink.tags.add(newRecordTag(target.name))
  const primary = target.primaryKey as readonly string[]
  const byPrimary = sameSet(rel.references, primary)
  const unique = target.keys.find((k) => k.unique && sameSet(k.fields, rel.references))
  const keyFields = byPrimary ? primary : unique?.fields
  const fields = keyFields ? keyFields.map((f) => rel.fields[rel.references.indexOf(f)] as string) : rel.fields
  const tag = (v: unknown[]) =>
    byPrimary ? recordTag(target.name, v) : unique ? valueTag(target.name, unique.fields, v) : modelTag(target.name)
  node.rules.push({ keys: [{ fields, tag }], guards: [modelTag(target.name)], whenNull: rel.field })
}

export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((f) => b.includes(f))
}
