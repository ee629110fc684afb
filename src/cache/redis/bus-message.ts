import type { BusEvent, InvalidationCause } from '../../core/events.ts'

/** An invalidation as sent on the bus channel (`from`: the sender, which ignores its own messages). */
export interface BusMessage extends BusEvent {
  /**
   * Keys whose stampede lock was just released: instances waiting for them read L2 now instead of
   * at their next poll. Not an invalidation.
   */
  readonly unlocked?: readonly string[]
}

/** JSON with `from` first, so a receiver tells its own messages by their start (see {@link ownMessagePrefix}). */
export function encodeBusMessage(message: BusMessage): string {
  const { from, ...rest } = message
  return JSON.stringify({ from, ...rest })
}

/**
 * How every message `self` sent starts: every instance hears its own invalidations (a write is
 * followed by its own message), and this skips them without parsing.
 */
export function ownMessagePrefix(self: string): string {
  return `{"from":${JSON.stringify(self)},`
}

/** `undefined` for anything that is not a message of ours (the channel is public to the database). */
export function parseBusMessage(text: string): BusMessage | undefined {
  try {
    const data: unknown = JSON.parse(text)
    if (typeof data !== 'object' || data === null) return undefined
    const { from, tags, keys, pattern, clear, unlocked, cause } = data as Record<string, unknown>
    if (typeof from !== 'string') return undefined
    const strings = (v: unknown) => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined)
    return {
      from,
      ...(strings(tags) ? { tags: strings(tags) } : {}),
      ...(strings(keys) ? { keys: strings(keys) } : {}),
      ...(strings(pattern)?.length ? { pattern: strings(pattern) } : {}),
      ...(clear === true ? { clear: true } : {}),
      ...(strings(unlocked)?.length ? { unlocked: strings(unlocked) } : {}),
      ...(parseCause(cause) ?? {}),
    }
  } catch {
    return undefined
  }
}

/** `{ cause }` when `value` is a well-formed cause (anything else is dropped, never trusted). */
function parseCause(value: unknown): { cause: InvalidationCause } | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const { model, operation, transaction, instance } = value as Record<string, unknown>
  if (typeof operation !== 'string' || typeof transaction !== 'boolean') return undefined
  return {
    cause: {
      operation,
      transaction,
      ...(typeof model === 'string' && { model }),
      ...(typeof instance === 'string' && { instance }),
    },
  }
}
