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

/** The `durable` option, checked, with its defaults; `undefined` when off. */
export function checkDurable(value: unknown): Durable | undefined {
  if (value === undefined || value === false) return undefined
  const given = value === true ? {} : object('durable', value, DURABLE_KEYS, 'a boolean or { replicas?, timeoutMs? }')
  return {
    replicas: integer('durable.replicas', given.replicas, 1),
    timeoutMs: positive('durable.timeoutMs', given.timeoutMs, 500),
  }
}

/**
 * After writes on `redis`: on every master (where the writes went, on the same connections, so
 * WAIT covers them), asks for its connected replicas (ROLE) and waits until min(`replicas`,
 * connected) of them acknowledge (a failover can only promote a connected one; with none there is
 * nothing to wait for). Fewer in `timeoutMs` is an `L2NotDurableError`. Bounded by
 * `timeoutMs + commandTimeoutMs` whatever the servers do.
 */
export async function awaitReplicas(
  redis: RedisConnection,
  durable: Durable,
  operation: string,
  commandTimeoutMs: number,
): Promise<void> {
  const { replicas, timeoutMs } = durable
  const masters = isCluster(redis) ? redis.nodes('master') : [redis]
  const nodes = await command(redis, operation, timeoutMs + commandTimeoutMs, () =>
    Promise.all(
      masters.map(async (node) => {
        const role = (await node.call('ROLE')) as [string, unknown, unknown]
        const wanted = Math.min(replicas, Array.isArray(role[2]) ? role[2].length : 0)
        if (wanted === 0) return { acknowledged: 0, wanted }
        return { acknowledged: Number(await node.call('WAIT', wanted, timeoutMs)), wanted }
      }),
    ),
  )
  const short = nodes.find((node) => node.acknowledged < node.wanted)
  if (short) throw new L2NotDurableError(operation, short.acknowledged, short.wanted, timeoutMs)
}
