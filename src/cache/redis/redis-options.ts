import type { Serializer } from '../../core/serializer.ts'
import type { RedisConnection } from './connection.ts'
import type { DurableOption } from './durable.ts'

/** Options of `RedisCache`. */
export interface RedisCacheOptions {
  /**
   * An ioredis `Redis` or `Cluster`, or a URL. A URL opens a connection that this cache owns and
   * `close()` ends; an instance given here is never closed by the cache.
   */
  readonly redis: RedisConnection | string
  /**
   * Namespace of every key and of the bus channel. Nothing outside `prefix:` is ever read or deleted.
   * @default 'ptc'
   */
  readonly prefix?: string
  /**
   * Seconds an entry is fresh when `set` gives no `ttl`.
   * @default 300
   */
  readonly ttl?: number
  /**
   * Milliseconds each command may take before it fails with `L2TimeoutError`.
   * @default 200
   */
  readonly timeoutMs?: number
  /**
   * The clock, in milliseconds, for the freshness written in entries (Redis expiry uses its own).
   * @default Date.now
   */
  readonly now?: () => number
  /**
   * How values become text. The Prisma layer passes `createSerializer({ Decimal: Prisma.Decimal })`.
   * @default `serializer` of core/serializer.ts (superjson; decimals come back as their text)
   */
  readonly serializer?: Serializer
  /**
   * Number of slot groups (see `KeyLayout` (layout.ts)): entries are spread over this many Redis Cluster
   * hash tags, and each tag version is kept once per group, so an invalidation costs this many
   * script calls. Every instance sharing a prefix must use the same number.
   * @default 16 for a `Cluster`, 1 for a single server
   */
  readonly groups?: number
  /**
   * Invalidations that survive a failover. After each invalidation (tags, keys, pattern, clear)
   * the cache asks every master it wrote to for its connected replicas (ROLE) and sends
   * `WAIT min(replicas, connected) timeoutMs`: the call resolves once they hold the invalidation,
   * so a promoted replica has it. When fewer acknowledge in time (a replica lags), the call fails
   * with `L2NotDurableError` (code `E_L2_NOT_DURABLE`): the master has the invalidation, a
   * failover may lose it. A `TieredCache` treats that as any invalidation Redis did not receive:
   * an `error` event, the invalidation stays queued and is sent again, with its wait, until it is
   * acknowledged (or the master it reaches has no replica left: a failover then has nothing to
   * promote that lacks it); this instance does not read L2 meanwhile; with `l2Required` the call
   * fails. Costs each invalidation two round trips and the replication delay (see the benchmark).
   * It cannot cover a replica that was disconnected from its master when the invalidation was
   * written and is promoted afterwards. `true` takes the defaults. Without it an invalidation the
   * master acknowledged but had not replicated is lost if the master fails over, and the entries
   * it dropped come back.
   * @default undefined (no wait); with `true`: { replicas: 1, timeoutMs: 500 }
   */
  readonly durable?: DurableOption
}
