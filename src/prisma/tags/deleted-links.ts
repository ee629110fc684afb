/**
 * A delete of one record reads, before it runs, the records it is linked to through implicit
 * many-to-many relations: deleting an article removes its topic links, and without knowing which
 * topics, the count of every topic's articles goes (`L:Topic.articles:name`). With them, only those
 * topics' lists and counts go (README, "How invalidation works").
 *
 * It reads the rows the delete cascades to as well (an article's replies), so that it invalidates
 * them row by row rather than every read of their model.
 *
 * The read runs outside the delete's statement, so a link added to the record in between would be
 * removed unseen. It is seen instead through the tags every change of the record's links bumps,
 * watched from before the read until the delete has committed (cache/tiered/version-witness.ts):
 * when one moved, the delete invalidates as if it had read nothing.
 */
import type { DataModel, ModelInfo, RelationInfo } from '../schema/datamodel.ts'
import type { RecordIdentity } from './nested-writes.ts'
import { fieldValues, isObject, keyValuesFromWhere, linkKeys, recordLevel } from './record-identity.ts'
import { changedFieldTag, entityTag, linkKeyTag, linkTag, rowSetTag } from './vocabulary.ts'

/** More linked records than this on one relation: that relation's other side gets its fallback. */
const MAX_LINKS = 100

/** What a delete reads before it runs, and the tags that tell whether what it read still holds. */
export interface DeleteRead {
  /** `findUnique` arguments: the record by the delete's `where`, its links' keys. */
  readonly args: { readonly where: unknown; readonly select: Record<string, unknown> }
  /**
   * Per relation read: the tags every change of what it read bumps (the record's links on it, or
   * the rows it cascades to), watched from before the read until the delete commits.
   */
  readonly watch: ReadonlyMap<string, readonly string[]>
}

/**
 * What the delete read, without the relations whose watched tags `moved` (all of them when that
 * cannot be told, `moved` undefined): those then give their wide tags.
 */
export function stillRead(
  reading: DeleteRead,
  row: unknown,
  moved: ReadonlySet<string> | undefined,
): Record<string, unknown> | undefined {
  if (!isObject(row) || moved === undefined) return undefined
  const out: Record<string, unknown> = { ...row }
  for (const [field, tags] of reading.watch) if (tags.some((tag) => moved.has(tag))) delete out[field]
  return out
}

/** Every tag a {@link DeleteRead} watches. */
export function watchedTags(reading: DeleteRead): string[] {
  return [...new Set([...reading.watch.values()].flat())]
}

/** The read of a `delete` of `model` by `where`; `undefined` when the model has no links to read. */
export function deleteRead(dm: DataModel, model: string, args: unknown): DeleteRead | undefined {
  const info = dm.model(model)
  const where = isObject(args) ? args.where : undefined
  if (!info || !recordLevel(info) || !isObject(where)) return undefined
  const relations = linkRelations(dm, info)
  const cascades = cascadedRelations(dm, info) ?? []
  if (relations.length === 0 && cascades.length === 0) return undefined
  const select: Record<string, unknown> = {}
  for (const field of info.primaryKey ?? []) select[field] = true
  const watch = new Map<string, string[]>()
  for (const rel of cascades) {
    const child = dm.model(rel.target) as ModelInfo
    const fields: Record<string, true> = {}
    for (const field of child.primaryKey ?? []) fields[field] = true
    for (const key of child.keys) for (const field of key.fields) fields[field] = true
    select[rel.field] = { select: fields, take: MAX_LINKS + 1 }
    // A row that enters the record's children meanwhile is created (s:) or moved to it (c: of its key).
    const tags = [entityTag(model), entityTag(child.name), rowSetTag(child.name)]
    for (const field of rel.fields) tags.push(changedFieldTag(child.name, field))
    watch.set(rel.field, tags)
  }
  for (const rel of relations) {
    const target = dm.model(rel.target) as ModelInfo
    const fields: Record<string, true> = {}
    for (const key of linkKeys(target)) for (const field of key.fields) fields[field] = true
    select[rel.field] = { select: fields, take: MAX_LINKS + 1 }
    watch.set(rel.field, linkWatch(info, rel, where))
  }
  return { args: { where, select }, watch }
}

/**
 * The tags every change of the links on `rel` of the record `where` names bumps: a change names
 * the record by a key `where` names it by, or bumps the fallback of a key it does not know it by.
 */
export function linkWatch(info: ModelInfo, rel: RelationInfo, where: Record<string, unknown>): string[] {
  const tags = [entityTag(info.name)]
  for (const key of linkKeys(info)) {
    const values = keyValuesFromWhere(info, key, where)
    if (values !== undefined) tags.push(linkTag(info.name, rel.field, key.fields, values))
    tags.push(linkKeyTag(info.name, rel.field, key.fields))
  }
  return tags
}

/**
 * The one-to-many relations whose rows a delete of a record of `info` cascades to, when the delete
 * changes nothing else by its referential actions and each of their models can be named row by row
 * (its rows change nothing further when deleted); `undefined` otherwise (the delete then gives the
 * cascaded models whole, referential in nested-writes.ts).
 */
export function cascadedRelations(dm: DataModel, info: ModelInfo): RelationInfo[] | undefined {
  const effects = dm.referentialEffects(info.name, 'delete').changed
  if (effects.length === 0) return []
  const cascades = [...info.relations.values()].filter(
    (rel) => rel.precise && rel.isList && !rel.implicitManyToMany && !rel.holdsForeignKey && rel.onDelete === 'Cascade',
  )
  const named = new Set<string>()
  for (const rel of cascades) {
    const child = dm.model(rel.target)
    if (!child || !recordLevel(child) || !child.primaryKey) return undefined
    if (dm.referentialEffects(child.name, 'delete').changed.length > 0) return undefined
    named.add(child.name)
  }
  return effects.every((m) => named.has(m)) ? cascades : undefined
}

/** The rows of `rel` that `row` (what {@link deleteRead} found) holds; `undefined` when the read did not tell. */
export function cascadedRows(rel: RelationInfo, row: unknown): Record<string, unknown>[] | undefined {
  const rows = isObject(row) ? row[rel.field] : undefined
  if (!Array.isArray(rows) || rows.length > MAX_LINKS || !rows.every(isObject)) return undefined
  return rows as Record<string, unknown>[]
}

/** The implicit many-to-many relations of `info` whose other side the tags can name. */
function linkRelations(dm: DataModel, info: ModelInfo): RelationInfo[] {
  return [...info.relations.values()].filter((rel) => {
    const target = dm.model(rel.target)
    return rel.implicitManyToMany && rel.precise && target !== undefined && recordLevel(target)
  })
}

/**
 * The records `row` (what {@link deleteRead} found) is linked to on `rel`, by every link key of
 * the target; `undefined` when the read did not tell (too many, or a key missing).
 */
export function linkedRecords(dm: DataModel, rel: RelationInfo, row: unknown): RecordIdentity | undefined {
  const target = dm.model(rel.target)
  const linked = isObject(row) ? row[rel.field] : undefined
  if (!target || !Array.isArray(linked) || linked.length > MAX_LINKS) return undefined
  const byKey = new Map<string, unknown[][]>()
  for (const key of linkKeys(target)) {
    const tuples: unknown[][] = []
    for (const item of linked) {
      const values = isObject(item) ? fieldValues(target, key.fields, item, 'result') : undefined
      if (values === undefined) return undefined
      if (!values.includes(null)) tuples.push(values)
    }
    byKey.set(key.fields.join(), tuples)
  }
  return (key) => byKey.get(key.fields.join())
}
