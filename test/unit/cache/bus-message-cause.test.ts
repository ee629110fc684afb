import { describe, expect, it } from 'vitest'
import { encodeBusMessage, parseBusMessage } from '../../../src/cache/redis/bus-message.ts'

describe('the cause in a bus message', () => {
  it('round-trips', () => {
    const cause = { model: 'User', operation: 'update', transaction: false, instance: 'abc' }
    expect(parseBusMessage(encodeBusMessage({ from: 'abc', tags: ['m:User'], cause }))).toEqual({
      from: 'abc',
      tags: ['m:User'],
      cause,
    })
  })

  it('is dropped when malformed, and the invalidation kept', () => {
    const text = JSON.stringify({ from: 'abc', tags: ['m:User'], cause: { operation: 1, transaction: 'no' } })
    expect(parseBusMessage(text)).toEqual({ from: 'abc', tags: ['m:User'] })
  })
})
