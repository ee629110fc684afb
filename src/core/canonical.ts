/**
 * Canonical text of query arguments and record identities, for cache keys and tags.
 *
 * Two values get the same text exactly when Prisma would treat them as the same argument:
 * object keys are sorted, `undefined` properties (and `Prisma.skip`) are dropped, and values
 * that JSON would flatten into strings or `{}` (`Date`, `bigint`, `Decimal`, bytes, `Prisma.DbNull`)
 * get tagged forms such as `{"$date":"…"}`. A user key starting with `$` is written with one more
 * `$`, so user data can never spell a tagged form.
 *
 * Hand-written rather than `JSON.stringify` of a sorted copy: it runs on every cached read.
 */

import { isDecimal } from './values.ts'

const PRISMA_OBJECT_ENUM_VALUE = Symbol.for('prisma.objectEnumValue')

/** The canonical text of a JSON-like value (see the module comment). */
export function canonical(value: unknown): string {
  return encode(value)
}

/**
 * The identity of one record from its primary-key values, as it appears in a record tag.
 * Each value is written so that no two types can meet (`1`, `1n`, `"1"`, `@2026-01-01T00:00:00.000Z`)
 * and strings are JSON-escaped, so a tag never holds a raw tab, newline or unbalanced comma.
 */
export function recordId(values: readonly unknown[]): string {
  let out = ''
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += ','
    out += identityPart(values[i])
  }
  return out
}

function identityPart(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return Number.isFinite(value) ? (value === 0 ? '0' : String(value)) : encode(value)
    case 'string':
      return JSON.stringify(value)
    case 'bigint':
      return `${value}n`
    case 'boolean':
      return value ? 'true' : 'false'
    case 'object':
      if (value === null) return 'null'
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? '@invalid' : `@${value.toISOString()}`
      if (value instanceof Uint8Array) return `#${base64(value)}`
      if (isDecimal(value)) return `~${String(value)}`
      return encode(value)
    default:
      return encode(value)
  }
}

function encode(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value)
    case 'number':
      if (Number.isFinite(value)) return value === 0 ? '0' : String(value)
      return `{"$number":"${value}"}`
    case 'boolean':
      return value ? 'true' : 'false'
    case 'bigint':
      return `{"$bigint":"${value}"}`
    case 'object':
      if (value === null) return 'null'
      return Array.isArray(value) ? encodeArray(value) : encodeObject(value)
    default:
      // undefined, functions and symbols have no JSON form; inside objects they are dropped.
      return '{"$undefined":true}'
  }
}

function encodeArray(items: readonly unknown[]): string {
  let out = '['
  for (let i = 0; i < items.length; i++) {
    if (i > 0) out += ','
    out += encode(items[i])
  }
  return `${out}]`
}

function encodeObject(value: object): string {
  const proto = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) return encodePlain(value as Record<string, unknown>)
  return encodeInstance(value)
}

/** An object of a class: the tagged forms, else its JSON form or its own properties. */
function encodeInstance(value: object): string {
  if (value instanceof Date) {
    const time = value.getTime()
    return Number.isNaN(time) ? '{"$date":null}' : `{"$date":"${value.toISOString()}"}`
  }
  if (value instanceof Uint8Array) return `{"$bytes":"${base64(value)}"}`
  if (isDecimal(value)) return `{"$decimal":"${String(value)}"}`
  if ((value as Record<symbol, unknown>)[PRISMA_OBJECT_ENUM_VALUE] === true) {
    const name = (value as { _getName?: () => string })._getName?.() ?? value.constructor?.name ?? ''
    return `{"$enum":${JSON.stringify(name)}}`
  }
  if (ArrayBuffer.isView(value)) {
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
    return `{"$view":${JSON.stringify(value.constructor.name)},"bytes":"${base64(bytes)}"}`
  }
  if (value instanceof ArrayBuffer) return `{"$arraybuffer":"${base64(new Uint8Array(value))}"}`
  if (value instanceof Map) return `{"$map":${encodeArray([...value.entries()])}}`
  if (value instanceof Set) return `{"$set":${encodeArray([...value.values()])}}`
  const toJSON = (value as { toJSON?: unknown }).toJSON
  if (typeof toJSON === 'function') {
    return `{"$json":${JSON.stringify(value.constructor?.name ?? '')},"value":${encode(toJSON.call(value))}}`
  }
  return `{"$object":${JSON.stringify(value.constructor?.name ?? '')},"value":${encodePlain(value as Record<string, unknown>)}}`
}

function encodePlain(value: Record<string, unknown>): string {
  const keys = Object.keys(value)
  for (let i = 1; i < keys.length; i++) {
    if ((keys[i - 1] as string) > (keys[i] as string)) {
      keys.sort()
      break
    }
  }
  let out = '{'
  for (const key of keys) {
    const item = value[key]
    let text: string
    // Objects dispatched here, with one prototype look-up for both questions (skip? plain?).
    if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
      const proto = Object.getPrototypeOf(item)
      if (proto === Object.prototype || proto === null) text = encodePlain(item as Record<string, unknown>)
      else if (isSkipInstance(item)) continue
      else text = encodeInstance(item)
    } else if (item === undefined || typeof item === 'function' || typeof item === 'symbol') continue
    else text = encode(item)
    out += out.length === 1 ? `${keyText(key)}${text}` : `,${keyText(key)}${text}`
  }
  return `${out}}`
}

/** Encoded property names (`"where":`), kept for the names queries use again and again. */
const KEY_TEXT = new Map<string, string>()
const MAX_KEY_TEXTS = 4096

function keyText(key: string): string {
  let text = KEY_TEXT.get(key)
  if (text === undefined) {
    text = `${key.charCodeAt(0) === 36 ? JSON.stringify(`$${key}`) : JSON.stringify(key)}:`
    // Keys of user data (a `Json` filter) can be unbounded: past the bound, names are not kept.
    if (KEY_TEXT.size < MAX_KEY_TEXTS) KEY_TEXT.set(key, text)
  }
  return text
}

/**
 * `Prisma.skip` means "as if absent"; it is an instance of a class with `ifUndefined()` and no own
 * keys. `value` is an object of a class (not a plain object, not an array).
 */
function isSkipInstance(value: object): boolean {
  return typeof (value as { ifUndefined?: unknown }).ifUndefined === 'function' && Object.keys(value).length === 0
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}
