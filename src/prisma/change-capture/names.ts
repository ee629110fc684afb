/**
 * The names change capture uses in the database: the NOTIFY channel, the trigger functions and
 * the triggers, all derived from the cache's `prefix` so that two caches with different prefixes
 * can each install their own.
 */
import { createHash } from 'node:crypto'
import { fail } from '../../core/validate.ts'

/** Options shared by the SQL generator, the CLI and the listener. */
export interface ChangeCaptureNameOptions {
  /**
   * The cache's `prefix`: names the functions (`<prefix>_capture_<table>`) and triggers
   * (`<prefix>_capture`, `<prefix>_capture_truncate`).
   * @default 'ptc'
   */
  readonly prefix?: string
  /**
   * The NOTIFY channel.
   * @default `${prefix}_changes`
   */
  readonly channel?: string
}

export interface ChangeCaptureNames {
  readonly channel: string
  readonly rowTrigger: string
  readonly truncateTrigger: string
  /** The comment on every function it creates: what the drop SQL finds them by. */
  readonly marker: string
  /** The trigger function of a table: `<prefix>_capture_[<schema>.]<table>`, shortened with a hash when too long. */
  functionOf(schema: string | undefined, table: string): string
}

/** PostgreSQL truncates names longer than this (NAMEDATALEN - 1); `pg_notify` rejects such channels. */
const MAX_NAME_BYTES = 63

/** The names for `options`; `option` names the options object in errors (`changeCapture`). */
export function changeCaptureNames(
  options: ChangeCaptureNameOptions = {},
  option = 'changeCapture',
): ChangeCaptureNames {
  const prefix = options.prefix ?? 'ptc'
  if (typeof prefix !== 'string' || !/^[A-Za-z0-9_.-]{1,46}$/.test(prefix)) {
    fail(`${option}.prefix`, '1 to 46 characters of A-Z a-z 0-9 _ . - (a PostgreSQL name holds 63 bytes)', prefix)
  }
  const channel = options.channel ?? `${prefix}_changes`
  if (
    typeof channel !== 'string' ||
    channel.length === 0 ||
    Buffer.byteLength(channel) > MAX_NAME_BYTES ||
    channel.includes('\0')
  ) {
    fail(`${option}.channel`, `a non-empty name of at most ${MAX_NAME_BYTES} bytes`, channel)
  }
  return {
    channel,
    rowTrigger: `${prefix}_capture`,
    truncateTrigger: `${prefix}_capture_truncate`,
    marker: `tiered-cache change capture (${prefix})`,
    functionOf(schema, table) {
      const base = schema === undefined ? table : `${schema}.${table}`
      const name = `${prefix}_capture_${base}`
      if (Buffer.byteLength(name) <= MAX_NAME_BYTES) return name
      const hash = createHash('sha256').update(base).digest('hex').slice(0, 8)
      let short = name
      while (Buffer.byteLength(`${short}_${hash}`) > MAX_NAME_BYTES) short = short.slice(0, -1)
      return `${short}_${hash}`
    },
  }
}

/** `name` as a quoted SQL identifier. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`

/** `text` as a SQL string literal (standard_conforming_strings, on since PostgreSQL 9.1). */
export const quoteLiteral = (text: string): string => `'${text.replace(/'/g, "''")}'`
