/**
 * What the cache knows of the values it holds, without importing the libraries that make them:
 * a decimal.js number (`Prisma.Decimal` is one) is recognised by its shape, so any copy of
 * decimal.js is, and the Prisma layer passes its own class where one must be built (the serializer).
 */

/** A decimal.js-like class, as `Prisma.Decimal`: `new Decimal('1.5')` rebuilds a value from its text. */
export type DecimalConstructor = new (value: string) => object

/** A decimal.js instance: `Symbol.toStringTag` is 'Decimal', or it has decimal.js's own fields. */
export function isDecimal(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  const v = value as { s?: unknown; e?: unknown; d?: unknown; toFixed?: unknown }
  // A decimal has toFixed: a row or an array has not, and is told apart without the toString call
  // (~180 ns, on every object an L1 hit copies). The tag catches NaN and Infinity (no digits).
  if (typeof v.toFixed !== 'function') return false
  return (
    (typeof v.s === 'number' && typeof v.e === 'number' && Array.isArray(v.d)) ||
    Object.prototype.toString.call(value) === '[object Decimal]'
  )
}

/** The text a decimal round-trips through (decimal.js's `toJSON`, which keeps `-0`). */
export function decimalText(value: object): string {
  const toJSON = (value as { toJSON?: unknown }).toJSON
  return typeof toJSON === 'function' ? String(toJSON.call(value)) : String(value)
}

/** Prisma 7's `Bytes`: a `Uint8Array` (a `Buffer` is one too). */
export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array
}
