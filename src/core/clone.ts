import { isDecimal } from './values.ts'

/**
 * A deep copy specialised for Prisma results, run on every L1 hit so that a caller mutating what
 * it got never changes what the cache holds.
 *
 * What it gives equals what the serializer gives back for every value both tiers carry
 * (round-trip.ts), so L1 and L2 answer alike: plain objects and arrays are rebuilt; `Date`,
 * `RegExp` (`lastIndex` reset, as from L2), `URL` and byte arrays are copied (same class:
 * `Buffer` stays `Buffer`); `Map` and `Set` are rebuilt; primitives (`bigint` included) and
 * decimals (found by shape, see values.ts) are shared, since decimal.js values are immutable.
 * What only L1 keeps is copied whole: an `Error` with its class, message, stack and cause, any
 * other object with its prototype and copies of its own enumerable properties. Functions are shared.
 *
 * Much cheaper than a serializer round trip or `structuredClone` because it never encodes
 * anything. It does not handle cycles: Prisma results have none.
 */
export function cloneValue<T>(value: T): T {
  return copy(value) as T
}

function copy(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    const out = new Array(value.length)
    for (let i = 0; i < value.length; i++) out[i] = copy(value[i])
    return out
  }
  const proto = Object.getPrototypeOf(value)
  if (proto === Object.prototype) {
    // A spread copies a row's shape in one step; only the object-valued fields need a second look.
    const out: Record<string, unknown> = { ...value }
    for (const key in out) {
      const item = out[key]
      if (typeof item === 'object' && item !== null) out[key] = copy(item)
    }
    return out
  }
  if (proto === null) {
    const out: Record<string, unknown> = Object.create(null)
    for (const key in value) out[key] = copy((value as Record<string, unknown>)[key])
    return out
  }
  if (value instanceof Date) return new Date(value.getTime())
  if (value instanceof RegExp) return new RegExp(value.source, value.flags)
  if (value instanceof URL) return new URL(value.href)
  if (ArrayBuffer.isView(value)) {
    // Buffer#slice returns a view on the same memory, so Buffer needs Buffer.from to copy.
    if (Buffer.isBuffer(value)) return Buffer.from(value)
    if (value instanceof DataView) return new DataView(value.buffer.slice(0), value.byteOffset, value.byteLength)
    return (value as unknown as Uint8Array).slice()
  }
  if (isDecimal(value)) return value
  if (value instanceof Map) {
    const out = new Map()
    for (const [k, v] of value) out.set(copy(k), copy(v))
    return out
  }
  if (value instanceof Set) {
    const out = new Set()
    for (const v of value) out.add(copy(v))
    return out
  }
  if (value instanceof Error) return copyError(value, proto as object)
  const out = Object.create(proto) as Record<string, unknown>
  for (const key of Object.keys(value)) out[key] = copy((value as Record<string, unknown>)[key])
  return out
}

/** A real error (what `util.types.isNativeError` and test matchers recognise) of the same class, with copies of every own property (message, stack and cause are not enumerable). */
function copyError(error: Error, proto: object): Error {
  const out = Reflect.construct(Error, []) as Error
  Object.setPrototypeOf(out, proto)
  if (!Object.hasOwn(error, 'stack')) delete out.stack
  for (const [key, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(error))) {
    if ('value' in descriptor) descriptor.value = copy(descriptor.value)
    Object.defineProperty(out, key, descriptor)
  }
  return out
}
