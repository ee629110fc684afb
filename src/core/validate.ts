import { CacheOptionError } from './errors.ts'

/**
 * The one validator of every option and argument: each check names what it checks (`l1.max`,
 * `cache.ttl`, `invalidate.keys`) and throws a {@link CacheOptionError} (a `TypeError`) that says
 * what was expected and what came.
 */

/** Throws the error of `name`: `name: expected, got value`. */
export function fail(name: string, expected: string, value: unknown): never {
  throw new CacheOptionError(name, `${expected}, got ${describe(value)}`)
}

/** A short, safe rendering of a bad value for an error message. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'bigint') return `${value}n`
  if (typeof value === 'function') return 'a function'
  if (value === null || typeof value !== 'object') return String(value)
  return Array.isArray(value) ? 'an array' : 'an object'
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** An object (or `fallback` when absent) whose keys are all in `allowed`. */
export function object(
  name: string,
  value: unknown,
  allowed: ReadonlySet<string> | undefined,
  expected = 'an object',
): Record<string, unknown> {
  if (!isPlainObject(value)) return fail(name, expected, value)
  if (allowed) onlyKeys(name, value, allowed)
  return value
}

export function onlyKeys(name: string, value: Record<string, unknown>, allowed: ReadonlySet<string>): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) fail(`${name}.${key}`, `one of ${[...allowed].join(', ')}`, 'an unknown option')
  }
}

/** A finite number of seconds `>= min` (0 unless said), or `fallback` when absent. */
export function seconds(name: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || (min > 0 && value === 0)) {
    return fail(name, min > 0 ? 'a finite number of seconds > 0' : 'a finite number of seconds >= 0', value)
  }
  return value
}

/** An integer `>= min` (1 unless said), or `fallback` when absent. */
export function integer(name: string, value: unknown, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    return fail(name, `an integer >= ${min}`, value)
  }
  return value
}

/** A finite number `>= min`, or `fallback` when absent. */
export function number(name: string, value: unknown, fallback: number, min = 0): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    return fail(name, `a finite number >= ${min}`, value)
  }
  return value
}

export function bool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') return fail(name, 'a boolean', value)
  return value
}

export function func<F extends (...args: never[]) => unknown>(
  name: string,
  value: unknown,
  expected = 'a function',
): F {
  if (typeof value !== 'function') return fail(name, expected, value)
  return value as F
}

/** Longest tag, in characters. */
export const MAX_TAG_LENGTH = 256
/** Longest key given by a caller (`cache.key`, `wrap()`, `invalidate({ keys })`), in characters. */
export const MAX_KEY_LENGTH = 512
const CONTROL = /[\t\n\r]/

/**
 * The one rule for a tag, wherever it comes from (a query, a policy, `invalidate`, the lower
 * layer): a non-empty string of at most 256 characters without tabs or newlines (tags are stored
 * in Redis key names and in tab-separated headers).
 */
export function tag(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TAG_LENGTH || CONTROL.test(value)) {
    return fail(name, `non-empty strings of at most ${MAX_TAG_LENGTH} characters without tabs or newlines`, value)
  }
  return value
}

/** An array of tags (see {@link tag}), or `[]` when absent. */
export function tags(name: string, value: unknown): readonly string[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) return fail(name, 'an array of strings', value)
  for (const item of value) tag(name, item)
  return value as readonly string[]
}

/**
 * A tag as the cache layer takes it (from the Prisma layer or a caller of `TieredCache` or
 * `RedisCache`): a non-empty string without tabs or newlines, of any length. Looser than
 * {@link tag}, the limit of what users give, since the layer above builds longer tags from them
 * (`u:` and a 256-character tag, a record's long id); the cache layer keeps a long one as a
 * fixed-length hash (cache/stored-tag.ts).
 */
export function cacheTag(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || CONTROL.test(value)) {
    return fail(name, 'non-empty strings without tabs or newlines', value)
  }
  return value
}

/** An array of tags of the cache layer (see {@link cacheTag}), or `[]` when absent. */
export function cacheTags(name: string, value: unknown): readonly string[] {
  if (value === undefined) return []
  if (!Array.isArray(value)) return fail(name, 'an array of strings', value)
  for (const item of value) cacheTag(name, item)
  return value as readonly string[]
}

/** A caller's key: a non-empty string of at most 512 characters without tabs or newlines. */
export function key(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY_LENGTH || CONTROL.test(value)) {
    return fail(name, `a non-empty string of at most ${MAX_KEY_LENGTH} characters without tabs or newlines`, value)
  }
  return value
}

/** One of `allowed`. */
export function oneOf<T extends string>(name: string, value: unknown, allowed: ReadonlySet<T>): T {
  if (typeof value !== 'string' || !allowed.has(value as T))
    return fail(name, `one of ${[...allowed].join(', ')}`, value)
  return value as T
}

/** A finite number `> 0` (seconds, milliseconds, bytes), or `fallback` when absent. */
export function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || !(value > 0)) {
    return fail(name, 'a finite number > 0', value)
  }
  return value
}

/**
 * A key of the cache layer (`TieredCache`, `RedisCache`, `MemoryCache` through them): any string
 * outside the `#` space, which the Redis layout reserves for tag versions, locks and the epoch.
 * Looser than {@link key}: the Prisma layer builds these from a caller's key, hashed arguments and context.
 */
export function entryKey(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.startsWith('#')) {
    return fail(name, "a string not starting with '#' (reserved)", value)
  }
  return value
}
