/**
 * The one place where an entry's lifetime becomes instants and where a tier cuts it short
 * (docs/design.md, "Lifetimes"). Every tier keeps an entry fresh for min(its ttl, the tier's most).
 */

/** How long an entry lives, in milliseconds: fresh, then served stale while one refresh runs, then kept as a fallback. */
export interface Lifetime {
  readonly ttlMs: number
  readonly swrMs: number
  readonly graceMs: number
}

/** The same as instants (milliseconds of the cache's clock). */
export interface LifetimeWindow {
  readonly freshUntil: number
  readonly staleUntil: number
  readonly graceUntil: number
}

/** A lifetime from the seconds a caller gives (`ttl`, `swr`, `grace`); absent windows are 0. */
export function lifetime(ttl: number, swr = 0, grace = 0): Lifetime {
  return { ttlMs: ttl * 1000, swrMs: swr * 1000, graceMs: grace * 1000 }
}

/**
 * The part of `life` L2 holds when it keeps a value fresh for at most `maxTtlMs`: fresh for
 * min(ttl, max), then the whole stale window and the grace window (the README's promise: an L2
 * entry lives min(ttl, l2Ttl) plus its swr).
 */
export function capL2Lifetime(life: Lifetime, maxTtlMs: number): Lifetime {
  if (life.ttlMs <= maxTtlMs) return life
  return { ttlMs: maxTtlMs, swrMs: life.swrMs, graceMs: life.graceMs }
}

/**
 * The part of `life` L1 holds when it keeps a value fresh for at most `maxTtlMs`: fresh for
 * min(ttl, max); the stale window only when the cap did not cut the fresh time short (`l1Ttl`
 * bounds how long an instance that missed a bus message serves an old value, so a value cut short
 * is read again from L2 or loaded, not served stale past the cap); the grace window whole, after it.
 */
export function capL1Lifetime(life: Lifetime, maxTtlMs: number): Lifetime {
  if (life.ttlMs <= maxTtlMs) return life
  return { ttlMs: maxTtlMs, swrMs: 0, graceMs: life.graceMs }
}

/** The instants of a lifetime that starts at `now`. */
export function windowAt(now: number, life: Lifetime): LifetimeWindow {
  const freshUntil = now + life.ttlMs
  const staleUntil = freshUntil + life.swrMs
  return { freshUntil, staleUntil, graceUntil: staleUntil + life.graceMs }
}

/** What is left at `now` of an entry's window (its fresh time may be negative: past). */
export function remainingAt(now: number, window: LifetimeWindow): Lifetime {
  return {
    ttlMs: window.freshUntil - now,
    swrMs: window.staleUntil - window.freshUntil,
    graceMs: Math.max(0, window.graceUntil - window.staleUntil),
  }
}

/** Milliseconds from the start to the end of a lifetime: the Redis expiry of an entry. */
export function totalMs(life: Lifetime): number {
  return life.ttlMs + life.swrMs + life.graceMs
}

/** A lifetime in the seconds `MemoryCache.set` and `RedisCache.set` take. */
export function inSeconds(life: Lifetime): { readonly ttl: number; readonly swr: number; readonly grace: number } {
  return { ttl: life.ttlMs / 1000, swr: life.swrMs / 1000, grace: life.graceMs / 1000 }
}
