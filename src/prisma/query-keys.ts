/**
 * The keys of the extension's entries, written with the public {@link CacheKey}, so that
 * `KeyPattern.entity(model)`, `KeyPattern.record(model, id)` and `KeyPattern.tenant(t)` find them:
 *
 * - a read: `prefix:[tenant:]Model:<fingerprint>:<operation>:<arguments>`;
 * - a `findUnique` by primary key: `prefix:[tenant:]Model:id:<id>:<fingerprint>:<operation>:<arguments>`;
 * - `cache: { key }`: `prefix:#key:<fingerprint>:<key>`; `$cache.wrap(key)`: `prefix:#wrap:<key>`
 *   (`#` is in no model name, and these are found by key without knowing a model).
 *
 * The tenant is `context()`; the fingerprint of the schema makes a schema change start afresh.
 */
import { createHash } from 'node:crypto'
import { CacheKey } from '../cache/keys.ts'
import { canonical } from '../core/canonical.ts'

/** Longest canonical argument text kept readable in a key; longer ones are hashed. */
const MAX_READABLE = 160
const EXPLICIT = '#key'
const WRAPPED = '#wrap'

/** What every key of one client shares. */
export interface ClientKeyScope {
  /** The `prefix` option. */
  readonly prefix: string
  /** The schema's fingerprint. */
  readonly fingerprint: string
}

/**
 * The key of one read: identical for the same model, operation, arguments (in any key order) and
 * tenant in every process and release, different after a schema change. `record` is the primary
 * key a `findUnique` pins (see tags/record-identity.ts), which puts the entry under the record.
 */
export function readKey(
  scope: ClientKeyScope,
  model: string,
  operation: string,
  args: unknown,
  tenant: string | undefined,
  record: readonly unknown[] | undefined,
): string {
  let text = canonical(args)
  if (text.length > MAX_READABLE) text = `#${createHash('sha256').update(text).digest('base64url')}`
  const query = `${scope.fingerprint}:${operation}:${text}`
  return CacheKey.render({
    prefix: scope.prefix,
    tenant,
    namespace: model,
    identifier: record === undefined ? query : `${CacheKey.recordIdentifier(record)}:${query}`,
  })
}

/** The key of a read that named its own (`cache: { key }`), and of `$cache.invalidate({ keys })`; not mixed with the tenant. */
export function explicitKey(scope: ClientKeyScope, key: string): string {
  return CacheKey.render({ prefix: scope.prefix, namespace: EXPLICIT, identifier: `${scope.fingerprint}:${key}` })
}

/** The key of a `$cache.wrap()` value; not tied to the schema. */
export function wrapKey(scope: ClientKeyScope, key: string): string {
  return CacheKey.render({ prefix: scope.prefix, namespace: WRAPPED, identifier: key })
}
