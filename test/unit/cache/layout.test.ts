import { describe, expect, it } from 'vitest'
import { KeyLayout } from '../../../src/cache/redis/layout.ts'

const keys = Array.from({ length: 1_000 }, (_, i) => `q:User:findUnique:${i}`)

describe('KeyLayout', () => {
  it('puts every key of a single server in group {0}, in one layout', () => {
    const layout = new KeyLayout('p', 1)
    expect(layout.entry('k')).toBe('p:{0}:k')
    expect(layout.version(0, 't')).toBe('p:{0}:#v:t')
    expect(layout.epoch(0)).toBe('p:{0}:#epoch')
    expect(layout.maxLifetime(0)).toBe('p:{0}:#ml')
    expect(layout.lock('k')).toBe('p:{0}:#lock:k')
    expect(layout.waiters('k')).toBe('p:{0}:#wait:k')
    expect(new Set(keys.map((key) => layout.group(key)))).toEqual(new Set([0]))
  })

  it("gives all the keys of one entry's scripts the hash tag of its group", () => {
    const layout = new KeyLayout('p', 16)
    for (const key of keys.slice(0, 50)) {
      const tag = `{${layout.group(key)}}`
      for (const redisKey of [
        layout.entry(key),
        layout.lock(key),
        layout.waiters(key),
        layout.epoch(layout.group(key)),
        layout.maxLifetime(layout.group(key)),
        layout.version(layout.group(key), 'm:User'),
      ])
        expect(redisKey.slice(redisKey.indexOf('{'), redisKey.indexOf('}') + 1)).toBe(tag)
    }
  })

  it('spreads keys over every group, the same way every time', () => {
    const layout = new KeyLayout('p', 16)
    const counts = new Array<number>(16).fill(0)
    for (const key of keys) counts[layout.group(key)]!++
    console.log(`[layout] 1000 keys over 16 groups: min ${Math.min(...counts)}, max ${Math.max(...counts)}`)
    expect(Math.min(...counts)).toBeGreaterThan(1_000 / 16 / 2)
    expect(Math.max(...counts)).toBeLessThan((1_000 / 16) * 2)
    expect(keys.map((key) => new KeyLayout('other', 16).group(key))).toEqual(keys.map((key) => layout.group(key)))
  })

  it('reads back the group and key of an entry, and nothing from a reserved or foreign key', () => {
    const layout = new KeyLayout('p', 16)
    const key = 'q:Post:findMany:abc{1}:x'
    expect(layout.parse(layout.entry(key))).toEqual({ group: layout.group(key), key })
    expect(layout.parse(layout.version(3, 't'))).toBeUndefined()
    expect(layout.parse(layout.lock(key))).toBeUndefined()
    expect(layout.parse('p:{99}:k')).toBeUndefined()
    expect(layout.parse('pp:{1}:k')).toBeUndefined()
    expect(layout.parse('p:k')).toBeUndefined()
  })
})
