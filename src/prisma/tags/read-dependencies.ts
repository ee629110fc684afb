/**
 * What a cached read depends on: the tags of tags/vocabulary.ts captured before it runs, the
 * guards that let tags from its result be stored soundly, and those result tags (late-tags.ts).
 * The rules, one by one, are in the README ("How invalidation works").
 */
import type { DataModel, ModelInfo } from '../schema/datamodel.ts'
import { type Identity, includedRelations, rowKeys, sameSet } from './included-relations.ts'
import { isEmptyNode, type LateNode, lateGuards, lateTagsOf, newNode } from './late-tags.ts'
import {
  conjuncts,
  fieldValues,
  foreignKeys,
  isObject,
  keyFromRecord,
  keyFromWhere,
  recordLevel,
} from './record-identity.ts'
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
import { MAX_RESOLVED, type Resolution } from './resolutions.ts'
import { decidingFields } from './row-fields.ts'
import {
  changedFieldTag,
  changedTag,
  entityTag,
  fieldTag,
  modelTag,
  newRecordTag,
  recordTag,
  rowSetFieldTag,
  rowSetTag,
  rowSetValueTag,
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
  /**
   * Lookups to run beside the load, whose rows give more late tags (resolutions.ts): only when
   * asked for (`lookups`), absent when there are none. Their guards are among `guards`.
   */
  readonly resolutions?: readonly Resolution[]
}

/** What the caller of {@link cacheDependencies} can do. */
export interface DependencyOptions {
  /** It runs the lookups of `resolutions` beside the load (the read path does when it has a client). */
  readonly lookups?: boolean
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

const FIND_OPERATIONS: ReadonlySet<string> = new Set([
  'findUnique',
  'findUniqueOrThrow',
  'findFirst',
  'findFirstOrThrow',
  'findMany',
])

/** The tags a read of `model` by `operation` with `args` depends on: before it runs, and from its result. */
export function cacheDependencies(
  dm: DataModel,
  model: string,
  operation: string,
  args: unknown,
  options?: DependencyOptions,
): CacheDependencies {
  const info = dm.model(model)
  const a = isObject(args) ? args : {}
  const sink: TagSink = {
    dm,
    tags: new Set(),
    ...(options?.lookups && { resolutions: [] }),
  }
  if (!info || !recordLevel(info)) {
    // A view, or a model the schema text does not describe: nothing is narrowed.
    if (info) wideQuery(sink, info, a)
    else wide(sink, model)
    return { tags: [...sink.tags], guards: [] }
  }
  const root = FIND_OPERATIONS.has(operation) ? newNode() : undefined
  const identity = rootRows(sink, info, operation, a, root)
  if (a.where !== undefined) filterDeps(sink, info, a.where, shownRows(info, operation, a))
  if (a.orderBy !== undefined) orderByDeps(sink, info, a.orderBy)
  if (a.cursor !== undefined) cursorDeps(sink, info, a.cursor)
  for (const selection of [a.select, a.include]) {
    if (isObject(selection)) includedRelations(sink, info, selection, identity, root)
  }
  const guards = new Set<string>()
  const resolutions = sink.resolutions !== undefined && sink.resolutions.length > 0 ? sink.resolutions : undefined
  for (const resolution of resolutions ?? []) for (const guard of resolution.guards) guards.add(guard)
  const rules = root !== undefined && !isEmptyNode(root) ? root : undefined
  if (rules) lateGuards(rules, guards)
  return {
    tags: [...sink.tags],
    guards: [...guards].filter((g) => !sink.tags.has(g)),
    ...(rules && { lateTags: (value: unknown) => lateTagsOf(rules, value) }),
    ...(resolutions && { resolutions }),
  }
}

/**
 * Whether a list shows every row it could lose: no skip or cursor, and every row or a total order's
 * first (or last) ones. A row deleted that it does not show cannot change it; one it shows is
 * covered by the row's own tags (its record, or the values or the model that stand for it).
 */
function shownRows(info: ModelInfo, operation: string, args: Args): boolean {
  if (!FIND_OPERATIONS.has(operation) || operation.startsWith('findUnique')) return false
  if ((args.skip !== undefined && args.skip !== 0) || args.cursor !== undefined || args.distinct !== undefined) {
    return false
  }
  const limited = args.take !== undefined || operation !== 'findMany'
  return !limited || decidingFields(info, operation, args) !== undefined
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
    root.rules.push({
      keys: [{ fields: info.primaryKey as readonly string[], tag: (v) => recordTag(M, v) }],
      guards: [modelTag(M)],
    })
    root.ifEmpty = modelTag(M)
    return undefined
  }
  const deciding = decidingFields(info, operation, args)
  if (deciding === undefined || (FIND_OPERATIONS.has(operation) && !root)) {
    sink.tags.add(modelTag(M))
    return undefined
  }
  // Which rows, in which order: rows created or deleted, the fields that decide; the rows' own
  // fields by their record tags, from the result.
  if (!enteredByRelation(info, args.where) && !rowsByRelatedKeys(sink, info, args.where)) sink.tags.add(rowSetTag(M))
  for (const field of deciding) sink.tags.add(changedFieldTag(M, field))
  if (root) root.rules.push({ keys: rowKeys(sink, info), guards: [changedTag(M)] })
  return undefined
}

/**
 * Whether every row the read returns must have a related row or link that a `some` of its
 * top-level conjunction asks for: a new row then enters only with such a row or link, whose own
 * tags the read carries (relation-filters.ts), and a deleted one leaves with them.
 */
function enteredByRelation(info: ModelInfo, where: unknown): boolean {
  return conjuncts(where).some((part) =>
    Object.keys(part).some((key) => {
      const rel = info.relations.get(key)
      const filter = part[key]
      return rel?.precise === true && rel.isList && isObject(filter) && isObject(filter.some)
    }),
  )
}

/**
 * A list filtered by a to-one relation whose records are known by key (`author: { id }`) or can
 * be looked up (`author: { username }`, one record by a unique value; `author: { followedBy: {
 * some: { id } } }`, the records linked to one): a new or deleted row enters or leaves it only if
 * its foreign key holds one of their keys, so it depends on the rows created or deleted with those
 * keys (`s:M:<fk>:<key>`, and their fallback) instead of on every row created or deleted. Whether a
 * record is one of them is covered by the tags of the filter (relation-filters.ts): the value's `v:`
 * tag, the links of the record the link filter pins; a moved foreign key by its field's `c:`.
 */
function rowsByRelatedKeys(sink: TagSink, info: ModelInfo, where: unknown): boolean {
  const M = info.name
  for (const part of conjuncts(where)) {
    for (const key in part) {
      const rel = info.relations.get(key)
      const filter = part[key]
      if (!rel?.precise || rel.isList || !rel.holdsForeignKey || !isObject(filter)) continue
      const target = sink.dm.model(rel.target)
      const inner = toOneFilter(filter)
      const fk = foreignKeys(info).find((k) => sameSet(k.fields, rel.fields))
      if (!target || !inner || !fk || !recordLevel(target)) continue
      // The target's fields each foreign-key field references.
      const fields = fk.fields.map((f) => rel.references[rel.fields.indexOf(f)] as string)
      const pin = preferredPin(target, inner)
      if (pin?.key.unique && sameSet(pin.key.fields, fields)) {
        for (const values of pin.values) {
          const mapped = fields.map((f) => values[pin.key.fields.indexOf(f)])
          if (!mapped.includes(null)) sink.tags.add(rowSetValueTag(M, fk.fields, mapped))
        }
        sink.tags.add(rowSetFieldTag(M, fk.fields))
        return true
      }
      if (!sink.resolutions || !lookupNarrows(sink.dm, target, inner, pin)) continue
      sink.tags.add(rowSetFieldTag(M, fk.fields))
      sink.resolutions.push({
        ...keyLookup(target, inner, fields, (values) => rowSetValueTag(M, fk.fields, values)),
        guards: [rowSetTag(M)],
      })
      return true
    }
  }
  return false
}

/**
 * A lookup of the `target` records `where` finds, selecting `fields`, each row tagged by `tag` of
 * its values (a null value relates to nothing); too many rows, or a row without them, cannot tell.
 */
function keyLookup(
  target: ModelInfo,
  where: Args,
  fields: readonly string[],
  tag: (values: unknown[]) => string,
): Pick<Resolution, 'model' | 'args' | 'tags'> {
  return {
    model: target.name,
    args: { where, select: Object.fromEntries(fields.map((f) => [f, true])), take: MAX_RESOLVED + 1 },
    tags: (rows) => {
      if (rows.length > MAX_RESOLVED) return undefined
      const out: string[] = []
      for (const row of rows) {
        const values = fieldValues(target, fields, row, 'result')
        if (values === undefined) return undefined
        if (!values.includes(null)) out.push(tag(values))
      }
      return out
    },
  }
}

/** The target's `where` of a to-one relation filter (`author: W` or `author: { is: W }`). */
function toOneFilter(filter: Args): Args | undefined {
  if (isObject(filter.is)) return filter.is
  return filter.is === undefined && filter.isNot === undefined ? filter : undefined
}

/**
 * Whether every record `where` can find is named by a value the read carries a tag of: records by
 * unique values (their `v:` tags), or only records linked to ones that unique values pin (the links
 * of those, `l:`): a record enters the set only through a write that bumps one.
 */
function lookupNarrows(dm: DataModel, target: ModelInfo, where: Args, pin: ReturnType<typeof preferredPin>): boolean {
  if (pin?.key.unique) return true
  return conjuncts(where).some((part) =>
    Object.keys(part).some((key) => {
      const rel = target.relations.get(key)
      const filter = part[key]
      if (!rel?.precise || !rel.implicitManyToMany || !isObject(filter) || !isObject(filter.some)) return false
      const other = dm.model(rel.target)
      const inner = other && recordLevel(other) ? preferredPin(other, filter.some) : undefined
      return inner?.key.unique === true
    }),
  )
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
      const tagOf = (v: unknown[]) => (fk.primary ? recordTag(info.name, v) : valueTag(info.name, fk.fields, v))
      // An empty result names no key: a lookup after the load finds the record's (later loads only),
      // so an empty list depends on that key's rows rather than on every row of the model.
      const emptyTold = sink.resolutions !== undefined
      if (emptyTold) {
        const referenced = fk.fields.map((f) => rel.references[rel.fields.indexOf(f)] as string)
        sink.resolutions?.push({
          ...keyLookup(target, inner, referenced, tagOf),
          guards: [modelTag(info.name)],
          whenEmpty: true,
        })
      }
      root.rules.push({
        keys: [{ fields: fk.fields, tag: tagOf }],
        guards: [modelTag(info.name)],
        single: true,
        ...(emptyTold && { emptyTold }),
      })
      return true
    }
  }
  return false
}

/** The record tags of a read of `model` that found `result`: `[r:M:<pk>, a:M]`, or `null` when it cannot be named. */
export function recordTags(dm: DataModel, model: string, result: unknown): string[] | null {
  const info = dm.model(model)
  if (!info || !recordLevel(info)) return null
  const key = keyFromRecord(info, result)
  return key ? [recordTag(model, key), entityTag(model)] : null
}
