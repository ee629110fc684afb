import { createHash } from 'node:crypto'
import { canonical, recordId } from '../core/canonical.ts'
import { isBytes } from '../core/values.ts'

/** Parts of a {@link CacheKey}. */
export interface CacheKeyParts {
  /** @default 'ptc' */
  readonly prefix?: string
  /** Usually the model name. */
  readonly namespace: string
  readonly identifier: string
  /** When set, the key is written `prefix:tenant:namespace:identifier`. */
  readonly tenant?: string
}

/** Where a key or pattern lives; the same defaults as {@link CacheKey}. */
export interface KeyScope {
  /** @default 'ptc' */
  readonly prefix?: string
  readonly tenant?: string
}

const DEFAULT_PREFIX = 'ptc'

/**
 * One value as a part of a key: strings as they are, dates as ISO text, bytes as base64url, a
 * compound id's values joined by `,`; `%`, `:` and `,` are percent-encoded, so a part never
 * spills into the next (`KeyPattern.record('User', 'a')` never matches the key of id `a:b`).
 */
export function keyPart(value: unknown): string {
  // The common ids first: a number or one value of a primary key (this runs on every cached read by id).
  if (typeof value === 'number') return String(value)
  if (Array.isArray(value)) return value.length === 1 ? keyPart(value[0]) : value.map(keyPart).join(',')
  let text: string
  if (value instanceof Date) text = Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()
  else if (isBytes(value)) text = Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64url')
  else text = String(value)
  return /[%:,]/.test(text) ? text.replace(/[%:,]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`) : text
}

/**
 * A cache key, written `prefix:[tenant:]namespace:identifier`. Immutable: `field()` and
 * `withTenant()` return new keys. Ids, unique values and the tenant are written with
 * {@link keyPart}. The Prisma extension names its entries with these keys: the namespace is the
 * model, the tenant its `context()`, and a `findUnique` by primary key sits under
 * `CacheKey.record(model, id)`, so `KeyPattern.entity` and `KeyPattern.record` find its entries.
 *
 * @example
 * CacheKey.record('User', 123).toString()                       // 'ptc:User:id:123'
 * CacheKey.unique('User', 'email', 'a@b.c', { tenant: 't1' })   // 'ptc:t1:User:unique:email:a@b.c'
 * CacheKey.record('User', 1).field('select', 'name').toString() // 'ptc:User:id:1:select:name'
 */
export class CacheKey {
  readonly prefix: string
  readonly namespace: string
  readonly identifier: string
  readonly tenant: string | undefined

  constructor(parts: CacheKeyParts) {
    this.prefix = parts.prefix ?? DEFAULT_PREFIX
    this.namespace = parts.namespace
    this.identifier = parts.identifier
    this.tenant = parts.tenant
  }

  /** The key of one record by its id (an array for a compound id): identifier `id:{id}`. */
  static record(namespace: string, id: unknown, scope: KeyScope = {}): CacheKey {
    return new CacheKey({ ...scope, namespace, identifier: CacheKey.recordIdentifier(id) })
  }

  /** The identifier of {@link record}: `id:{id}`. */
  static recordIdentifier(id: unknown): string {
    return `id:${keyPart(id)}`
  }

  /** The key of a lookup by a unique field: identifier `unique:{field}:{value}`. */
  static unique(namespace: string, field: string, value: unknown, scope: KeyScope = {}): CacheKey {
    return new CacheKey({ ...scope, namespace, identifier: `unique:${field}:${keyPart(value)}` })
  }

  /**
   * The key of a query (find-many, aggregate, ...): identifier `{operation}:{hash of args}`, the
   * hash being {@link stableHash}, identical in every process and release.
   */
  static query(namespace: string, operation: string, args: unknown, scope: KeyScope = {}): CacheKey {
    return new CacheKey({ ...scope, namespace, identifier: `${operation}:${stableHash(args)}` })
  }

  /** The key of a record's relation: identifier `id:{id}:rel:{relation}`, so it falls under the record's pattern. */
  static relation(namespace: string, id: unknown, relation: string, scope: KeyScope = {}): CacheKey {
    return CacheKey.record(namespace, id, scope).field('rel', relation)
  }

  /** A builder start: a key with an empty identifier, to which `field()` adds parts. */
  static builder(namespace: string, scope: KeyScope = {}): CacheKey {
    return new CacheKey({ ...scope, namespace, identifier: '' })
  }

  /** This key with `name:value` appended to its identifier. */
  field(name: string, value: unknown): CacheKey {
    const part = `${name}:${String(value)}`
    return new CacheKey({ ...this.#parts(), identifier: this.identifier === '' ? part : `${this.identifier}:${part}` })
  }

  withTenant(tenant: string | undefined): CacheKey {
    return new CacheKey({ ...this.#parts(), tenant })
  }

  toString(): string {
    return CacheKey.render(this)
  }

  /** The text of a key from its parts, without building one (the extension's read path). */
  static render(parts: CacheKeyParts): string {
    const tenant = parts.tenant === undefined ? '' : `${keyPart(parts.tenant)}:`
    return `${parts.prefix ?? DEFAULT_PREFIX}:${tenant}${parts.namespace}:${parts.identifier}`
  }

  #parts(): CacheKeyParts {
    return { prefix: this.prefix, namespace: this.namespace, identifier: this.identifier, tenant: this.tenant }
  }
}

/**
 * A set of keys, given as Redis glob patterns (`*`, `?`, `[...]`, `\` escapes) over the keys'
 * text. A key matches when any of the globs matches it whole.
 *
 * Redis SCAN takes one glob; {@link toRedisGlob} gives one that covers every glob here (possibly
 * more), and {@link matches} is the exact test, so a scan is always filtered through `matches`.
 * That is how `record('User', 1)` matches `ptc:User:id:1` and `ptc:User:id:1:select:name` and
 * never `ptc:User:id:10` (the seed's `*1*` matched all three and more).
 */
export class KeyPattern {
  /** The globs, already escaped. */
  readonly globs: readonly string[]
  readonly #regex: RegExp

  constructor(globs: string | readonly string[]) {
    const list = typeof globs === 'string' ? [globs] : [...globs]
    if (list.length === 0) throw new TypeError('KeyPattern: globs must not be empty')
    this.globs = Object.freeze(list)
    this.#regex = new RegExp(`^(?:${list.map(globToRegexSource).join('|')})$`, 's')
  }

  /** Every key of one entity (namespace): `prefix:[tenant:]namespace:*`. */
  static entity(namespace: string, scope: KeyScope = {}): KeyPattern {
    return new KeyPattern(`${scopeGlob(scope)}${escapeGlob(namespace)}:*`)
  }

  /** The key of one record and every key built on it (`...:id:1` and `...:id:1:...`, never `...:id:10`). */
  static record(namespace: string, id: unknown, scope: KeyScope = {}): KeyPattern {
    const base = `${scopeGlob(scope)}${escapeGlob(namespace)}:${escapeGlob(CacheKey.recordIdentifier(id))}`
    return new KeyPattern([base, `${base}:*`])
  }

  /** Every key of one tenant. */
  static tenant(tenant: string, scope: Omit<KeyScope, 'tenant'> = {}): KeyPattern {
    return new KeyPattern(`${escapeGlob(scope.prefix ?? DEFAULT_PREFIX)}:${escapeGlob(keyPart(tenant))}:*`)
  }

  /** Every key under the prefix. */
  static all(scope: Omit<KeyScope, 'tenant'> = {}): KeyPattern {
    return new KeyPattern(`${escapeGlob(scope.prefix ?? DEFAULT_PREFIX)}:*`)
  }

  matches(key: string): boolean {
    return this.#regex.test(key)
  }

  /** One glob for SCAN MATCH that covers every key this pattern matches. */
  toRedisGlob(): string {
    const [first, ...rest] = this.globs as [string, ...string[]]
    if (rest.length === 0) return first
    return `${literalPrefix(first, rest)}*`
  }

  toString(): string {
    return this.globs.join(' | ')
  }
}

/** Escapes the glob characters of a literal so Redis and {@link KeyPattern} match it as is. */
export function escapeGlob(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, '\\$&')
}

function scopeGlob(scope: KeyScope): string {
  const tenant = scope.tenant === undefined ? '' : `${escapeGlob(keyPart(scope.tenant))}:`
  return `${escapeGlob(scope.prefix ?? DEFAULT_PREFIX)}:${tenant}`
}

/** The longest literal start shared by every glob, cut before any wildcard or a split escape. */
function literalPrefix(first: string, rest: readonly string[]): string {
  let end = 0
  for (let i = 0; i < first.length; i++) {
    const c = first[i]
    if (c === '*' || c === '?' || c === '[') break
    const step = c === '\\' ? 2 : 1
    const piece = first.slice(i, i + step)
    if (!rest.every((g) => g.slice(i, i + step) === piece)) break
    i += step - 1
    end = i + 1
  }
  return first.slice(0, end)
}

/** Redis glob syntax as a RegExp source: `*`, `?`, `[...]` (with `^` negation and ranges), `\x`. */
function globToRegexSource(glob: string): string {
  let out = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string
    if (c === '*') out += '.*'
    else if (c === '?') out += '.'
    else if (c === '\\' && i + 1 < glob.length) out += escapeRegex(glob[++i] as string)
    else if (c === '[') {
      const close = glob.indexOf(']', i + 2)
      if (close === -1) {
        out += '\\['
        continue
      }
      let body = glob.slice(i + 1, close)
      const negate = body.startsWith('^')
      if (negate) body = body.slice(1)
      out += `[${negate ? '^' : ''}${body.replace(/[\\\]^[]/g, '\\$&')}]`
      i = close
    } else out += escapeRegex(c)
  }
  return out
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

/**
 * Tags an entry can depend on. Invalidating a tag drops every entry that carries it. The Prisma
 * extension tags its entries with these, so `TieredCache.invalidateTags()` reaches them:
 *
 * - `entity(model)`, `a:Model`: every entry of the model: every read of it, and every read that
 *   reached it through a relation, carries it. Bumped when all of them must go (`updateMany`,
 *   `deleteMany`, a raw write, a cascade, a write that cannot name its records).
 * - `list(model)`, `m:Model`: bumped by every write to the model; carried by the reads that are
 *   not the lookup of one record (lists, counts, aggregates, relations reached). Bumping it keeps
 *   record entries (an update of user 2 keeps user 1's entry).
 * - `record(model, id)`, `r:Model:id`: one record by primary key (an array for a compound key),
 *   with the values as Prisma returns them (`1`, `1n`, `"a"`, a `Date`).
 * - `query(name)`, `u:name`: a caller's own tag (`cache: { tags }`, `wrap(…, { tags })`).
 * - `tenant(t)` and `relation(from, to)`: for the lower layer's own entries; the extension does
 *   not attach them (`KeyPattern.tenant()` finds a tenant's extension entries by key).
 */
export const EntityTag = {
  entity: (model: string): string => `a:${model}`,
  list: (model: string): string => `m:${model}`,
  record: (model: string, id: unknown): string =>
    `r:${model}:${recordId(Array.isArray(id) ? (id as readonly unknown[]) : [id])}`,
  query: (name: string): string => `u:${name}`,
  tenant: (tenant: string): string => `tenant:${tenant}`,
  relation: (from: string, to: string): string => `rel:${from}:${to}`,
} as const

/**
 * A hex SHA-256 (first 128 bits) of the value's canonical text (`canonical()`): the same for
 * equal values in every process and every release, unlike a process-seeded hash.
 */
export function stableHash(value: unknown): string {
  return createHash('sha256').update(canonical(value)).digest('hex').slice(0, 32)
}
