import { L2NotDurableError } from '../../core/errors.ts'
import { integer, object, positive } from '../../core/validate.ts'
import { command, isCluster, type RedisConnection } from './connection.ts'

/** The `durable` option of `RedisCache` (documented there). */
export type DurableOption = boolean | { readonly replicas?: number; readonly timeoutMs?: number }

/** `durable`, checked, with its defaults. */
export interface Durable {
  readonly replicas: number
  readonly timeoutMs: number
}

const DURABLE_KEYS: ReadonlySet<string> = new Set(['replicas', 'timeoutMs'])

/**
 * The `durable` option, checked, with its defaults; `undefined` when off. `name` is what errors
 * call it (the Prisma layer checks its `l2.durable` with this when `tieredCache()` is called).
 */
export function checkDurable(value: unknown, name = 'durable'): Durable | undefined {
  if (value === undefined || value === false) return undefined
  const given = value === true ? {} : object(name, value, DURABLE_KEYS, 'a boolean or { replicas?, timeoutMs? }')
  return {
    replicas: integer(`${name}.replicas`, given.replicas, 1),
    timeoutMs: positive(`${name}.timeoutMs`, given.timeoutMs, 500),
  }
}

/**
 * Durability of the writes about to be sent on `redis`: asks every master now for its connected
 * replicas (ROLE, sent alongside the writes so it costs no round trip of its own); `wait()`, once
 * the writes are answered, sends `WAIT min(replicas, connected) timeoutMs` to each (on the same
 * connections, so WAIT covers those writes; a failover can only promote a connected replica, and
 * with none there is nothing to wait for). Fewer acknowledgements in time is an
 * `L2NotDurableError`. Bounded by `timeoutMs + commandTimeoutMs` whatever the servers do.
 */
export function replicaCheck(
  redis: RedisConnection,
  durable: Durable,
  commandTimeoutMs: number,
): { wait(operation: string): Promise<void> } {
  const { replicas, timeoutMs } = durable
  const masters = isCluster(redis) ? redis.nodes('master') : [redis]
  const connected = masters.map(async (node) => {
    const role = (await node.call('ROLE')) as [string, unknown, unknown]
    return Array.isArray(role[2]) ? role[2].length : 0
  })
  // Awaited in wait(); a failure here must not go unhandled if the writes fail first.
  for (const count of connected) count.catch(() => {})
  return {
    async wait(operation) {
      const nodes = await command(redis, operation, timeoutMs + commandTimeoutMs, () =>
        Promise.all(
          masters.map(async (node, i) => {
            const wanted = Math.min(replicas, await connected[i]!)
            if (wanted === 0) return { acknowledged: 0, wanted }
            return { acknowledged: Number(await node.call('WAIT', wanted, timeoutMs)), wanted }
          }),
        ),
      )
      const short = nodes.find((node) => node.acknowledged < node.wanted)
      if (short) throw new L2NotDurableError(operation, short.acknowledged, short.wanted, timeoutMs)
    },
  }
}
