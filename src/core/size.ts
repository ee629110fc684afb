import { isDecimal } from './values.ts'

/** A rough size in bytes from a cheap walk: strings' UTF-8 lengths and fixed costs for everything else. */
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
