import { isDecimal } from './values.ts'

/**
 * The values the cache carries exactly in both tiers (docs/design.md, "Values"): what the
 * serializer (serializer.ts) gives back equal, class for class, and what the L1 copy (clone.ts)
 * copies to the same thing. A value outside it is kept in L1 only, where a copy keeps it whole.
 *
 * In it: primitives but symbols (`undefined`, `bigint`, `NaN`, `-0` and the infinities too);
 * arrays without holes and plain objects (prototype `Object.prototype`) of such values;
 * valid `Date`s, `RegExp`s (their `lastIndex` is not kept), `URL`s, `Map`s and `Set`s of such
 * values, `Buffer`s, typed arrays; decimals when the serializer has a class to rebuild them with.
 *
 * Not in it, with why: functions (JSON drops them), symbols and symbol keys, keys superjson
 * refuses (`__proto__`, `constructor`, `prototype`: a Json column can hold one), class instances
 * and objects without a prototype (they come back plain), `Error`s (they come back as `Error`
 * without their class and stack), invalid dates (they come back `null`), `DataView`s and
 * `ArrayBuffer`s, holes in arrays, cycles.
 */

/** Options of {@link whyNotExact}. */
export interface ExactOptions {
  /** Whether decimals come back as decimals (a Decimal class was given to the serializer). */
  readonly decimals: boolean
}

const REFUSED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])
const TYPED_ARRAYS: ReadonlySet<object> = new Set(
  [
    Int8Array,
    Uint8Array,
    Uint8ClampedArray,
    Int16Array,
    Uint16Array,
    Int32Array,
    Uint32Array,
    Float32Array,
    Float64Array,
    BigInt64Array,
    BigUint64Array,
  ].map((type) => type.prototype),
)

/** Why `value` would not come back exactly from L2, naming where (`$.meta.constructor`); `undefined` when it would. */
export function whyNotExact(value: unknown, options: ExactOptions): string | undefined {
  return walk(value, '$', new Set(), options)
}

function walk(value: unknown, path: string, ancestors: Set<object>, options: ExactOptions): string | undefined {
  switch (typeof value) {
    case 'symbol':
      return `${path} is a symbol`
    case 'function':
      return `${path} is a function`
    case 'object':
      break
    default:
      return undefined
  }
  if (value === null) return undefined
  if (ancestors.has(value)) return `${path} is a cycle`
  const proto: unknown = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === Array.prototype) {
    ancestors.add(value)
    const why =
      proto === Array.prototype
        ? items(value as unknown[], path, ancestors, options)
        : fields(value, path, ancestors, options)
    ancestors.delete(value)
    return why
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? `${path} is an invalid Date` : undefined
  if (value instanceof RegExp || value instanceof URL || Buffer.isBuffer(value)) return undefined
  if (TYPED_ARRAYS.has(proto as object)) return undefined
  if (isDecimal(value))
    return options.decimals ? undefined : `${path} is a decimal and the serializer has no Decimal class`
  if (value instanceof Map || value instanceof Set) {
    ancestors.add(value)
    const why =
      value instanceof Map ? entries(value, path, ancestors, options) : items([...value], path, ancestors, options)
    ancestors.delete(value)
    return why
  }
  if (value instanceof Error) return `${path} is an Error (its class and stack do not round-trip)`
  if (proto === null) return `${path} is an object without a prototype`
  const name = (proto as { constructor?: { name?: unknown } }).constructor?.name
  return `${path} is an instance of ${typeof name === 'string' && name !== '' ? name : 'a class'}`
}

function items(list: readonly unknown[], path: string, ancestors: Set<object>, options: ExactOptions) {
  for (let i = 0; i < list.length; i++) {
    if (!(i in list)) return `${path}[${i}] is a hole`
    const why = walk(list[i], `${path}[${i}]`, ancestors, options)
    if (why !== undefined) return why
  }
  return undefined
}

function entries(map: Map<unknown, unknown>, path: string, ancestors: Set<object>, options: ExactOptions) {
  let i = 0
  for (const [key, item] of map) {
    const why = walk(key, `${path}[key ${i}]`, ancestors, options) ?? walk(item, `${path}[${i}]`, ancestors, options)
    if (why !== undefined) return why
    i++
  }
  return undefined
}

function fields(object: object, path: string, ancestors: Set<object>, options: ExactOptions) {
  if (Object.getOwnPropertySymbols(object).some((symbol) => Object.prototype.propertyIsEnumerable.call(object, symbol)))
    return `${path} has a symbol key`
  for (const key of Object.keys(object)) {
    if (REFUSED_KEYS.has(key)) return `${path}.${key} is a key superjson refuses`
    const why = walk((object as Record<string, unknown>)[key], `${path}.${key}`, ancestors, options)
    if (why !== undefined) return why
  }
  return undefined
}
