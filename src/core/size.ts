import { isDecimal } from './values.ts'

/**
 * A rough serialized size in bytes from a cheap walk: strings' UTF-8 lengths and fixed costs for
 * everything else. Compared with `maxEntryBytes`, which is about serialized size; what a value
 * costs in memory is {@link heapBytes}.
 */
export function estimateBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return Buffer.byteLength(value) + 2
    case 'number':
      return 8
    case 'boolean':
      return 4
    case 'bigint':
      return 16
    case 'object': {
      if (value === null) return 4
      if (Array.isArray(value)) {
        let n = 2
        for (const item of value) n += estimateBytes(item) + 1
        return n
      }
      if (value instanceof Date) return 24
      if (ArrayBuffer.isView(value)) return value.byteLength
      if (isDecimal(value)) return 24
      let n = 2
      for (const key of Object.keys(value))
        n += Buffer.byteLength(key) + 3 + estimateBytes((value as Record<string, unknown>)[key])
      return n
    }
    default:
      return 0
  }
}

/*
 * V8's sizes on a 64-bit build without pointer compression (Node's own builds), measured with
 * bench/profile/memory-bytes.ts on Node 20: a slot is 8 bytes; an object is a 24-byte header
 * (map, properties, elements) and its in-object slots; a heap number 16.
 */

/** An object created by `{}` or a spread copy of one: the header and 4 in-object slots. */
const OBJECT_BYTES = 56
/** The property array an object with more than 4 properties adds: 16 and 8 a slot, grown 3 slots at a time. */
const PROPERTY_ARRAY_BYTES = 16
/** An array: 32 for the JSArray, 16 for its elements' header when it has any (8 a slot, exact for a copy). */
const ARRAY_BYTES = 32
const ELEMENTS_BYTES = 16
/** A double, or an integer outside the 32-bit range of small integers (which live in their slot). */
const HEAP_NUMBER_BYTES = 16
/** A `Date`: 12 slots (its value and cached fields) and the heap number of its time. */
const DATE_BYTES = 112
/** A bigint: header, then 8 per 64-bit digit. */
const BIGINT_BYTES = 16
/**
 * A decimal.js value (`Prisma.Decimal`): its object (`constructor`, `s`, `e`, `d`) and the digit
 * array `d`, which parsing grows by `push`, so it has room for 16 digits or more.
 */
const DECIMAL_BYTES = 64 + ARRAY_BYTES + ELEMENTS_BYTES
const DECIMAL_DIGIT_SLOTS = 16
/**
 * A `Buffer` or typed array, besides its bytes: a `Buffer` under 4 KiB is a view on Node's shared
 * pool (only the view object), anything else has its own `ArrayBuffer` too. The bytes themselves
 * are outside V8's heap (or in it, for a typed array of up to 64 bytes); they are counted either way.
 */
const POOLED_BUFFER_BYTES = 104
const VIEW_BYTES = 192
const POOLED_BUFFER_LIMIT = 4096
/** `Map` and `Set`: the object and an ordered hash table of at least 2 entries (a Map entry is 3 slots, a Set's 2, plus buckets). */
const HASH_TABLE_BYTES = 104
const MAP_ENTRY_BYTES = 40
const SET_ENTRY_BYTES = 28

/** A character outside Latin-1: V8 then stores the string with two bytes a character. */
const TWO_BYTE = /[\u0100-\uffff]/

/**
 * Heap bytes of a string: a 16-byte header and its characters (one byte each, two when one of
 * them is outside Latin-1), in 8-byte units. A string built by `+` and not flattened yet costs
 * more (32 per join): not seen here, counted as flat.
 */
export function stringHeapBytes(value: string): number {
  // The test is cheap on a one-byte string whatever its length: the pattern cannot match one.
  const chars = TWO_BYTE.test(value) ? 2 * value.length : value.length
  return (16 + chars + 7) & ~7
}

/**
 * What a value costs on V8's heap, plus the bytes of its typed arrays (outside the heap but held
 * as long as the value is), from a walk as cheap as {@link estimateBytes}'s: objects' headers and
 * slots, strings, heap numbers, dates, bigints, decimals, byte arrays, and what they hold.
 *
 * Modelled on what `cloneValue` makes (what L1 holds): plain objects and arrays of exact size.
 * Property names are not counted: V8 keeps them once per shape, shared by every row of a model.
 * Values shared between copies (a decimal, an internalised string, `true`) are counted each time
 * they are met, so the figure errs high; measured within 2x of the heap for Prisma rows.
 */
export function heapBytes(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return stringHeapBytes(value)
    case 'number':
      return (value | 0) === value ? 0 : HEAP_NUMBER_BYTES
    case 'bigint':
      return bigintBytes(value)
    case 'object':
      return value === null ? 0 : objectBytes(value)
    default:
      // Booleans and undefined are shared; functions and symbols belong to someone else.
      return 0
  }
}

function objectBytes(value: object): number {
  if (Array.isArray(value)) {
    const length = value.length
    let n = length === 0 ? ARRAY_BYTES : ARRAY_BYTES + ELEMENTS_BYTES + 8 * length
    for (let i = 0; i < length; i++) n += heapBytes(value[i])
    return n
  }
  const proto = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) return fieldsBytes(value)
  if (value instanceof Date) return DATE_BYTES
  if (ArrayBuffer.isView(value)) {
    const pooled = Buffer.isBuffer(value) && value.byteLength < POOLED_BUFFER_LIMIT
    return (pooled ? POOLED_BUFFER_BYTES : VIEW_BYTES) + value.byteLength
  }
  if (isDecimal(value)) {
    const digits = (value as { d?: unknown }).d
    return DECIMAL_BYTES + 8 * Math.max(DECIMAL_DIGIT_SLOTS, Array.isArray(digits) ? digits.length : 0)
  }
  if (value instanceof Map) {
    let n = HASH_TABLE_BYTES + MAP_ENTRY_BYTES * Math.max(2, value.size)
    for (const [k, v] of value) n += heapBytes(k) + heapBytes(v)
    return n
  }
  if (value instanceof Set) {
    let n = HASH_TABLE_BYTES + SET_ENTRY_BYTES * Math.max(2, value.size)
    for (const v of value) n += heapBytes(v)
    return n
  }
  // Any other object (a class instance, a RegExp, an Error): its own enumerable fields only.
  let n = plainObjectBytes(Object.keys(value).length)
  for (const v of Object.values(value)) n += heapBytes(v)
  return n
}

function fieldsBytes(value: object): number {
  let count = 0
  let n = 0
  for (const key in value) {
    count++
    n += heapBytes((value as Record<string, unknown>)[key])
  }
  return n + plainObjectBytes(count)
}

/** The object and its slots: 4 in the object, the rest in a property array grown 3 at a time. */
function plainObjectBytes(properties: number): number {
  if (properties <= 4) return OBJECT_BYTES
  return OBJECT_BYTES + PROPERTY_ARRAY_BYTES + 24 * Math.ceil((properties - 4) / 3)
}

const MAX_DIGIT = 0xffff_ffff_ffff_ffffn

function bigintBytes(value: bigint): number {
  // Most are one digit (a BigInt column): no shifting, which makes a bigint each time.
  if (value <= MAX_DIGIT && value >= -MAX_DIGIT) return value === 0n ? BIGINT_BYTES : BIGINT_BYTES + 8
  let rest = value < 0n ? -value : value
  let digits = 0
  while (rest > 0n) {
    digits++
    rest >>= 64n
  }
  return BIGINT_BYTES + 8 * digits
}
