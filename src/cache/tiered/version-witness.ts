import type { MemoryCache } from '../memory.ts'
import type { RedisCache } from '../redis/redis-cache.ts'

/**
 * Tells whether any of some tags was invalidated between two moments, by any instance: what a
 * write that reads before it runs needs, to know that nothing changed what it read before it wrote
 * (a delete reads the links it is about to remove, so that it invalidates the linked records'
 * lists rather than every list of their model; docs/design.md, "Deletes read their links").
 *
 * Sound for that use: a write that changed what was read committed after the snapshot and bumps
 * one of the tags after its commit. Seen by `unchanged` (after the reader's own write committed),
 * the reader falls back to wide tags; not seen yet, the other write's own bump comes later than
 * every read that could have cached the state in between captured its versions, so that bump evicts
 * or refuses them.
 */
export interface VersionWitness {
  /** The versions of `tags` now; `undefined` when they cannot be read (then nothing can be told). */
  snapshot(tags: readonly string[]): Promise<VersionSnapshot | undefined>
  /**
   * The tags of `snapshot` invalidated since it was taken (empty: none); `undefined` when that
   * cannot be told (every tag may have moved).
   */
  moved(snapshot: VersionSnapshot): Promise<ReadonlySet<string> | undefined>
}

export interface VersionSnapshot {
  readonly tags: readonly string[]
  /** L2: the versions of every slot group (an invalidation bumps the groups in no set order); L1: its clock. */
  readonly at: readonly string[] | number
}

/**
 * The witness of a cache: L2's versions when it has L2 (every instance's writes reach them), L1's
 * clock when the cache is in-process only (no other instance can write unseen); none with Redis as
 * a bus alone (another instance's invalidation reaches this L1 late), nor without any tier.
 */
export function versionWitness(
  l1: MemoryCache | undefined,
  l2: RedisCache | undefined,
  bus: boolean,
  l2Usable: () => boolean = () => true,
): VersionWitness | undefined {
  if (l2 !== undefined) return l2Witness(l2, l2Usable)
  if (l1 !== undefined && !bus) return l1Witness(l1)
  return undefined
}

function l1Witness(l1: MemoryCache): VersionWitness {
  return {
    snapshot: async (tags) => ({ tags, at: l1.capture() }),
    moved: async ({ tags, at }) => {
      if (typeof at !== 'number') return undefined
      return new Set(tags.filter((tag) => l1.tagsMovedSince(at, [tag])))
    },
  }
}

/** `usable`: whether L2 may be asked now (its breaker closed); when not, nothing is snapshotted and no call waits. */
function l2Witness(l2: RedisCache, usable: () => boolean): VersionWitness {
  // One key of each slot group: a capture reads the versions of the group of its key.
  const keys: string[] = []
  for (let i = 0, found = new Set<number>(); found.size < l2.layout.groups; i++) {
    const key = `tieredCache:witness:${i}`
    const group = l2.layout.group(key)
    if (!found.has(group)) {
      found.add(group)
      keys.push(key)
    }
  }
  // Per group: its epoch, then the version of each tag.
  const read = async (tags: readonly string[]): Promise<string[]> => {
    const captures = await Promise.all(keys.map((key) => l2.capture(tags, key)))
    return captures.flatMap((c) => [c.epoch, ...tags.map((tag) => c.versions.get(tag) ?? '')])
  }
  return {
    snapshot: async (tags) => {
      if (!usable()) return undefined
      try {
        return { tags, at: await read(tags) }
      } catch {
        return undefined
      }
    },
    moved: async ({ tags, at }) => {
      if (typeof at === 'number') return undefined
      let now: string[]
      try {
        now = await read(tags)
      } catch {
        return undefined
      }
      if (now.length !== at.length) return undefined
      const moved = new Set<string>()
      const width = tags.length + 1
      for (let g = 0; g < keys.length; g++) {
        // A new epoch (Redis restarted or flushed): every version may have moved.
        if (now[g * width] !== at[g * width] || now[g * width] === '') return undefined
        tags.forEach((tag, i) => {
          const v = now[g * width + 1 + i]
          if (v === '' || v !== at[g * width + 1 + i]) moved.add(tag)
        })
      }
      return moved
    },
  }
}
