/**
 * Which fields a tag may stand for by value, and the keys the cache tags by value: the primary
 * key, the other unique selectors, and the foreign keys a model holds.
 *
 * A value tag (`v:Post:authorId:5`) is sound only when the database compares the field exactly as
 * JavaScript holds the value: the value a read's `where` names, the value a write's result shows
 * and the stored value must be equal exactly when the database says they are. Case-insensitive
 * text (MySQL and SQL Server collations, PostgreSQL `citext`), padded `char(n)`, `uuid` (any case
 * in, lower case out), dates without time, single-precision floats and JSON are not: a field of
 * such a type is not exact, and no key containing it is tracked (reads of it fall back to the
 * model's tag).
 */
import type { ParsedBlock } from './parser.ts'

/** A set of fields the cache tags by value. */
export interface TrackedKey {
  /** The fields, in the order the selector or the foreign key lists them. */
  readonly fields: readonly string[]
  /** At most one record per value: a unique selector (or the primary key), not only a foreign key. */
  readonly unique: boolean
  /** The primary key (its records are tagged `r:`, not `v:`). */
  readonly primary: boolean
  /** The where-unique input naming it (`email`, `orgId_userId`), when unique. */
  readonly selector: string | undefined
}

/** Providers whose text comparison is exact (binary or deterministic collations by default). */
const EXACT_TEXT = new Set(['postgresql', 'postgres', 'cockroachdb', 'sqlite'])
const EXACT_TEXT_NATIVE = new Set(['Text', 'VarChar', 'String'])
const EXACT_TIME_NATIVE = new Set(['Timestamp', 'Timestamptz', 'DateTime', 'DateTime2', 'DateTimeOffset'])
const ALWAYS_EXACT = new Set(['Int', 'BigInt', 'Boolean', 'Decimal', 'Bytes'])

/**
 * The scalar fields of `block` whose equality the database decides exactly as JavaScript would;
 * `enums` are the names of enum types (their values compare as text).
 */
export function exactFields(block: ParsedBlock, enums: ReadonlySet<string>, provider: string | undefined): Set<string> {
  const exact = new Set<string>()
  // Schema text without a datasource block (a snippet) keeps the exact reading of text.
  const textExact = provider === undefined || EXACT_TEXT.has(provider)
  for (const field of block.fields.values()) {
    if (field.isList || field.relation !== undefined) continue
    const { type, native } = field
    const ok =
      ALWAYS_EXACT.has(type) ||
      (type === 'Float' && native === undefined) ||
      (type === 'String' && textExact && (native === undefined || EXACT_TEXT_NATIVE.has(native))) ||
      (type === 'DateTime' && (native === undefined || EXACT_TIME_NATIVE.has(native))) ||
      (enums.has(type) && textExact)
    if (ok) exact.add(field.name)
  }
  return exact
}

/**
 * The keys of a model: its unique selectors (the primary one first) and the foreign keys of the
 * relations it holds, each once by field set, and only those made of exact fields.
 */
export function trackedKeys(
  selectors: readonly { readonly name: string; readonly fields: readonly string[]; readonly primary: boolean }[],
  primary: readonly string[] | undefined,
  foreignKeys: readonly (readonly string[])[],
  exact: ReadonlySet<string>,
): TrackedKey[] {
  const keys: TrackedKey[] = []
  const seen = new Set<string>()
  const add = (fields: readonly string[], unique: boolean, selector: string | undefined) => {
    const id = [...fields].sort().join(',')
    if (fields.length === 0 || seen.has(id) || !fields.every((f) => exact.has(f))) return
    seen.add(id)
    const isPrimary = primary !== undefined && sameFields(fields, primary)
    keys.push({ fields, unique, primary: isPrimary, selector })
  }
  const identity = selectors.find((s) => primary !== undefined && sameFields(s.fields, primary))
  if (identity) add(identity.fields, true, identity.name)
  for (const s of selectors) add(s.fields, true, s.name)
  for (const fk of foreignKeys) add(fk, false, undefined)
  return keys
}

function sameFields(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((f) => b.includes(f))
}
