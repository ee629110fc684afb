import { describe, expect, it } from 'vitest'
import { encodeBusMessage, ownMessagePrefix, parseBusMessage } from '../../../src/cache/redis/bus-message.ts'

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

  it("tells a sender's own messages by their start, and no other instance's, whatever the fields' order", () => {
    const own = ownMessagePrefix('abc')
    expect(encodeBusMessage({ tags: ['t'], from: 'abc' } as never).startsWith(own)).toBe(true)
    expect(encodeBusMessage({ from: 'abc', unlocked: ['k'] }).startsWith(own)).toBe(true)
    expect(encodeBusMessage({ from: 'abcd', tags: ['t'] }).startsWith(own)).toBe(false)
    expect(encodeBusMessage({ from: 'ab', tags: ['t'] }).startsWith(own)).toBe(false)
    expect(encodeBusMessage({ from: 'a"bc', tags: ['t'] }).startsWith(ownMessagePrefix('a"bc'))).toBe(true)
  })
})
