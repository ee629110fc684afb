/**
 * A short, stable hash of a cache key (8 hex digits, FNV-1a over its UTF-16 code units): what spans
 * and debug lines show instead of the key, whose text holds the query's arguments. The same key
 * gives the same hash in every process, so a span, a debug line and `$cache.explain()` can be
 * matched; it identifies, it does not protect (it is not a cryptographic hash).
 */
export function keyHash(key: string): string {
  let hash = 0x811c9dc5
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193)
  return (hash >>> 0).toString(16).padStart(8, '0')
}
