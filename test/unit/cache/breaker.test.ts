import { describe, expect, it } from 'vitest'
import { CircuitBreaker } from '../../../src/cache/breaker.ts'
import { manualClock } from './support.ts'

describe('CircuitBreaker', () => {
  it('opens after the threshold of consecutive failures and lets a probe through after the cool-down', () => {
    const clock = manualClock()
    const events: string[] = []
    const breaker = new CircuitBreaker({
      threshold: 3,
      coolDownMs: 1_000,
      now: clock.now,
      onOpen: (failures) => events.push(`open:${failures}`),
      onClose: () => events.push('close'),
    })
    breaker.failure()
    breaker.success()
    breaker.failure()
    breaker.failure()
    expect(breaker.allows()).toBe(true)
    breaker.failure()
    expect(breaker.allows()).toBe(false)
    breaker.failure() // a call made before it opened: no new cool-down
    clock.advance(1_000)
    expect(breaker.allows()).toBe(true)
    breaker.failure() // the probe failed
    expect(breaker.allows()).toBe(false)
    clock.advance(1_000)
    breaker.success()
    expect(breaker.allows()).toBe(true)
    expect(breaker.open).toBe(false)
    expect(events).toEqual(['open:3', 'open:5', 'close'])
  })
})
