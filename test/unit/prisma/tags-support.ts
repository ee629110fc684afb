import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
import { PrismaClient } from '../../../generated/sqlite/client.ts'
import {
  clientDataModel,
  type DataModel,
  type RuntimeDataModel,
  type RuntimeField,
} from '../../../src/prisma/schema/datamodel.ts'
import { cacheDependencies } from '../../../src/prisma/tags/read-dependencies.ts'
import { writeInvalidations } from '../../../src/prisma/tags/write-invalidations.ts'

/** The data model of the test schema (prisma/schema.prisma), Conduit models included. */
export const dm = clientDataModel(new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: 'file::memory:' }) }))

/**
 * A runtime data model written compactly: `name:Type` for a scalar (an enum when its type is in
 * `enums`), `name:Target@RelationName` for a relation, as the client holds it.
 */
export function runtime(models: Record<string, string>, enums: readonly string[] = []): RuntimeDataModel {
  const out: Record<string, { fields: RuntimeField[] }> = {}
  for (const [name, spec] of Object.entries(models)) {
    out[name] = {
      fields: spec
        .trim()
        .split(/\s+/)
        .map((item) => {
          const [field, type = ''] = item.split(':') as [string, string?]
          const [target, relationName] = type.split('@') as [string, string?]
          if (relationName !== undefined) return { name: field, kind: 'object', type: target, relationName }
          return { name: field, kind: enums.includes(type) ? 'enum' : 'scalar', type }
        }),
    }
  }
  return { models: out }
}

export const sorted = (tags: readonly string[] | null | undefined) => [...(tags ?? [])].sort()

/** A read as the cache stores it: the tags captured before it and those its result gives. */
export interface StoredRead {
  /** What the entry carries. */
  readonly tags: readonly string[]
  /** What the load captured before it ran: a bump of one of these refuses the store. */
  readonly captured: readonly string[]
}

export function read(
  model: string,
  operation: string,
  args: object,
  result: unknown,
  data: DataModel = dm,
): StoredRead {
  const deps = cacheDependencies(data, model, operation, args)
  const late = deps.lateTags?.(result) ?? []
  return { tags: [...new Set([...deps.tags, ...late])], captured: [...deps.tags, ...deps.guards] }
}

export const write = (model: string, operation: string, args: object, result: unknown, data: DataModel = dm) =>
  writeInvalidations(data, model, operation, args, result)

/** Whether a write bumps a tag the stored read carries (it is then a miss). */
export const evicts = (tags: readonly string[], stored: StoredRead) => stored.tags.some((t) => tags.includes(t))

/** Whether a write during the read's load makes the cache refuse to store it. */
export const discardsLoad = (tags: readonly string[], stored: StoredRead) =>
  stored.captured.some((t) => tags.includes(t))
