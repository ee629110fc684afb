/**
 * The tag vocabulary of the extension. The first four are written through the public
 * {@link EntityTag}, so that the lower layer's `invalidateTags()` reaches what the extension cached:
 *
 * - `m:<Model>` ({@link modelTag}): the rows of the model, any of them: bumped by every write that
 *   creates, changes or deletes a row (not by one that only links or unlinks rows of an implicit
 *   many-to-many relation). Reads whose rows cannot be narrowed carry it.
 * - `a:<Model>` ({@link entityTag}): every entry that touches the model, bumped (always with
 *   `m:<Model>`) by writes that cannot say which rows or links they changed.
 * - `r:<Model>:<recordId>` ({@link recordTag}): one record, by primary key: its fields.
 * - `u:<tag>` ({@link userTag}): a caller's own tag.
 *
 * Narrower tags, for reads that name values rather than records (README, "How invalidation works"):
 *
 * - `s:<Model>` ({@link rowSetTag}): rows were created or deleted.
 * - `s:<Model>:<fields>:<values>` ({@link rowSetValueTag}): rows created or deleted whose foreign key
 *   `fields` holds `values`; `S:<Model>:<fields>` ({@link rowSetFieldTag}) their fallback, bumped by
 *   a create or delete that does not know the value. Both are bumped only with `s:<Model>`. A list
 *   filtered by a related record (`author: { username }`) depends on them instead of on `s:`, by
 *   the keys a lookup beside its load finds (resolutions.ts).
 * - `c:<Model>` ({@link changedTag}): a row that existed changed or went; `c:<Model>:<field>`
 *   ({@link changedFieldTag}): that field of a row changed. A list ordered by its primary key
 *   depends on `s:`, on the `c:` of each field it filters, orders or groups by, and on the record
 *   tag of each row it returns (under the guard `c:`), instead of on `m:`.
 * - `n:<Model>` ({@link newRecordTag}): records were created whose primary key the write does not
 *   know (a nested create). Reads that name a record by primary key in their arguments carry it:
 *   they may have cached its absence.
 * - `v:<Model>:<fields>:<values>` ({@link valueTag}): the rows whose `fields` (a unique selector
 *   other than the primary key, or a foreign key) hold `values`, and their fields. A write bumps it
 *   for the values the row had before and has after.
 * - `w:<Model>:<fields>:<values>` ({@link rowValueTag}): the fields of the row a result showed by
 *   `fields` (a unique key other than the primary key) = `values`, as `r:` is by primary key: bumped
 *   like `v:` for a row that existed before the write, not for one it creates (no result can have
 *   shown a row before it existed).
 * - `f:<Model>:<fields>` ({@link fieldTag}): the fallback of every `v:` and `w:` tag of those fields:
 *   bumped by a write that changed a row without knowing one of those values.
 * - `l:<Model>.<relation>:<fields>:<values>` ({@link linkTag}): which records the record named by
 *   `fields` = `values` is linked to through an implicit many-to-many relation field.
 * - `l:<Model>.<relation>:<fields>:<values>+` ({@link linkGainTag}): the same, but not for the one
 *   change that cannot give the record a link: the removal of its links to a row deleted at the
 *   other end (a delete that read its links, deleted-links.ts).
 * - `L:<Model>.<relation>:<fields>` ({@link linkKeyTag}): the fallback of those `l:` tags, bumped
 *   by a link change whose record it cannot name by `fields`.
 * - `L:<Model>.<relation>:<fields>+` ({@link linkKeyGainTag}): the same fallback, but not for the one
 *   change that cannot give a record a link: the removal of its links to a row deleted at the other
 *   end (which the lists that show every row they could lose see through that row's own tags).
 * - `L:<Model>.<relation>` ({@link linksTag}): any link change of the relation.
 *
 * A write may over-invalidate (cost: a miss) but never under-invalidate (cost: stale data).
 * See docs/design.md (versioned tags).
 */
import { EntityTag } from '../../cache/keys.ts'
import { recordId } from '../../core/canonical.ts'

export const modelTag: (model: string) => string = EntityTag.list
export const entityTag: (model: string) => string = EntityTag.entity
/** The tag of one record from its primary-key values (in primary-key order). */
export const recordTag = (model: string, key: readonly unknown[]): string => EntityTag.record(model, key)
export const userTag: (tag: string) => string = EntityTag.query

export const newRecordTag = (model: string): string => `n:${model}`
export const rowSetTag = (model: string): string => `s:${model}`
export const rowSetValueTag = (model: string, fields: readonly string[], values: readonly unknown[]): string =>
  `s:${model}:${fields.join(',')}:${recordId(values)}`
export const rowSetFieldTag = (model: string, fields: readonly string[]): string => `S:${model}:${fields.join(',')}`
export const changedTag = (model: string): string => `c:${model}`
export const changedFieldTag = (model: string, field: string): string => `c:${model}:${field}`
export const valueTag = (model: string, fields: readonly string[], values: readonly unknown[]): string =>
  `v:${model}:${fields.join(',')}:${recordId(values)}`
export const rowValueTag = (model: string, fields: readonly string[], values: readonly unknown[]): string =>
  `w:${model}:${fields.join(',')}:${recordId(values)}`
export const fieldTag = (model: string, fields: readonly string[]): string => `f:${model}:${fields.join(',')}`
export const linkTag = (model: string, relation: string, fields: readonly string[], values: readonly unknown[]) =>
  `l:${model}.${relation}:${fields.join(',')}:${recordId(values)}`
/** {@link linkTag}, but not bumped when the record only loses links to rows deleted at the other end. */
export const linkGainTag = (model: string, relation: string, fields: readonly string[], values: readonly unknown[]) =>
  `${linkTag(model, relation, fields, values)}+`
export const linkKeyTag = (model: string, relation: string, fields: readonly string[]): string =>
  `L:${model}.${relation}:${fields.join(',')}`
export const linkKeyGainTag = (model: string, relation: string, fields: readonly string[]): string =>
  `L:${model}.${relation}:${fields.join(',')}+`
export const linksTag = (model: string, relation: string): string => `L:${model}.${relation}`

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
