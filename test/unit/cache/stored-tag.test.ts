import { describe, expect, it } from 'vitest'
import { storedTag, storedTags } from '../../../src/cache/stored-tag.ts'

describe('stored tags', () => {
  it('keeps a tag of up to 256 characters as it is', () => {
    for (const tag of ['m:User', 'r:User:1', '#x', 'x'.repeat(256)]) expect(storedTag(tag)).toBe(tag)
  })

  it('keeps a longer tag as a fixed-length hash, the same in every process and release', () => {
    // A literal: any change to the form would strand every version stored under the old one.
    expect(storedTag(`u:${'x'.repeat(256)}`)).toBe('#dCoORToug7I1drVQC_czDHq_vupTq9UpJynlNEl3N1s')
    expect(storedTag('y'.repeat(10_000))).toHaveLength(44)
    expect(storedTag(`u:${'x'.repeat(257)}`)).not.toBe(storedTag(`u:${'x'.repeat(256)}`))
  })

  it('is idempotent, so each layer may apply it', () => {
    const long = `r:Document:"${'a'.repeat(300)}"`
    expect(storedTag(storedTag(long))).toBe(storedTag(long))
  })

  it('returns the same array when no tag changes, and a mapped copy otherwise', () => {
    const short = ['a', 'b']
    expect(storedTags(short)).toBe(short)
    const long = ['a', 'z'.repeat(300)]
    expect(storedTags(long)).toEqual(['a', storedTag('z'.repeat(300))])
    expect(long[1]).toHaveLength(300)
  })
})
