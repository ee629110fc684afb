/**
 * What a write invalidates: every tag (tags/vocabulary.ts) whose cached reads it could have
 * changed. The rules, one by one, are in the README ("How invalidation works").
 */
import { WRITE_OPERATIONS } from '../operations.ts'
import type { DataModel, ModelInfo, TrackedKey } from '../schema/datamodel.ts'
import { cascadedRelations, cascadedRows, linkedRecords } from './deleted-links.ts'
import { withoutUnlinked } from './disconnect-reads.ts'
import {
  changedFields,
  joinRowsChanged,
  linkChanged,
  type RecordIdentity,
  referential,
  rowSetChanged,
  UNKNOWN_RECORD,
  walkData,
} from './nested-writes.ts'
import { fieldValues, isObject, keyFromRecord, keyValuesFromWhere, recordLevel } from './record-identity.ts'
import {
  changedFieldTag,
  changedTag,
  entityTag,
  fieldTag,
  modelTag,
  recordTag,
  rowValueTag,
  valueTag,
} from './vocabulary.ts'
import { type WriteLookup, WriteTags } from './write-lookups.ts'

type Args = Record<string, unknown>

/** Every model, whole: what a raw write (or anything not understood) invalidates. */
export function rawInvalidations(dm: DataModel): string[] {
  const tags: string[] = []
  for (const model of dm.models) tags.push(modelTag(model), entityTag(model))
  return tags
}

/**
 * One state of the written row as the write tells it: the values of a key's fields (`undefined`
 * when the write does not tell them), or `NO_ROW` (before a create, after a delete).
 */
type KeyValues = (key: TrackedKey) => unknown[] | undefined
type RowState = KeyValues | typeof NO_ROW
const NO_ROW = 'none' as const

/** Every tag whose cached reads the write of `model` by `operation` could have changed. */
export function writeInvalidations(
  dm: DataModel,
  model: string,
  operation: string,
  args: unknown,
  result: unknown,
): string[] {
  return writePlan(dm, model, operation, args, result, false).tags
}

/** What a write invalidates: `tags`, and what the rows of its `lookups` give (write-lookups.ts). */
export interface WritePlan {
  readonly tags: string[]
  /** Absent when there are none (always, unless asked for). */
  readonly lookups?: readonly WriteLookup[]
}

/**
 * {@link writeInvalidations}, with the lookups that narrow some of its tags when `lookups` (the
 * caller runs them after the write committed): their fallbacks are then not among `tags`.
 */
export function writePlan(
  dm: DataModel,
  model: string,
  operation: string,
  args: unknown,
  result: unknown,
  lookups: boolean,
  read?: unknown,
): WritePlan {
  const info = dm.model(model)
  if (!info || !WRITE_OPERATIONS.has(operation)) {
    return { tags: [...new Set([modelTag(model), entityTag(model), ...rawInvalidations(dm)])] }
  }
  const tags = new WriteTags(lookups)
  const a = isObject(args) ? args : {}
  if (!recordLevel(info)) {
    tags.add(modelTag(model)).add(entityTag(model))
    const kind = operation.startsWith('delete') ? 'delete' : operation.startsWith('update') ? 'update' : undefined
    if (kind || operation === 'upsert') referential(dm, tags, model, kind ?? 'update')
    walkData(dm, info, a.data ?? a.update, tags, UNKNOWN_RECORD)
    if (operation === 'upsert') walkData(dm, info, a.create, tags, UNKNOWN_RECORD)
  } else {
    recordWrite(dm, info, operation, a, result, tags, read)
  }
  // A database view can show any table; Prisma cannot tell which.
  for (const view of dm.views) tags.add(modelTag(view)).add(entityTag(view))
  const found = tags.lookups !== undefined && tags.lookups.length > 0 ? tags.lookups : undefined
  return found ? { tags: [...tags], lookups: found } : { tags: [...tags] }
}

function recordWrite(
  dm: DataModel,
  info: ModelInfo,
  operation: string,
  a: Args,
  result: unknown,
  tags: Set<string>,
  read: unknown,
) {
  const M = info.name
  const fromResult =
    (row: unknown): KeyValues =>
    (key) =>
      isObject(row) ? fieldValues(info, key.fields, row, 'result') : undefined
  const where = isObject(a.where) ? a.where : {}
  const fromWhere: KeyValues = (key) => keyValuesFromWhere(info, key, where)
  switch (operation) {
    case 'create': {
      const data = isObject(a.data) ? a.data : {}
      const after = either(fromResult(result), (key) => fieldValues(info, key.fields, data, 'data'))
      const identity = contentChanged(info, [NO_ROW, after], tags, false, true)
      rowSetChanged(info, [after], tags)
      walkData(dm, info, a.data, tags, identity)
      break
    }
    case 'createManyAndReturn': {
      const rows = (Array.isArray(result) ? result : [undefined]).map(fromResult)
      contentChanged(info, [NO_ROW, ...rows], tags, false, true)
      rowSetChanged(info, rows, tags)
      break
    }
    case 'update':
    case 'upsert': {
      const data = operation === 'update' ? a.data : a.update
      const changed = changedFields(info, data)
      const after = fromResult(result)
      // A key the write does not change is the same before and after: the result tells both.
      const unchanged = (key: TrackedKey) =>
        changed !== undefined && !key.fields.some((f) => changed.includes(f) || info.updatedAt.includes(f))
      const before: KeyValues = (key) => (unchanged(key) ? (after(key) ?? fromWhere(key)) : fromWhere(key))
      // Not from `data`: change capture writes placeholders there (change-tags.ts), and an
      // update's data may be an operation (`{ increment: 1 }`).
      const afterOrSame: KeyValues = (key) => after(key) ?? (unchanged(key) ? fromWhere(key) : undefined)
      // Only relations in `data`: the record's own fields stay (a link does not touch @updatedAt).
      // Nothing in `data`: nothing Prisma knows changes but an @updatedAt field; the record tag
      // still goes, as it always did. An upsert may create the record instead.
      const states = [before, afterOrSame]
      const empty = isObject(data) && Object.keys(data).length === 0
      const ownFields = changed === undefined || changed.length > 0 || (empty && info.updatedAt.length > 0)
      const identity =
        operation === 'upsert' || ownFields
          ? contentChanged(info, states, tags)
          : empty
            ? contentChanged(info, states, tags, true)
            : knownAs(states)
      if (operation === 'upsert' || ownFields) fieldsChanged(info, changed, tags)
      // It may have created the row it shows.
      if (operation === 'upsert') rowSetChanged(info, [afterOrSame], tags)
      if (changed === undefined || changed.some((f) => (info.primaryKey ?? []).includes(f))) {
        // The record's join rows follow its primary key.
        joinRowsChanged(dm, tags, info, identity)
      }
      referential(dm, tags, M, 'update', changed)
      // Disconnects of records the update read were not linked change nothing (disconnect-reads.ts).
      const readFirst =
        operation === 'update' && read !== undefined && sameRecord(info, read, result) ? read : undefined
      walkData(dm, info, readFirst === undefined ? data : withoutUnlinked(dm, info, data, readFirst), tags, identity)
      if (operation === 'upsert') walkData(dm, info, a.create, tags, identity)
      break
    }
    case 'delete': {
      const before = either(fromResult(result), fromWhere)
      const identity = contentChanged(info, [before, NO_ROW], tags)
      rowSetChanged(info, [before], tags)
      tags.add(changedTag(M))
      // What the delete read before it ran (deleted-links.ts), if it is the record it deleted.
      const same = read !== undefined && sameRecord(info, read, result)
      joinRowsChanged(dm, tags, info, identity, true, same ? (rel) => linkedRecords(dm, rel, read) : undefined)
      if (!same || !cascadesDeleted(dm, info, read, tags)) referential(dm, tags, M, 'delete')
      break
    }
    case 'updateMany':
    case 'updateManyAndReturn': {
      tags.add(modelTag(M)).add(entityTag(M))
      const changed = changedFields(info, a.data)
      if (changed === undefined || changed.some((f) => (info.primaryKey ?? []).includes(f))) {
        joinRowsChanged(dm, tags, info, UNKNOWN_RECORD)
      }
      referential(dm, tags, M, 'update', changed)
      walkData(dm, info, a.data, tags, UNKNOWN_RECORD)
      break
    }
    case 'createMany':
      tags.add(modelTag(M)).add(entityTag(M))
      break
    case 'deleteMany':
      tags.add(modelTag(M)).add(entityTag(M))
      joinRowsChanged(dm, tags, info, UNKNOWN_RECORD)
      referential(dm, tags, M, 'delete')
      break
  }
}

/**
 * The fields an update of one row changes (`changed`, with its @updatedAt fields), for the lists
 * they decide; `c:` for the rows' own record tags. Fields it cannot tell: every read of the model.
 */
function fieldsChanged(info: ModelInfo, changed: readonly string[] | undefined, tags: Set<string>): void {
  const M = info.name
  tags.add(changedTag(M))
  if (changed === undefined) {
    tags.add(entityTag(M))
    return
  }
  for (const field of changed) tags.add(changedFieldTag(M, field))
  if (changed.length > 0) for (const field of info.updatedAt) tags.add(changedFieldTag(M, field))
}

/**
 * A row changed from each state to the next: the model's rows, the record by its primary key
 * (`a:` when a state's key is unknown) and every other tracked key by its values (`f:` when
 * unknown); the row a result showed by a unique value (`w:`) unless every state is a row the
 * write `created`. Returns the values the record is known by, for the tags of its relation lists.
 */
function contentChanged(
  info: ModelInfo,
  states: readonly RowState[],
  tags: Set<string>,
  primaryOnly = false,
  created = false,
): RecordIdentity {
  const M = info.name
  tags.add(modelTag(M))
  const primary: TrackedKey = {
    fields: info.primaryKey as readonly string[],
    unique: true,
    primary: true,
    selector: undefined,
  }
  for (const key of primaryOnly ? [primary] : [primary, ...info.keys.filter((k) => !k.primary)]) {
    for (const state of states) {
      if (state === NO_ROW) continue
      const values = state(key)
      if (values === undefined || (key.primary && values.includes(null))) {
        tags.add(key.primary ? entityTag(M) : fieldTag(M, key.fields))
      } else if (key.primary) tags.add(recordTag(M, values))
      else {
        tags.add(valueTag(M, key.fields, values))
        if (key.unique && !created) tags.add(rowValueTag(M, key.fields, values))
      }
    }
  }
  return knownAs(states)
}

/** The record as known by each key: a tuple per state that had a row, `undefined` if one is unknown. */
function knownAs(states: readonly RowState[]): RecordIdentity {
  return (key) => {
    const out: unknown[][] = []
    for (const state of states) {
      if (state === NO_ROW) continue
      const values = state(key)
      if (values === undefined || values.includes(null)) return undefined
      if (!out.some((v) => sameValues(v, values))) out.push(values)
    }
    return out
  }
}

function either(first: KeyValues, second: KeyValues): KeyValues {
  return (key) => first(key) ?? second(key)
}

/**
 * The rows a delete cascaded to, from what it read first (deleted-links.ts), each as if deleted on
 * its own; false, and nothing added, when they cannot all be named so.
 */
function cascadesDeleted(dm: DataModel, info: ModelInfo, read: unknown, tags: Set<string>): boolean {
  const cascades = cascadedRelations(dm, info)
  if (cascades === undefined) return false
  const found = cascades.map((rel) => cascadedRows(rel, read))
  if (found.some((rows) => rows === undefined)) return false
  cascades.forEach((rel, i) => {
    const child = dm.model(rel.target) as ModelInfo
    for (const row of found[i] ?? []) {
      const before: KeyValues = (key) => fieldValues(child, key.fields, row, 'result')
      const identity = contentChanged(child, [before, NO_ROW], tags)
      rowSetChanged(child, [before], tags)
      tags.add(changedTag(child.name))
      joinRowsChanged(dm, tags, child, identity, true)
    }
  })
  return true
}

/** Whether two rows have the same primary key (both known). */
function sameRecord(info: ModelInfo, a: unknown, b: unknown): boolean {
  const x = keyFromRecord(info, a)
  const y = keyFromRecord(info, b)
  return x !== undefined && y !== undefined && sameValues(x, y)
}

const sameValues = (a: readonly unknown[], b: readonly unknown[]) =>
  a.length === b.length && a.every((v, i) => v === b[i] || String(v) === String(b[i]))

/**
 * A row of the join table of an implicit many-to-many relation between `models` changed (seen
 * below the client, by change capture): the link lists of both sides, of any record, on every
 * such relation between the two models.
 */
export function joinTableInvalidations(dm: DataModel, models: readonly [string, string]): string[] {
  const tags = new Set<string>()
  const [first, second] = models
  for (const [from, to] of [
    [first, second],
    [second, first],
  ] as const) {
    const info = dm.model(from)
    for (const rel of info?.relations.values() ?? []) {
      if (!rel.implicitManyToMany || rel.target !== to) continue
      for (const [m, field] of [
        [from, rel.field],
        [to, rel.inverse as string],
      ] as const) {
        const side = dm.model(m)
        if (side) linkChanged(tags, side, field, UNKNOWN_RECORD)
      }
    }
  }
  if (tags.size === 0) for (const m of models) tags.add(modelTag(m)).add(entityTag(m))
  return [...tags]
}
