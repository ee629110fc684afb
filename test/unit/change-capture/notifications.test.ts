import { describe, expect, it } from 'vitest'
import { ChangeCaptureError } from '../../../src/prisma/change-capture/errors.ts'
import { parseChange } from '../../../src/prisma/change-capture/notifications.ts'

describe('parseChange', () => {
  it('reads the payloads the trigger function writes (jsonb text, keys in any order)', () => {
    expect(
      parseChange('{"c": ["id"], "k": ["5"], "s": "public", "t": "User", "v": 1, "ok": ["1"], "op": "U"}'),
    ).toEqual({
      schema: 'public',
      table: 'User',
      operation: 'update',
      key: ['5'],
      oldKey: ['1'],
      changed: ['id'],
    })
    expect(
      parseChange('{"f": {"authorId": ["5", null]}, "k": ["1"], "s": "public", "t": "Post", "v": 1, "op": "D"}'),
    ).toEqual({
      schema: 'public',
      table: 'Post',
      operation: 'delete',
      key: ['1'],
      foreignKeys: { authorId: ['5', null] },
    })
    expect(parseChange('{"s":"auth","t":"_AToB","v":1,"op":"I","k":["1",null]}')).toEqual({
      schema: 'auth',
      table: '_AToB',
      operation: 'insert',
      key: ['1', null],
    })
    expect(parseChange('{"s":"public","t":"Tag","v":1,"op":"T"}')).toEqual({
      schema: 'public',
      table: 'Tag',
      operation: 'truncate',
    })
  })

  it.each([
    ['', 'not JSON'],
    ['null', 'not an object'],
    ['[1]', 'not an object'],
    ['{"s":"public","t":"Tag","op":"I"}', 'unknown version undefined'],
    ['{"v":2,"s":"public","t":"Tag","op":"I"}', 'unknown version 2'],
    ['{"v":1,"t":"Tag","op":"I"}', 'no schema, table or operation'],
    ['{"v":1,"s":"public","t":"Tag","op":"X"}', 'no schema, table or operation'],
    ['{"v":1,"s":"public","t":"Tag","op":"I","k":[1]}', 'k is not an array of strings'],
    ['{"v":1,"s":"public","t":"Tag","op":"U","k":["1"],"c":[null]}', 'c holds a null'],
    ['{"v":1,"s":"public","t":"Tag","op":"U","k":["1"],"f":[]}', 'f is not an object'],
    ['{"v":1,"s":"public","t":"Tag","op":"U","k":["1"],"f":{"a":["1"]}}', 'f holds a value that is not [old, new]'],
  ])('rejects %j: %s', (payload, reason) => {
    expect(() => parseChange(payload)).toThrow(ChangeCaptureError)
    expect(() => parseChange(payload)).toThrow(reason)
  })

  it('shows at most 200 characters of a long malformed payload', () => {
    const error = (() => {
      try {
        parseChange(`{"v":2,"pad":"${'x'.repeat(5000)}"}`)
      } catch (e) {
        return e as ChangeCaptureError
      }
    })()
    expect(error?.code).toBe('E_CHANGE_CAPTURE')
    expect(error?.message.length).toBeLessThan(300)
  })
})
