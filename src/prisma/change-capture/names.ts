/**
 * The names change capture uses in the database: the NOTIFY channel, the trigger function and the
 * triggers, all derived from the cache's `prefix` so that two caches with different prefixes can
 * each install their own.
 */
import { fail } from '../../core/validate.ts'

/** Options shared by the SQL generator, the CLI and the listener. */
export interface ChangeCaptureNameOptions {
  /**
   * The cache's `prefix`: names the function (`<prefix>_capture_change`) and triggers
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
  readonly functionName: string
  readonly rowTrigger: string
  readonly truncateTrigger: string
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
    functionName: `${prefix}_capture_change`,
    rowTrigger: `${prefix}_capture`,
    truncateTrigger: `${prefix}_capture_truncate`,
  }
}

/** `name` as a quoted SQL identifier. */
export const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`

/** `text` as a SQL string literal (standard_conforming_strings, on since PostgreSQL 9.1). */
export const quoteLiteral = (text: string): string => `'${text.replace(/'/g, "''")}'`
