/**
 * The tag vocabulary of the extension, written through the public {@link EntityTag}, so that the
 * lower layer's `invalidateTags()` reaches what the extension cached:
 *
 * - `m:<Model>` ({@link modelTag}): bumped by every write to the model; the reads that are not
 *   the lookup of one record depend on it (lists, counts, aggregates, and every model a read
 *   reaches through a relation).
 * - `a:<Model>` ({@link entityTag}): every entry of the model. Every read of the model (record
 *   reads too) and every read that reaches it carries it; bumped only by writes that may change
 *   records they cannot name, always together with `m:<Model>`.
 * - `r:<Model>:<recordId>` ({@link recordTag}): one record, by primary key.
 * - `u:<tag>` ({@link userTag}): a caller's own tag.
 *
 * A write may over-invalidate (cost: a miss) but never under-invalidate (cost: stale data).
 * See docs/design.md (tags and keys).
 */
import { EntityTag } from '../../cache/keys.ts'

export const modelTag: (model: string) => string = EntityTag.list
export const entityTag: (model: string) => string = EntityTag.entity
/** The tag of one record from its primary-key values (in primary-key order). */
export const recordTag = (model: string, key: readonly unknown[]): string => EntityTag.record(model, key)
export const userTag: (tag: string) => string = EntityTag.query

const MODEL_TAG = modelTag('')

/**
 * The tags an entry carries: `tags` and, for every `m:<Model>` among them, `a:<Model>`, so that
 * every entry of a model carries its entity tag. Changes no entry's validity: `a:` is only ever
 * bumped together with `m:`.
 */
export function withEntityTags(tags: readonly string[]): string[] {
  const out = new Set(tags)
  for (const tag of tags) if (tag.startsWith(MODEL_TAG)) out.add(entityTag(tag.slice(MODEL_TAG.length)))
  return [...out]
}
