/**
 * Tags only a read's result can tell: the records an include reached, the relation lists of rows a
 * list returned, the foreign-key value behind a filter on a related record's unique field. Their
 * versions are read when the entry is stored, so each rule names guards: tags captured before the
 * read, one of which every write able to move one of the rule's tags also bumps (docs/design.md,
 * capture before load). A rule that cannot read its fields from a row, or would give too many
 * tags, gives its guards instead: their versions at store time are the captured ones (the store
 * is refused otherwise), so storing them is as sound as storing the narrow tags.
 */
import { isObject } from './record-identity.ts'

/** One set of rows of a result (the root rows, or the rows of an included relation) and what they tag. */
export interface LateNode {
  readonly rules: LateRule[]
  /** The relation fields of a row whose rows are described by another node. */
  readonly children: Map<string, LateNode>
  /** Given when the node has no rows at all (a lookup that found nothing). */
  ifEmpty?: string
  /**
   * Fields a row of this node has the value of in its parent row, when it does not show them: a
   * to-one relation whose key the parent holds (`author.id` is `article.authorId`).
   */
  inherit?: { readonly from: readonly string[]; readonly to: readonly string[] }
}

/** One way to tag a row: the values of `fields`. */
export interface LateKey {
  readonly fields: readonly string[]
  readonly tag: (values: unknown[]) => string
}

/** Tags made of each row: by the first of `keys` whose fields the row shows. */
export interface LateRule {
  readonly keys: readonly LateKey[]
  /** Bumped by every write that can move one of the rule's tags; they stand for the rule when it cannot tell. */
  readonly guards: readonly string[]
  /** Applies only to rows whose relation field of this name is null (a to-one include that found nothing). */
  readonly whenNull?: string
  /** Every row names the same value (a filter pinned it); no rows, or rows that disagree, give the guard. */
  readonly single?: boolean
  /** With `single`: no rows give nothing, a lookup run for an empty result tells (resolutions.ts, `whenEmpty`). */
  readonly emptyTold?: boolean
}

/** Above this many tags, a rule gives its guard instead (an entry's tags are checked on every L2 hit). */
const MAX_TAGS_PER_RULE = 64

export const newNode = (): LateNode => ({ rules: [], children: new Map() })

export const isEmptyNode = (node: LateNode): boolean =>
  node.rules.length === 0 && node.children.size === 0 && node.ifEmpty === undefined

/** The guards of every rule of the tree: what the read must capture before it runs. */
export function lateGuards(node: LateNode, into: Set<string>): Set<string> {
  for (const rule of node.rules) for (const guard of rule.guards) into.add(guard)
  if (node.ifEmpty !== undefined) into.add(node.ifEmpty)
  for (const child of node.children.values()) lateGuards(child, into)
  return into
}

/** The tags of a result, by the rules of `root` (whose rows are the result: an object, an array or null). */
export function lateTagsOf(root: LateNode, result: unknown): string[] {
  const found = new Map<LateRule, Set<string> | 'guard'>()
  const out = new Set<string>()
  const rows = rowsOf(result)
  if (rows.length === 0 && root.ifEmpty !== undefined) out.add(root.ifEmpty)
  visit(root, rows, found)
  for (const [rule, tags] of found) {
    if (tags === 'guard' || tags.size > MAX_TAGS_PER_RULE || (rule.single && tags.size !== 1)) {
      for (const guard of rule.guards) out.add(guard)
    } else for (const tag of tags) out.add(tag)
  }
  // A pinned filter that matched nothing names no value: the guard stands for it.
  collectSingles(root, found, out)
  return [...out]
}

function visit(node: LateNode, rows: readonly Record<string, unknown>[], found: Map<LateRule, Set<string> | 'guard'>) {
  for (const rule of node.rules) {
    let tags = found.get(rule)
    if (tags === 'guard') continue
    for (const row of rows) {
      if (rule.whenNull !== undefined && row[rule.whenNull] !== null) continue
      const key = rule.keys.find((k) => k.fields.every((f) => row[f] !== undefined))
      if (key === undefined) {
        tags = 'guard'
        break
      }
      const values = key.fields.map((f) => row[f])
      // A null foreign key links to nothing: the row's own tags cover it.
      if (values.includes(null)) continue
      if (tags === undefined) tags = new Set()
      tags.add(key.tag(values))
    }
    if (tags !== undefined) found.set(rule, tags)
  }
  for (const [field, child] of node.children) {
    const next: Record<string, unknown>[] = []
    for (const row of rows) {
      for (const item of rowsOf(row[field])) next.push(child.inherit ? inherited(item, row, child.inherit) : item)
    }
    visit(child, next, found)
  }
}

function collectSingles(node: LateNode, found: Map<LateRule, Set<string> | 'guard'>, out: Set<string>) {
  for (const rule of node.rules) {
    if (rule.single && !rule.emptyTold && !found.has(rule)) for (const guard of rule.guards) out.add(guard)
  }
  for (const child of node.children.values()) collectSingles(child, found, out)
}

function inherited(
  row: Record<string, unknown>,
  parent: Record<string, unknown>,
  inherit: NonNullable<LateNode['inherit']>,
): Record<string, unknown> {
  if (inherit.to.every((f) => row[f] !== undefined)) return row
  const out = { ...row }
  inherit.to.forEach((f, i) => {
    const value = parent[inherit.from[i] as string]
    if (out[f] === undefined && value !== undefined) out[f] = value
  })
  return out
}

function rowsOf(value: unknown): Record<string, unknown>[] {
  if (Array.isArray(value)) return value.filter(isObject)
  return isObject(value) ? [value] : []
}
