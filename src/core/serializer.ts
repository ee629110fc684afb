import { SuperJSON } from 'superjson'
import { whyNotExact } from './round-trip.ts'
import { fail, func, object } from './validate.ts'
import { type DecimalConstructor, decimalText, isBytes, isDecimal } from './values.ts'

/** Turns a value into the string stored in Redis and back, exactly. */
export interface Serializer {
  stringify(value: unknown): string
  parse<T = unknown>(text: string): T
  /**
   * Why `value` would not come back exactly (`parse(stringify(value))` different from what the L1
   * copy gives), or `undefined`. The cache keeps such a value in L1 only. Without it, every value
   * `stringify` accepts is taken to come back exactly.
   */
  check?(value: unknown): string | undefined
}

/** Classes {@link createSerializer} rebuilds values with; the core imports none of them. */
export interface SerializerTypes {
  /**
   * The decimal class results carry (the Prisma layer passes `Prisma.Decimal`). A decimal is
   * written the same way with or without it; without it, it is read back as its text.
   * @default none
   */
  readonly Decimal?: DecimalConstructor
}

const TYPE_KEYS: ReadonlySet<string> = new Set(['Decimal'])

/**
 * superjson with what Prisma 7 results carry: `Date` and `bigint` (superjson's own), decimals
 * (found by shape, rebuilt with `types.Decimal`), `Uint8Array` (Prisma 7's `Bytes`) and `Buffer`.
 *
 * A private instance: registration on the `superjson` module is global and would change how the
 * application's own superjson calls behave.
 */
export function createSerializer(types: SerializerTypes = {}): Serializer {
  object('types', types, TYPE_KEYS)
  const { Decimal } = types
  if (Decimal !== undefined && typeof Decimal !== 'function') fail('types.Decimal', 'a decimal.js-like class', Decimal)
  const json = new SuperJSON()
  // Registered before `bytes`: Buffer is a Uint8Array and must come back a Buffer.
  json.registerCustom<Buffer, string>(
    {
      isApplicable: (v): v is Buffer => Buffer.isBuffer(v),
      serialize: (v) => v.toString('base64'),
      deserialize: (v) => Buffer.from(v, 'base64'),
    },
    'buffer',
  )
  // superjson's own typed-array rule writes one JSON number per byte; base64 is a third of that.
  json.registerCustom<Uint8Array, string>(
    {
      isApplicable: (v): v is Uint8Array => isBytes(v) && v.constructor === Uint8Array,
      serialize: (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'),
      deserialize: (v) => new Uint8Array(Buffer.from(v, 'base64')),
    },
    'bytes',
  )
  json.registerCustom<object, string>(
    {
      isApplicable: (v): v is object => isDecimal(v),
      serialize: (v) => decimalText(v),
      deserialize: (v) => (Decimal ? new Decimal(v) : (v as never)),
    },
    'decimal.js',
  )
  const exact = { decimals: Decimal !== undefined }
  return {
    check: (value) => whyNotExact(value, exact),
    stringify: (value) => json.stringify(value as Parameters<SuperJSON['stringify']>[0]),
    parse: <T>(text: string) => {
      const data: unknown = JSON.parse(text)
      // A payload written by something else must fail here, not come back as `undefined`.
      if (typeof data !== 'object' || data === null || !('json' in data || 'meta' in data))
        throw new SyntaxError('not a superjson payload')
      return json.deserialize<T>(data as Parameters<SuperJSON['deserialize']>[0])
    },
  }
}

/** The serializer the cache uses by default: decimals come back as their text (see {@link SerializerTypes}). */
export const serializer: Serializer = createSerializer()

/** A `serializer` option: anything with `stringify` and `parse` (and optionally `check`); the default when absent. */
export function checkSerializer(value: unknown): Serializer {
  if (value === undefined) return serializer
  const given = object('serializer', value, undefined, 'an object with stringify and parse')
  func('serializer.stringify', given.stringify)
  func('serializer.parse', given.parse)
  if (given.check !== undefined) func('serializer.check', given.check)
  return value as Serializer
}
