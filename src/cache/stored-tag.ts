import { createHash } from 'node:crypto'
import { MAX_TAG_LENGTH } from '../core/validate.ts'

/**
 * How the cache layer keeps a tag (in the L1 index, bus messages, Redis key names and entry
 * headers): as it is up to `MAX_TAG_LENGTH` (256) characters; a longer one as `#` and the
 * base64url SHA-256 of its text, 44 characters, the same in every process and release. The layer
 * above may build long tags (`u:` and a 256-character user tag, a record tag with a long id);
 * this keeps every key name and header short whatever they are.
 *
 * Idempotent (a hash is short), so each layer may apply it. Two tags share a stored form only by
 * a SHA-256 collision or when a caller's own tag is such a hash: either way an invalidation of one
 * drops the other's entries too (a miss), never the reverse.
 */
export function storedTag(tag: string): string {
  return tag.length <= MAX_TAG_LENGTH ? tag : `#${createHash('sha256').update(tag).digest('base64url')}`
}

/** {@link storedTag} of each, the same array when none changes (the common case: no allocation). */
export function storedTags(tags: readonly string[]): readonly string[] {
  for (const tag of tags) if (tag.length > MAX_TAG_LENGTH) return tags.map(storedTag)
  return tags
}

/** Captured versions keyed by their tags' stored forms (the same map when none changes). */
export function storedVersions(versions: ReadonlyMap<string, string> | undefined): ReadonlyMap<string, string> {
  if (versions === undefined) return new Map()
  const tags = [...versions.keys()]
  if (storedTags(tags) === tags) return versions
  return new Map([...versions].map(([tag, version]) => [storedTag(tag), version] as const))
}
