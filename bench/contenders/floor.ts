import type { Redis } from 'ioredis'
import { cloneValue } from '../../src/core/clone.ts'
import { createSerializer } from '../../src/core/serializer.ts'
import { type ClientKeyScope, readKey } from '../../src/prisma/query-keys.ts'

/**
 * A key scope whose keys have the length of tieredCache's: its `prefix`, and a fingerprint of the
 * schema's 12 characters, a dot and the client identity's 12 (identity.ts).
 */
export const floorScope = (prefix: string): ClientKeyScope => ({ prefix, fingerprint: 'f3a9c1d07b2e.Ab3dE6gH1jKl' })

/**
 * The in-process floor of an L1 hit: derive the key from the query arguments (tieredCache's own
 * `readKey`, i.e. `canonical()` + prefix:model:id:fingerprint:operation), look it up in a `Map`,
 * copy the row (tieredCache's `cloneValue`). Whatever an L1 hit costs above this is extension
 * overhead. The key has the text of tieredCache's (its prefix, the record the read pins, a
 * fingerprint as long), since hashing a fresh key is most of a `Map.get`: for a 100-character key,
 * about as much as the key and the copy together. The record is given (not found in `where`); `undefined` leaves it out.
 */
export function floor(
  model: string,
  row: unknown,
  argsOf: () => unknown,
  scope: ClientKeyScope,
  record: unknown[] | undefined,
) {
  const map = new Map<string, unknown>()
  const known = readKey(scope, model, 'findUnique', argsOf(), undefined, record)
  map.set(known, row)
  return {
    /** The key, to compare with the extension's (`$cache.explain`). */
    known,
    key: () => readKey(scope, model, 'findUnique', argsOf(), undefined, record),
    mapGet: () => map.get(known),
    clone: () => cloneValue(row),
    total: () => cloneValue(map.get(readKey(scope, model, 'findUnique', argsOf(), undefined, record))),
  }
}

/**
 * The floor of an L2 hit: one plain GET of the same row serialized the way tieredCache stores it,
 * and `parse`. An L2 hit needs at least that.
 */
export async function bareGet(redis: Redis, key: string, row: unknown) {
  const serializer = createSerializer()
  await redis.set(key, serializer.stringify(row), 'EX', 3600)
  return async () => serializer.parse((await redis.get(key)) as string)
}
