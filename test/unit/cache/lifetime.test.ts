import { describe, expect, it } from 'vitest'
import { capL1Lifetime, capL2Lifetime, lifetime, remainingAt, totalMs, windowAt } from '../../../src/cache/lifetime.ts'

describe('lifetime', () => {
  it('keeps a life shorter than the cap whole, stale and grace windows included', () => {
    const life = lifetime(30, 10, 5)
    for (const cap of [capL1Lifetime, capL2Lifetime]) {
      expect(cap(life, 60_000)).toEqual({ ttlMs: 30_000, swrMs: 10_000, graceMs: 5_000 })
      expect(cap(life, 30_000)).toBe(life)
    }
  })

  it('cuts a longer life to the L1 cap, drops its stale window and keeps its grace window', () => {
    expect(capL1Lifetime(lifetime(300, 60, 120), 60_000)).toEqual({ ttlMs: 60_000, swrMs: 0, graceMs: 120_000 })
  })

  it('cuts a longer life to the L2 cap and keeps its stale and grace windows: min(ttl, l2Ttl) + swr', () => {
    expect(capL2Lifetime(lifetime(300, 60, 120), 60_000)).toEqual({ ttlMs: 60_000, swrMs: 60_000, graceMs: 120_000 })
  })

  it('turns a life into instants and back', () => {
    const window = windowAt(1_000, lifetime(2, 3, 4))
    expect(window).toEqual({ freshUntil: 3_000, staleUntil: 6_000, graceUntil: 10_000 })
    expect(remainingAt(2_000, window)).toEqual({ ttlMs: 1_000, swrMs: 3_000, graceMs: 4_000 })
    expect(totalMs(lifetime(2, 3, 4))).toBe(9_000)
  })

  it('leaves a past fresh time negative, so a tier refuses to store it', () => {
    const left = remainingAt(5_000, windowAt(0, lifetime(1, 10)))
    expect(left.ttlMs).toBe(-4_000)
    expect(capL1Lifetime(left, 60_000).ttlMs).toBeLessThan(0)
    expect(capL2Lifetime(left, 60_000).ttlMs).toBeLessThan(0)
  })
})
