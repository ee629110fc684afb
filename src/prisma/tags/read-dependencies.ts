/**
 * What a cached read depends on: the tags of tags/vocabulary.ts captured before it runs, the
 * guards that let tags from its result be stored soundly, and those result tags (late-tags.ts).
 * The rules, one by one, are in the README ("How invalidation works").
 */
import type { DataModel, ModelInfo, RelationInfo, TrackedKey } from '../schema/datamodel.ts'
import { isEmptyNode, type LateNode, lateGuards, lateTagsOf, newNode } from './late-tags.ts'
import { conjuncts, isObject, keyFromRecord, keyFromWhere, recordLevel } from './record-identity.ts'
import {
  cursorDeps,
  filterDeps,
  orderByDeps,
  pinTags,
  preferredPin,
  type TagSink,
  wide,
  wideQuery,
} from './relation-filters.ts'
import {
  entityTag,
  fieldTag,
  linkKeyTag,
  linksTag,
  linkTag,
  modelTag,
  newRecordTag,
  recordTag,
  valueTag,
} from './vocabulary.ts'

type Args = Record<string, unknown>

/** What one read depends on, for `TieredCache.getOrSet` (`tags`, `guards`, `lateTags`). */
export interface CacheDependencies {
  /** Captured before the read and stored with the entry; every model it touches has its `a:` among them. */
  readonly tags: string[]
  /** Captured before the read and checked when it is stored, not stored: they cover every write that could move a late tag. */
  readonly guards: string[]
  /** The tags the result tells (versions read when storing); absent when the arguments tell everything. */
  readonly lateTags?: (value: unknown) => string[]
}

/** What one read depends on, as tags alone. */
export interface ReadDependencies {
  readonly tags: string[]
  /** Never set: the record a lookup finds is covered by `tags`. */
  readonly recordsOf?: string
}

/**
 * The tags a read depends on for a caller that stores tags only (no guards, no result tags): the
 * {@link cacheDependencies} with its guards stored as tags. Sound, since every write that could
 * move a result tag bumps its guard, and wider: the entry goes at any such write.
 */
export function readDependencies(dm: DataModel, model: string, operation: string, args: unknown): ReadDependencies {
  const deps = cacheDependencies(dm, model, operation, args)
  return { tags: deps.guards.length === 0 ? deps.tags : [...deps.tags, ...deps.guards] }
}

/** A record a read names by a unique key before it runs: its relation lists can be tagged by that key. */
interface Identity {
  readonly key: TrackedKey
  readonly values: readonly unknown[]
}

const FIND_OPERATIONS: ReadonlySet<string> = new Set([
  'findUnique',
  'findUniqueOrThrow',
  'findFirst',
  'findFirstOrThrow',
  'findMany',
])

/** The tags a read of `model` by `operation` with `args` depends on: before it runs, and from its result. */
export function cacheDependencies(dm: DataModel, model: string, operation: string, args: unknown): CacheDependencies {
  const sink: TagSink = { dm, tags: new Set() }
  const info = dm.model(model)
  const a = isObject(args) ? args : {}
  if (!info || !recordLevel(info)) {
    // A view, or a model the schema text does not describe: nothing is narrowed.
    if (info) wideQuery(sink, info, a)
    else wide(sink, model)
    return { tags: [...sink.tags], guards: [] }
  }
  const root = FIND_OPERATIONS.has(operation) ? newNode() : undefined
  const identity = rootRows(sink, info, operation, a, root)
  if (a.where !== undefined) filterDeps(sink, info, a.where)
  if (a.orderBy !== undefined) orderByDeps(sink, info, a.orderBy)
  if (a.cursor !== undefined) cursorDeps(sink, info, a.cursor)
  for (const selection of [a.select, a.include]) {
    if (isObject(selection)) walkSelection(sink, info, selection, identity, root)
  }
  if (!root || isEmptyNode(root)) return { tags: [...sink.tags], guards: [] }
  const guards = [...lateGuards(root, new Set())].filter((g) => !sink.tags.has(g))
  return { tags: [...sink.tags], guards, lateTags: (value) => lateTagsOf(root, value) }
}

/**
 * R1–R3: the rows of the model the read returns. Pinned by the primary key: those records; by
 * another unique or a foreign key: those values; a lookup by a unique field the cache cannot
 * trust: the record the result shows; anything else: every row.
 */
function rootRows(
  sink: TagSink,
  info: ModelInfo,
  operation: string,
  args: Args,
  root: LateNode | undefined,
): Identity | undefined {
  const M = info.name
  sink.tags.add(entityTag(M))
  const lookup = operation === 'findUnique' || operation === 'findUniqueOrThrow'
  const primary = keyFromWhere(info, args.where)
  const primaryKey = info.keys.find((k) => k.primary)
  if (primary && primaryKey) {
    sink.tags.add(recordTag(M, primary)).add(newRecordTag(M))
    return { key: primaryKey, values: primary }
  }
  const pin = preferredPin(info, args.where)
  if (pin && (!lookup || pin.key.unique)) {
    pinTags(sink, info, pin.key, pin.values)
    return pin.key.unique && pin.values.length === 1 ? { key: pin.key, values: pin.values[0] as unknown[] } : undefined
  }
  if (!lookup && root && pivot(sink, info, args.where, root)) return undefined
  if (lookup && root) {
    // The record is known from the result only; any write of the model guards the load.
    root.rules.push({ fields: info.primaryKey as readonly string[], tag: (v) => recordTag(M, v), guard: modelTag(M) })
    root.ifEmpty = modelTag(M)
    return undefined
  }
  sink.tags.add(modelTag(M))
  return undefined
}

/**
 * A list filtered by a to-one relation whose record a unique value pins (`author: { username }`):
 * its rows are those whose foreign key holds that record's key. The key is the same in every row
 * of the result; the record's own tag covers which record holds the unique value.
 */
function pivot(sink: TagSink, info: ModelInfo, where: unknown, root: LateNode): boolean {
  for (const part of conjuncts(where)) {
    for (const key in part) {
      const rel = info.relations.get(key)
      const filter = part[key]
      if (!rel?.precise || !rel.holdsForeignKey || !isObject(filter)) continue
      const target = sink.dm.model(rel.target)
      const inner = isObject(filter.is)
        ? filter.is
        : filter.is === undefined && filter.isNot === undefined
          ? filter
          : undefined
      const fk = info.keys.find((k) => sameSet(k.fields, rel.fields))
      if (!target || !inner || !fk || !recordLevel(target)) continue
      const pin = preferredPin(target, inner)
      if (!pin?.key.unique || pin.values.length !== 1) continue
      const values = pin.values[0] as unknown[]
      if (sameSet(pin.key.fields, rel.references)) {
        // `author: { id: 5 }` is `authorId: 5`.
        const mapped = fk.fields.map(
          (f) => values[pin.key.fields.indexOf(rel.references[rel.fields.indexOf(f)] as string)],
        )
        pinTags(sink, info, fk, [mapped])
        return true
      }
      if (!fk.primary) sink.tags.add(fieldTag(info.name, fk.fields))
      root.rules.push({
        fields: fk.fields,
        tag: (v) => (fk.primary ? recordTag(info.name, v) : valueTag(info.name, fk.fields, v)),
        guard: modelTag(info.name),
        single: true,
      })
      return true
    }
  }
  return false
}

/** R4: the relations a selection includes or counts, at any depth. */
function walkSelection(
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
      else recordsOf(child, target)
    } else if (rel.holdsForeignKey) {
      if (!child || !node) sink.tags.add(modelTag(target.name))
      else {
        recordsOf(child, target)
        missingTarget(sink, node, rel, target)
      }
    } else {
      children(sink, rel, target, identity, node)
    }
    for (const nested of [sub.select, sub.include]) {
      if (isObject(nested)) walkSelection(sink, target, nested, undefined, child)
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
  if (identity?.key.unique) {
    sink.tags.add(linkTag(M, rel.field, identity.key.fields, identity.values))
    sink.tags.add(linkKeyTag(M, rel.field, identity.key.fields))
    return
  }
  // Results name rows by primary key; writes fall back to linkKeyTag when they cannot.
  const primary = info.primaryKey as readonly string[]
  if (!node) {
    sink.tags.add(linksTag(M, rel.field))
    return
  }
  sink.tags.add(linkKeyTag(M, rel.field, primary))
  node.rules.push({ fields: primary, tag: (v) => linkTag(M, rel.field, primary, v), guard: linksTag(M, rel.field) })
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
  node.rules.push({ fields: parentFields, tag, guard: modelTag(T) })
}

/** The fields of each row of an included relation, by its primary key. */
function recordsOf(node: LateNode, target: ModelInfo): void {
  const primary = target.primaryKey as readonly string[]
  node.rules.push({ fields: primary, tag: (v) => recordTag(target.name, v), guard: modelTag(target.name) })
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
  node.rules.push({
    fields,
    tag: (v) =>
      byPrimary ? recordTag(target.name, v) : unique ? valueTag(target.name, unique.fields, v) : modelTag(target.name),
    guard: modelTag(target.name),
    whenNull: rel.field,
  })
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((f) => b.includes(f))
}

/** The record tags of a read of `model` that found `result`: `[r:M:<pk>, a:M]`, or `null` when it cannot be named. */
export function recordTags(dm: DataModel, model: string, result: unknown): string[] | null {
  const info = dm.model(model)
  if (!info || !recordLevel(info)) return null
  const key = keyFromRecord(info, result)
  return key ? [recordTag(model, key), entityTag(model)] : null
}
