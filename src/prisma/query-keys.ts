import { createHash } from 'node:crypto'
import { canonical } from '../core/canonical.ts'

/** Longest canonical argument text kept readable in a key; longer ones are hashed. */
const MAX_READABLE = 160

/**
 * The key of one read: identical for the same model, operation, arguments (in any key order) and
 * context in every process and release, different after a schema change (the fingerprint).
 * Readable for short arguments, so `KeyPattern`s over `fingerprint:Model:*` work either way.
 */
export function queryKey(
  fingerprint: string,
  model: string,
  operation: string,
  args: unknown,
  context: string | undefined,
): string {
  let text = canonical(args)
  if (text.length > MAX_READABLE) text = `#${createHash('sha256').update(text).digest('base64url')}`
  return context === undefined
    ? `${fingerprint}:${model}:${operation}:${text}`
    : `${fingerprint}:${model}:${operation}:@${context}:${text}`
}

/** The key of a read that named its own (`cache: { key }`), and of `$cache.invalidate({ keys })`. */
export function explicitKey(fingerprint: string, key: string): string {
  return `${fingerprint}:key:${key}`
}

/** The key of a `$cache.wrap()` value; not tied to the schema. */
export function wrapKey(key: string): string {
  return `wrap:${key}`
}
