import { describe, expect, it } from 'vitest'
import { encodeBusMessage, parseBusMessage } from '../../../src/cache/redis/bus-message.ts'

describe('bus messages', () => {
  it('round-trip tags, keys, patterns and clears with their sender', () => {
    const message = { from: 'abc', tags: ['t'], keys: ['k'], pattern: ['p:*'], clear: true }
    expect(parseBusMessage(encodeBusMessage(message))).toEqual(message)
  })

  it('ignores anything that is not one of its messages', () => {
    expect(parseBusMessage('hello')).toBeUndefined()
    expect(parseBusMessage('{"tags":["t"]}')).toBeUndefined()
    expect(parseBusMessage('null')).toBeUndefined()
    expect(parseBusMessage('{"from":"x","tags":[1],"clear":"yes"}')).toEqual({ from: 'x' })
  })
})
