/**
 * Lookups a write runs once it has committed, for the keys of records it named by another key: a
 * favorite connects the member by id (`favoritedBy: { connect: { id } }`) while the lists of what a
 * member favorited name the member by username (`favoritedBy: { some: { username } }`). Without the
 * username, the write bumps the fallback every such list carries (`L:Member.favorites:username`),
 * so one favorite evicts the favorites of every member; with it, only that member's.
 *
 * Sound without a capture: the lookup reads after the commit, so it finds the values the record
 * holds now. A value the record held when the write committed and no longer holds was moved by a
 * later write, which bumps that value's own tag (`v:`, carried by every read that names the record
 * by it). A record it cannot find (deleted since), a failed lookup, or a write inside a transaction
 * (whose connection the lookup must not wait for) gives the fallback tags instead.
 */
import type { ModelInfo, TrackedKey } from '../schema/datamodel.ts'
import { fieldValues, isObject, keyValuesFromWhere, linkKeys } from './record-identity.ts'

/** One lookup of a write and the tags its rows give. */
export interface WriteLookup {
  /** The model to look up (`Member`). */
  readonly model: string
  /** `findMany` arguments: the records by the key the write named them by, the other keys selected. */
  readonly args: { readonly where: Record<string, unknown>; readonly select: Record<string, true> }
  /** The tags the rows found give; `undefined` when they cannot tell (a record not found). */
  readonly tags: (rows: readonly Record<string, unknown>[]) => string[] | undefined
  /** What the write invalidates instead when the lookup cannot tell. */
  readonly fallback: readonly string[]
}

/** The tags of a write, and the lookups it may run for more precise ones (nested-writes.ts collects them). */
export class WriteTags extends Set<string> {
  /** Collected only when the caller can run them; `undefined`: every tag a lookup would narrow is its fallback. */
  readonly lookups: WriteLookup[] | undefined

  constructor(lookups: boolean) {
    super()
    this.lookups = lookups ? [] : undefined
  }
}

/**
 * A lookup for the records `items` (unique `where`s, as a `connect` names them) by the keys of
 * `target` the items do not give, each tagged by the tags of `tag(key, values)`; `undefined` when no key is
 * given by every item, or none is missing.
 */
export function lookupOtherKeys(
  target: ModelInfo,
  items: readonly Record<string, unknown>[],
  tag: (key: TrackedKey, values: unknown[]) => readonly string[],
  fallback: (key: TrackedKey) => readonly string[],
): { lookup: WriteLookup; missing: readonly TrackedKey[] } | undefined {
  const keys = linkKeys(target)
  const given = keys.find((key) => items.every((item) => keyValuesFromWhere(target, key, item) !== undefined))
  const missing = keys.filter((key) => items.some((item) => keyValuesFromWhere(target, key, item) === undefined))
  if (given === undefined || missing.length === 0 || items.length === 0) return undefined
  const named = items.map((item) => keyValuesFromWhere(target, given, item) as unknown[])
  const distinct = new Set(named.map((values) => JSON.stringify(values)))
  const where =
    given.fields.length === 1
      ? { [given.fields[0] as string]: { in: named.map((values) => values[0]) } }
      : { OR: named.map((values) => Object.fromEntries(given.fields.map((f, i) => [f, values[i]]))) }
  const select: Record<string, true> = {}
  for (const key of [given, ...missing]) for (const field of key.fields) select[field] = true
  return {
    missing,
    lookup: {
      model: target.name,
      args: { where, select },
      tags: (rows) => {
        if (rows.length < distinct.size) return undefined
        const out: string[] = []
        for (const row of rows) {
          if (!isObject(row)) return undefined
          for (const key of missing) {
            const values = fieldValues(target, key.fields, row, 'result')
            if (values === undefined) return undefined
            // A null unique value names no record: no read finds the record by it.
            if (!values.includes(null)) out.push(...tag(key, values))
          }
        }
        return out
      },
      fallback: missing.flatMap(fallback),
    },
  }
}

/** The tags of every lookup: from its rows when it answered (`answers[i]`), else its fallback. */
export function lookedUpTags(
  lookups: readonly WriteLookup[],
  answers: readonly (readonly Record<string, unknown>[] | undefined)[],
): string[] {
  const out: string[] = []
  lookups.forEach((lookup, i) => {
    const rows = answers[i]
    out.push(...((rows !== undefined ? lookup.tags(rows) : undefined) ?? lookup.fallback))
  })
  return out
}
