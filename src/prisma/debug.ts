import type { CacheEventMap, CacheEventSink, InvalidationCause } from '../core/events.ts'
import { keyHash } from './key-hash.ts'

/** Where debug lines go: `console.error`, or the `debug` option's function. */
export type DebugLogger = (line: string) => void

/**
 * Whether `DEBUG` (the `debug` package's convention: names separated by commas or spaces, `*`
 * wildcards, `-name` to exclude) turns on `tiered-cache`.
 */
export function debugFromEnvironment(value: string | undefined): boolean {
  let on = false
  for (const name of value?.split(/[\s,]+/) ?? []) {
    const excluded = name.startsWith('-')
    const pattern = excluded ? name.slice(1) : name
    const matches =
      pattern === 'tiered-cache' ||
      pattern === 'tiered-cache:*' ||
      (pattern.endsWith('*') && 'tiered-cache'.startsWith(pattern.slice(0, -1)))
    if (!matches) continue
    if (excluded) return false
    on = true
  }
  return on
}

/** Shown for a list of tags: the first few, then how many more. */
const SHOWN_TAGS = 5

function tagList(tags: readonly string[]): string {
  const shown = tags.slice(0, SHOWN_TAGS).join(' ')
  return tags.length > SHOWN_TAGS ? `${shown} (+${tags.length - SHOWN_TAGS} more)` : shown
}

function causeText(cause: InvalidationCause | undefined): string {
  if (cause === undefined) return ''
  const what = cause.model === undefined ? cause.operation : `${cause.model}.${cause.operation}`
  return ` by ${what}${cause.transaction ? ' in a transaction' : ''}${cause.instance ? ` on ${cause.instance}` : ''}`
}

const read = (event: { readonly model?: string; readonly operation?: string }) =>
  event.model === undefined ? '' : ` ${event.model}.${event.operation}`

/**
 * One line per event worth a developer's attention, or `undefined` for the others. Keys appear as
 * their hash (key-hash.ts), as in spans: `$cache.explain()` gives a read's key and its hash.
 */
export function debugLine(name: string, payload: unknown): string | undefined {
  switch (name) {
    case 'hit': {
      const event = payload as CacheEventMap['hit']
      return `hit ${event.tier}${read(event)} key #${keyHash(event.key)}`
    }
    case 'miss': {
      const event = payload as CacheEventMap['miss']
      return `miss${read(event)} key #${keyHash(event.key)}`
    }
    case 'set:skipped': {
      const event = payload as CacheEventMap['set:skipped']
      return `not stored in ${event.tier} key #${keyHash(event.key)}: ${event.reason} (${event.detail})`
    }
    case 'invalidate': {
      const event = payload as CacheEventMap['invalidate']
      const keys = event.keys?.length ? ` keys ${event.keys.map((key) => `#${keyHash(key)}`).join(' ')}` : ''
      const tags = event.tags.length > 0 ? ` tags ${tagList(event.tags)}` : ''
      return `invalidate${tags}${keys}${causeText(event.cause)}`
    }
    case 'bus': {
      const event = payload as CacheEventMap['bus']
      const what = event.clear
        ? ' clear'
        : `${event.tags?.length ? ` tags ${tagList(event.tags)}` : ''}${event.keys?.length ? ` ${event.keys.length} keys` : ''}${event.pattern ? ` pattern ${event.pattern.join(' ')}` : ''}`
      return `bus from ${event.from}:${what}${causeText(event.cause)}`
    }
    case 'error': {
      const event = payload as CacheEventMap['error']
      const error = event.error
      return `error in ${event.tier}: ${error instanceof Error ? error.message : String(error)}`
    }
    case 'bus:down':
      return 'bus down: L1 not trusted until it is back'
    case 'bus:up':
      return 'bus up: L1 emptied and trusted'
    case 'breaker:open':
      return `L2 breaker open after ${(payload as CacheEventMap['breaker:open']).failures} failures`
    default:
      return undefined
  }
}

/** An events sink that logs `tiered-cache <line>` for each event {@link debugLine} describes, then passes it on. */
export function debugSink(log: DebugLogger, next: CacheEventSink | undefined): CacheEventSink {
  return {
    emit: (name: string, payload: unknown) => {
      const line = debugLine(name, payload)
      if (line !== undefined) {
        try {
          log(`tiered-cache ${line}`)
        } catch {
          // A logger's failure must not fail a read.
        }
      }
      if (next !== undefined && !(name === 'error' && next.listenerCount?.('error') === 0)) next.emit(name, payload)
    },
    // Errors are logged here, so they are heard.
    listenerCount: () => 1,
  }
}
