import { command, isCluster, type RedisConnection } from './connection.ts'
import type { KeyLayout } from './layout.ts'

const SCAN_COUNT = 1000

/**
 * SCANs every master (the one server, or each master of a cluster) for `glob` and unlinks the
 * entries whose cache key `keep` accepts; returns how many it deleted. Each command is bounded by
 * `timeoutMs` (see {@link command}).
 */
export async function scanDelete(
  redis: RedisConnection,
  layout: KeyLayout,
  glob: string,
  keep: (key: string) => boolean,
  timeoutMs: number,
): Promise<number> {
  const call = <T>(operation: string, run: () => Promise<T>) => command(redis, operation, timeoutMs, run)
  if (isCluster(redis)) {
    // The masters as they are now (after a failover ioredis may not have noticed yet), or a
    // master would go unscanned.
    await call(
      'cluster slots',
      () => new Promise<void>((resolve, reject) => redis.refreshSlotsCache((e) => (e ? reject(e) : resolve()))),
    )
  }
  const nodes = isCluster(redis) ? redis.nodes('master') : [redis]
  const counts = await Promise.all(
    nodes.map(async (node) => {
      let cursor = '0'
      let deleted = 0
      do {
        const [next, found] = await call('scan', () => node.scan(cursor, 'MATCH', glob, 'COUNT', SCAN_COUNT))
        cursor = next
        const doomed = new Map<number, string[]>()
        for (const redisKey of found) {
          const parsed = layout.parse(redisKey)
          if (parsed === undefined || !keep(parsed.key)) continue
          const list = doomed.get(parsed.group)
          if (list) list.push(redisKey)
          else doomed.set(parsed.group, [redisKey])
        }
        // Through the client, one UNLINK per group (one slot each): it routes to the slot's owner.
        for (const list of doomed.values()) deleted += await call('unlink', () => redis.unlink(...list))
      } while (cursor !== '0')
      return deleted
    }),
  )
  return counts.reduce((sum, count) => sum + count, 0)
}
