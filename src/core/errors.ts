/** Every error code this library throws, so callers can branch on `error.code`. */
export type CacheErrorCode =
  | 'E_CACHE_OPTION'
  | 'E_L2_TIMEOUT'
  | 'E_L2_UNAVAILABLE'
  | 'E_L2_NOT_DURABLE'
  | 'E_CACHE_CLOSED'
  | 'E_CACHE_MISS'
  | 'E_L1'

/** Base class of the cache's runtime errors: each has a stable `code` and, when it wraps one, a `cause`. */
export class CacheError extends Error {
  readonly code: CacheErrorCode

  constructor(code: CacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/**
 * A bad option. A `TypeError`, as lru-cache and Node do for bad configuration, thrown when the
 * object is built so that a typo fails at start-up rather than on the first request.
 */
export class CacheOptionError extends TypeError {
  readonly code = 'E_CACHE_OPTION' as const
  /** The name of the offending option, e.g. `ttl` or `l1.max`. */
  readonly option: string

  constructor(option: string, message: string, options?: { cause?: unknown }) {
    super(`${option}: ${message}`, options)
    this.name = 'CacheOptionError'
    this.option = option
  }
}

/** A Redis command did not answer within `timeoutMs`. */
export class L2TimeoutError extends CacheError {
  constructor(operation: string, timeoutMs: number) {
    super('E_L2_TIMEOUT', `Redis did not answer ${operation} within ${timeoutMs} ms`)
  }
}

/**
 * Redis is not connected. Raised at once instead of queueing the command, so a dead Redis costs
 * a query nothing rather than `timeoutMs`.
 */
export class L2UnavailableError extends CacheError {
  constructor(operation: string, status: string, options?: { cause?: unknown }) {
    super('E_L2_UNAVAILABLE', `Redis is unavailable for ${operation} (connection ${status})`, options)
  }
}

/**
 * A durable invalidation (`RedisCache` option `durable`) that fewer replicas than asked
 * acknowledged within its `timeoutMs`: the master has it, a failover may lose it. It stays queued
 * and is sent again until enough replicas acknowledge.
 */
export class L2NotDurableError extends CacheError {
  /** Replicas that acknowledged, and how many were asked for. */
  readonly acknowledged: number
  readonly replicas: number

  constructor(operation: string, acknowledged: number, replicas: number, timeoutMs: number) {
    super(
      'E_L2_NOT_DURABLE',
      `${acknowledged} of ${replicas} replicas acknowledged ${operation} within ${timeoutMs} ms (a failover may lose it)`,
    )
    this.acknowledged = acknowledged
    this.replicas = replicas
  }
}

/** The cache was closed: what waited for it (`ready()`) will not happen. */
export class CacheClosedError extends CacheError {
  constructor(operation: string) {
    super('E_CACHE_CLOSED', `The cache is closed (${operation})`)
  }
}

/** A `cache-only` read found nothing in any tier. */
export class CacheMissError extends CacheError {
  readonly key: string

  constructor(key: string) {
    super('E_CACHE_MISS', `No cached value for ${key}`)
    this.key = key
  }
}

/** The in-process tier failed (a value it could not copy or size, for instance). */
export class L1Error extends CacheError {
  constructor(operation: string, cause: unknown) {
    super('E_L1', `The in-process cache failed to ${operation}`, { cause })
  }
}
