/**
 * An update that disconnects records on an implicit many-to-many reads first which of them are
 * linked: a disconnect of a record that is not linked changes nothing (an unfavorite of an article
 * the member never favorited), and without knowing it the write would evict both records' link
 * lists and every list that shows the article. It is read and watched as a delete's links are
 * (deleted-links.ts): a change of the record's links seen from before the read until the update
 * has committed keeps every disconnect.
 */
import type { DataModel, ModelInfo, RelationInfo, TrackedKey } from '../schema/datamodel.ts'
import { type DeleteRead, linkWatch } from './deleted-links.ts'
import { isObject, keyValuesFromWhere, linkKeys, recordLevel } from './record-identity.ts'

type Args = Record<string, unknown>

/** The records a disconnect names, and the single-field key of its target they are all named by. */
interface Disconnect {
  readonly rel: RelationInfo
  readonly key: TrackedKey
  readonly items: readonly Args[]
}

/** The relations of `data` whose only operation is a disconnect of records named by one single-field key. */
function disconnects(dm: DataModel, info: ModelInfo, data: Args): Disconnect[] {
  const out: Disconnect[] = []
  for (const field in data) {
    const rel = info.relations.get(field)
    const ops = data[field]
    if (!rel?.implicitManyToMany || !rel.precise || !isObject(ops)) continue
    const named = Object.keys(ops).filter((op) => ops[op] !== undefined)
    if (named.length !== 1 || named[0] !== 'disconnect') continue
    const target = dm.model(rel.target)
    const list = Array.isArray(ops.disconnect) ? ops.disconnect : [ops.disconnect]
    if (!target || !recordLevel(target) || list.length === 0 || !list.every(isObject)) continue
    const items = list as Args[]
    const key = linkKeys(target).find(
      (k) => k.fields.length === 1 && items.every((item) => keyValuesFromWhere(target, k, item) !== undefined),
    )
    if (key) out.push({ rel, key, items })
  }
  return out
}

/** The read of an `update` of `model` that disconnects records; `undefined` when it disconnects none that way. */
export function disconnectRead(dm: DataModel, model: string, args: unknown): DeleteRead | undefined {
  const info = dm.model(model)
  const where = isObject(args) ? args.where : undefined
  const data = isObject(args) ? args.data : undefined
  if (!info || !recordLevel(info) || !isObject(where) || !isObject(data)) return undefined
  const found = disconnects(dm, info, data)
  if (found.length === 0) return undefined
  const select: Record<string, unknown> = {}
  for (const field of info.primaryKey ?? []) select[field] = true
  const watch = new Map<string, string[]>()
  for (const { rel, key, items } of found) {
    const field = key.fields[0] as string
    const values = items.map((item) => (keyValuesFromWhere(dm.model(rel.target) as ModelInfo, key, item) ?? [])[0])
    select[rel.field] = { where: { [field]: { in: values } }, select: { [field]: true } }
    watch.set(rel.field, linkWatch(info, rel, where))
  }
  return { args: { where, select }, watch }
}

/**
 * `data` without the disconnects of records `read` (what {@link disconnectRead} found) shows were
 * not linked: a relation none of whose records was linked is left out, since the write changes
 * nothing there. A relation `read` does not tell (not read, or its watch moved) stays as it is.
 */
export function withoutUnlinked(dm: DataModel, info: ModelInfo, data: unknown, read: unknown): unknown {
  if (!isObject(data) || !isObject(read)) return data
  let out: Args | undefined
  for (const { rel, key, items } of disconnects(dm, info, data)) {
    const linked = read[rel.field]
    if (!Array.isArray(linked)) continue
    const field = key.fields[0] as string
    const target = dm.model(rel.target) as ModelInfo
    const held = new Set(linked.map((row) => (isObject(row) ? String(row[field]) : '')))
    const kept = items.filter((item) => held.has(String((keyValuesFromWhere(target, key, item) ?? [])[0])))
    if (kept.length === items.length) continue
    out ??= { ...data }
    if (kept.length === 0) delete out[rel.field]
    else out[rel.field] = { disconnect: kept }
  }
  return out ?? data
}
