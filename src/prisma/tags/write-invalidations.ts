/** What a write invalidates: every tag (tags/vocabulary.ts) whose cached reads it could have changed. */
import { WRITE_OPERATIONS } from '../operations.ts'
import type { DataModel, ModelInfo } from '../schema/datamodel.ts'
import { isObject, keyFromRecord, keyFromWhere, recordLevel } from './record-identity.ts'
import { entityTag, modelTag, recordTag } from './vocabulary.ts'

type Args = Record<string, unknown>

/** Every model, whole: what a raw write (or anything not understood) invalidates. */
export function rawInvalidations(dm: DataModel): string[] {
  const tags: string[] = []
  for (const model of dm.models) tags.push(modelTag(model), entityTag(model))
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
    return [...new Set([modelTag(model), entityTag(model), ...rawInvalidations(dm)])]
  }
  const tags = new Set<string>([modelTag(model)])
  const a = isObject(args) ? args : {}
  const all = () => tags.add(entityTag(model))
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
  for (const view of dm.views) tags.add(modelTag(view)).add(entityTag(view))
  return [...tags]
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
  for (const m of effects.changed) tags.add(modelTag(m)).add(entityTag(m))
  for (const m of effects.relationViews) tags.add(modelTag(m))
}

// Nested writes inside `data`, at any depth.

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
          tags.add(modelTag(T)).add(entityTag(T))
          if (rel.precise) referential(dm, tags, T, 'update', rel.fields)
          else referential(dm, tags, T, 'update')
        }
        continue
      }
      tags.add(modelTag(T)).add(entityTag(T))
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
