import type { LifetimeWindow } from '../lifetime.ts'

/**
 * The format of an entry in Redis: `header \n payload`, the header being tab-separated
 * `freshUntilMs, staleUntilMs, graceUntilMs, tag1, version1, tag2, version2, ...` (hence no tab
 * or newline in a tag), the payload the serializer's text. The SET script writes it (it reads
 * the versions of late tags itself); the GET script checks the versions; this reads the rest.
 */
export interface StoredEntry extends LifetimeWindow {
  readonly tags: readonly string[]
  readonly payload: string
}

/** The parts of a raw entry, or `undefined` when its header is not ours. */
export function decodeEntry(raw: string): StoredEntry | undefined {
  const newline = raw.indexOf('\n')
  if (newline < 0) return undefined
  const header = raw.slice(0, newline).split('\t')
  const freshUntil = Number(header[0])
  const staleUntil = Number(header[1])
  const graceUntil = Number(header[2])
  if (!(Number.isFinite(freshUntil) && Number.isFinite(staleUntil) && Number.isFinite(graceUntil))) return undefined
  const tags: string[] = []
  for (let i = 3; i < header.length; i += 2) tags.push(header[i] as string)
  return { freshUntil, staleUntil, graceUntil, tags, payload: raw.slice(newline + 1) }
}
