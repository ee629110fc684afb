/**
 * Lookups a read runs beside its load, when it names a related record by a value other than the
 * key writes name it by: a list of the articles `favoritedBy: { some: { username } }` is changed by
 * a favorite that names the member by id, a count of `author: { username }` by a new article that
 * names its author by id. The lookup finds those keys (`findMany` of the related model, selecting
 * them), and the read is tagged by them instead of by a tag every such write bumps.
 *
 * Sound as late tags are (late-tags.ts): the lookup runs after the read's tags and guards were
 * captured; a write that could change what it finds bumps a tag the read captured and stores (the
 * value's own tag, `v:`, or the links of the record named, `l:`); a write that could move one of the
 * tags it gives bumps one of its guards, so the load is not stored. A lookup that failed, or was not
 * run (a read the caller could not look up for), gives its guards instead: the wide tags.
 */

/** One lookup and the tags its rows give. */
export interface Resolution {
  /** The model to look up (`Member`). */
  readonly model: string
  /** `findMany` arguments: the filter the read names the records by, the keys selected, a `take`. */
  readonly args: {
    readonly where: unknown
    readonly select: Record<string, true>
    readonly take: number
  }
  /** The tags the rows found give; `undefined` when they cannot tell (too many rows). */
  readonly tags: (rows: readonly Record<string, unknown>[]) => string[] | undefined
  /** Captured before the load: every write that could move one of `tags` bumps one of them. */
  readonly guards: readonly string[]
  /**
   * Run only when the load found no rows (null, or an empty list), after it: the rows' own values
   * tell the rest (a late rule's `emptyTold`). Not run, it gives nothing.
   */
  readonly whenEmpty?: boolean
}

/** The answer of a `whenEmpty` lookup that was not run (the load found rows). */
export const NOT_RUN = 'not run' as const

/** More rows than this: the lookup gives its guards (an entry's tags are checked on every L2 hit). */
export const MAX_RESOLVED = 64

/** The tags of every lookup: from its rows when it answered (`answers[i]`), else its guards. */
export function resolvedTags(
  resolutions: readonly Resolution[],
  answers: readonly (readonly Record<string, unknown>[] | typeof NOT_RUN | undefined)[] | undefined,
): string[] {
  const out: string[] = []
  resolutions.forEach((resolution, i) => {
    const rows = answers?.[i]
    if (rows === NOT_RUN) return
    const tags = rows === undefined ? undefined : resolution.tags(rows)
    out.push(...(tags ?? resolution.guards))
  })
  return out
}
