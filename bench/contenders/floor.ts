import type { Redis } from 'ioredis'
import { cloneValue } from '../../src/core/clone.ts'
import { createSerializer } from '../../src/core/serializer.ts'
import { readKey } from '../../src/prisma/query-keys.ts'

/** A schema fingerprint of the length tieredCache uses in its keys. */
const SCOPE = { prefix: 'ptc', fingerprint: 'f3a9c1d07b2e' }

/**
 * The in-process floor of an L1 hit: derive the key from the query arguments (tieredCache's own
 * `readKey`, i.e. `canonical()` + prefix:model:fingerprint:operation), look it up in a `Map`, copy the row
 * (tieredCache's `cloneValue`). Whatever an L1 hit costs above this is extension overhead.
 */
export function floor(model: string, row: unknown, argsOf: () => unknown) {
  const map = new Map<string, unknown>()
  const known = readKey(SCOPE, model, 'findUnique', argsOf(), undefined, undefined)
  map.set(known, row)
  return {
    key: () => readKey(SCOPE, model, 'findUnique', argsOf(), undefined, undefined),
    mapGet: () => map.get(known),
    clone: () => cloneValue(row),
    total: () => cloneValue(map.get(readKey(SCOPE, model, 'findUnique', argsOf(), undefined, undefined))),
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
