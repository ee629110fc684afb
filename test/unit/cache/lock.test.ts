import { describe, expect, it } from 'vitest'
import { StampedeLock } from '../../../src/cache/lock.ts'
import { deferred, manualClock } from './support.ts'

/** A sleep that never ends by itself: the test moves the clock and wakes it, or `notify` does. */
function controlledSleep() {
  const pauses: Array<{ ms: number; end: () => void }> = []
  const sleep = (ms: number) => {
    const { promise, resolve } = deferred()
    pauses.push({ ms, end: resolve })
    return promise
  }
  return { sleep, pauses }
}

/** Lets every pending promise callback run. */
const settle = () => new Promise((resolve) => setImmediate(resolve))

describe('StampedeLock', () => {
  it('gives every token once, so a release only ever deletes its own lock', () => {
    const a = new StampedeLock()
    const b = new StampedeLock()
    const tokens = new Set([a.token(), a.token(), b.token(), b.token()])
    expect(tokens.size).toBe(4)
  })

  it('polls with a doubling pause, capped, until the poll answers', async () => {
    const { sleep, pauses } = controlledSleep()
    const lock = new StampedeLock({ waitMs: 10_000, minPollMs: 2, maxPollMs: 16, sleep })
    let polls = 0
    const waiting = lock.wait('k', async () => (++polls === 6 ? 'value' : undefined))
    for (let i = 0; i < 6; i++) {
      await settle()
      pauses[i]!.end()
    }
    expect(await waiting).toMatchObject({ result: 'value' })
    expect(pauses.map((p) => p.ms)).toEqual([2, 4, 8, 16, 16, 16])
  })

  it('wakes a waiter at once when the holder announces its release, without waiting out the pause', async () => {
    const { sleep } = controlledSleep()
    const lock = new StampedeLock({ waitMs: 10_000, sleep })
    const waiting = lock.wait('k', async () => 'filled')
    await settle()
    lock.notify(['other'])
    await settle()
    expect(lock.waiting).toBe(1)
    lock.notify(['k'])
    expect(await waiting).toMatchObject({ result: 'filled' })
    expect(lock.waiting).toBe(0)
  })

  it('still wakes on a release announced while a poll is in flight', async () => {
    const { sleep } = controlledSleep()
    const lock = new StampedeLock({ waitMs: 10_000, sleep })
    const inFlight = deferred<string | undefined>()
    let polls = 0
    const waiting = lock.wait('k', () => (++polls === 1 ? inFlight.promise : Promise.resolve('filled')))
    await settle()
    lock.notify(['k'])
    await settle()
    // The first poll has not answered yet; the holder releases now.
    lock.notify(['k'])
    inFlight.resolve(undefined)
    expect(await waiting).toMatchObject({ result: 'filled' })
    expect(polls).toBe(2)
  })

  it('gives up after waitMs with no result, so the caller loads by itself', async () => {
    const clock = manualClock()
    const { sleep, pauses } = controlledSleep()
    const lock = new StampedeLock({ waitMs: 100, minPollMs: 40, maxPollMs: 40, now: clock.now, sleep })
    let polls = 0
    const waiting = lock.wait('k', async () => {
      polls++
      return undefined
    })
    for (let i = 0; i < 3; i++) {
      await settle()
      clock.advance(40)
      pauses[i]!.end()
    }
    expect(await waiting).toEqual({ result: undefined, waitedMs: 120 })
    // The third pause was cut to what remained of the wait (20 ms).
    expect(pauses.map((p) => p.ms)).toEqual([40, 40, 20])
    expect(polls).toBe(3)
    expect(lock.waiting).toBe(0)
  })

  it('rejects a wait that is not a positive number with a TypeError naming it', () => {
    expect(() => new StampedeLock({ waitMs: 0 })).toThrow(/waitMs/)
    expect(() => new StampedeLock({ minPollMs: -1 })).toThrow(TypeError)
  })
})
