import { Decimal } from '@prisma/client/runtime/client'
import { SuperJSON } from 'superjson'

/** Turns a value into the string stored in Redis and back, exactly. */
export interface Serializer {
  stringify(value: unknown): string
  parse<T = unknown>(text: string): T
}

/**
 * superjson with what Prisma 7 results carry: `Date` and `bigint` (superjson's own),
 * `Prisma.Decimal`, `Uint8Array` (Prisma 7's `Bytes`) and `Buffer`.
 *
 * A private instance: registration on the `superjson` module is global and would change how the
 * application's own superjson calls behave.
 */
export function createSerializer(): Serializer {
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
      isApplicable: (v): v is Uint8Array => v instanceof Uint8Array && v.constructor === Uint8Array,
      serialize: (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'),
      deserialize: (v) => new Uint8Array(Buffer.from(v, 'base64')),
    },
    'bytes',
  )
  json.registerCustom<Decimal, string>(
    {
      isApplicable: (v): v is Decimal => Decimal.isDecimal(v),
      serialize: (v) => v.toJSON(),
      deserialize: (v) => new Decimal(v),
    },
    'decimal.js',
  )
  return {
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

/** The serializer the cache uses by default. */
export const serializer: Serializer = createSerializer()
