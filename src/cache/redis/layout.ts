import { escapeGlob } from '../keys.ts'

/**
 * The one place that knows where the cache's keys are in Redis.
 *
 * Every key carries the hash tag of its entry's slot group, `{g}`, so that a script touches only
 * keys of one cluster slot: `prefix:{g}:key` (entry), `prefix:{g}:#v:tag` (tag version, one copy
 * per group), `prefix:{g}:#seq` (the sequence the group's versions are drawn from: outside `#v:`,
 * so no tag's version key is it), `prefix:{g}:#epoch`, `prefix:{g}:#ml` (max lifetime),
 * `prefix:{g}:#f:key` (the load fence of a key), `prefix:{g}:#lock:key` and `prefix:{g}:#wait:key`
 * (stampede lock); an entry's key never starts with `#`. The group of a key is a stable hash of it
 * modulo `groups`, so entries spread over `groups` slots (of a cluster's masters); a single server
 * uses one group, `{0}`. The bus channel, `prefix:#bus`, is not a key.
 */
export class KeyLayout {
  readonly prefix: string
  readonly groups: number
  readonly #bases: readonly string[]

  constructor(prefix: string, groups: number) {
    this.prefix = prefix
    this.groups = groups
    this.#bases = Array.from({ length: groups }, (_, g) => `${prefix}:{${g}}:`)
  }

  /** The slot group of a cache key: FNV-1a over its UTF-16 code units, modulo `groups`. */
  group(key: string): number {
    if (this.groups === 1) return 0
    let hash = 0x811c9dc5
    for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193)
    return (hash >>> 0) % this.groups
  }

  /** `prefix:{g}:`, what every key of group `g` starts with. */
  base(group: number): string {
    return this.#bases[group] as string
  }

  entry(key: string): string {
    return this.base(this.group(key)) + key
  }

  /** What a tag's name is appended to for its version key in group `group`. */
  versionPrefix(group: number): string {
    return `${this.base(group)}#v:`
  }

  version(group: number, tag: string): string {
    return this.versionPrefix(group) + tag
  }

  /** The sequence the versions of group `group` are drawn from (docs/design.md, "Ordered versions"). */
  sequence(group: number): string {
    return `${this.base(group)}#seq`
  }

  epoch(group: number): string {
    return `${this.base(group)}#epoch`
  }

  maxLifetime(group: number): string {
    return `${this.base(group)}#ml`
  }

  /** The load fence of `key` (docs/design.md, "Keys and clears"). */
  fence(key: string): string {
    return `${this.base(this.group(key))}#f:${key}`
  }

  lock(key: string): string {
    return `${this.base(this.group(key))}#lock:${key}`
  }

  waiters(key: string): string {
    return `${this.base(this.group(key))}#wait:${key}`
  }

  /** The glob of every key of this prefix whose part after `{g}:` matches `glob`. */
  glob(glob: string): string {
    return `${escapeGlob(this.prefix)}:{*}:${glob}`
  }

  /** The group and cache key of an entry's Redis key; `undefined` for anything else (`#` keys included). */
  parse(redisKey: string): { group: number; key: string } | undefined {
    const start = this.prefix.length + 2
    if (!redisKey.startsWith(`${this.prefix}:{`)) return undefined
    const end = redisKey.indexOf('}:', start)
    if (end < 0) return undefined
    const group = Number(redisKey.slice(start, end))
    if (!(Number.isInteger(group) && group >= 0 && group < this.groups && this.base(group).length === end + 2))
      return undefined
    const key = redisKey.slice(end + 2)
    return key.startsWith('#') ? undefined : { group, key }
  }
}
