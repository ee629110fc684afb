/**
 * The tables change capture watches, described from a Prisma client or a schema: each model's
 * table (with its `@@map`/`@@schema` name), the columns of its identity and foreign keys (with
 * their `@map` names), and each implicit many-to-many join table (`_<relation name>`, columns
 * `A` and `B`; `A` points at the model whose name sorts first).
 *
 * Database names come from the runtime data model (`dbName` of models and fields, which
 * `prisma generate` writes only when mapped), identities and relations from the data model the
 * cache already builds from the schema text. This is the one file that reads ../schema/.
 */
import { CacheOptionError } from '../../core/errors.ts'
import { buildDataModel, type DataModel } from '../schema/datamodel.ts'
import { readSchemaText } from './schema-text.ts'

/** A runtime data model (`client._runtimeDataModel`) with the database names Prisma writes into it. */
export interface MappedDataModel {
  readonly models: Readonly<Record<string, MappedModel>>
}

export interface MappedModel {
  readonly fields: readonly MappedField[]
  /** The table, when `@@map` renames it. */
  readonly dbName?: string | null
  /** The PostgreSQL schema (`@@schema`), when given. */
  readonly schema?: string | null
}

export interface MappedField {
  readonly name: string
  readonly kind: string
  readonly type: string
  /** The column, when `@map` renames it. */
  readonly dbName?: string | null
  readonly relationName?: string | null
}

/**
 * What change capture is installed from: a Prisma client (base or extended), the text of a
 * schema, or a runtime data model with the schema text.
 */
export type ChangeCaptureSource =
  | object
  | { readonly schema: string }
  | { readonly datamodel: MappedDataModel; readonly schema?: string }

/** One watched table. */
export interface CaptureTable {
  /** `@@schema`, or `undefined` for the connection's `search_path` (as Prisma's migrations do). */
  readonly schema: string | undefined
  readonly table: string
  /** The model whose records are rows of this table; `undefined` for a join table. */
  readonly model: string | undefined
  /** The two models (`A`, `B`) an implicit many-to-many join table links. */
  readonly joins: readonly [string, string] | undefined
  /** The columns of the record identity (primary key), in the data model's key order; `[]` when unknown. */
  readonly keyColumns: readonly string[]
  /** Foreign-key columns outside the identity, whose old and new values a change carries. */
  readonly foreignKeyColumns: readonly string[]
  /** Column → field, for every scalar field of the model. */
  readonly fields: ReadonlyMap<string, string>
}

/** The watched tables of one schema, and its data model. */
export interface CaptureTables {
  readonly dataModel: DataModel
  readonly tables: readonly CaptureTable[]
  /** Models whose schema text could not be read: changes to them are published for the whole table. */
  readonly imprecise: readonly string[]
  /** The table a notification names (`schema` as PostgreSQL reports it). */
  find(schema: string, table: string): CaptureTable | undefined
}

/**
 * Describes the tables of `source` (see {@link ChangeCaptureSource}).
 * @throws CacheOptionError (`option` = `name`) when `source` is none of those, or its database is not PostgreSQL.
 */
export function captureTables(source: ChangeCaptureSource, name = 'changeCapture'): CaptureTables {
  const { runtime, schemaText, provider } = describeSource(source, name)
  if (provider !== undefined && provider !== 'postgresql' && provider !== 'postgres') {
    throw new CacheOptionError(
      name,
      `change capture needs PostgreSQL, the schema's provider is ${JSON.stringify(provider)}`,
    )
  }
  const dm = buildDataModel(runtime, schemaText)
  const tables: CaptureTable[] = []
  const imprecise: string[] = []
  const column = (model: string, field: string) =>
    runtime.models[model]?.fields.find((f) => f.name === field)?.dbName ?? field
  const joins = new Map<string, readonly [string, string]>()

  for (const modelName of dm.models) {
    const info = dm.model(modelName)
    const model = runtime.models[modelName]
    if (!info || !model || info.isView) continue
    if (!info.precise) imprecise.push(modelName)
    const keyFields = info.primaryKey ?? []
    const foreignKeys = new Set<string>()
    for (const rel of info.relations.values()) {
      if (rel.holdsForeignKey) for (const f of rel.fields) if (!keyFields.includes(f)) foreignKeys.add(f)
      if (rel.implicitManyToMany) {
        const relationName = model.fields.find((f) => f.name === rel.field)?.relationName
        if (relationName) joins.set(relationName, [rel.model, rel.target].sort() as [string, string])
      }
    }
    const fields = new Map<string, string>()
    for (const f of model.fields) if (f.kind !== 'object') fields.set(f.dbName ?? f.name, f.name)
    tables.push({
      schema: model.schema ?? undefined,
      table: model.dbName ?? modelName,
      model: modelName,
      joins: undefined,
      keyColumns: keyFields.map((f) => column(modelName, f)),
      foreignKeyColumns: [...foreignKeys].map((f) => column(modelName, f)),
      fields,
    })
  }
  for (const [relationName, pair] of joins) {
    tables.push({
      // Prisma puts the join table beside the first model's table.
      schema: runtime.models[pair[0]]?.schema ?? undefined,
      table: `_${relationName}`,
      model: undefined,
      joins: pair,
      keyColumns: ['A', 'B'],
      foreignKeyColumns: [],
      fields: new Map(),
    })
  }
  return {
    dataModel: dm,
    tables,
    imprecise,
    find(schema, table) {
      let unqualified: CaptureTable | undefined
      for (const t of tables) {
        if (t.table !== table) continue
        if (t.schema === schema) return t
        if (t.schema === undefined) unqualified ??= t
      }
      return unqualified
    },
  }
}

interface Described {
  readonly runtime: MappedDataModel
  readonly schemaText: string | undefined
  readonly provider: string | undefined
}

function describeSource(source: ChangeCaptureSource, name: string): Described {
  if (typeof source !== 'object' || source === null) {
    throw new CacheOptionError(name, 'expected a Prisma client, { schema } or { datamodel, schema }')
  }
  const s = source as { schema?: unknown; datamodel?: unknown }
  if (isMapped(s.datamodel)) {
    const schemaText = typeof s.schema === 'string' ? s.schema : undefined
    return { runtime: s.datamodel, schemaText, provider: schemaText && readSchemaText(schemaText).provider }
  }
  if (typeof s.schema === 'string' && s.datamodel === undefined) {
    const read = readSchemaText(s.schema)
    return { runtime: read.runtime, schemaText: s.schema, provider: read.provider }
  }
  // A client, or a client extended any number of times (the original carries the engine config).
  for (const c of [source, (source as { _originalClient?: unknown })._originalClient]) {
    if (typeof c !== 'object' || c === null) continue
    const client = c as {
      _runtimeDataModel?: unknown
      _engineConfig?: { runtimeDataModel?: unknown; inlineSchema?: unknown; activeProvider?: unknown }
    }
    const runtime = [client._runtimeDataModel, client._engineConfig?.runtimeDataModel].find(isMapped)
    if (!runtime) continue
    const config = client._engineConfig
    const schemaText = typeof config?.inlineSchema === 'string' ? config.inlineSchema : undefined
    const provider = typeof config?.activeProvider === 'string' ? config.activeProvider : undefined
    return { runtime, schemaText, provider }
  }
  throw new CacheOptionError(
    name,
    'expected a Prisma client (it has no _runtimeDataModel), { schema } or { datamodel }',
  )
}

function isMapped(value: unknown): value is MappedDataModel {
  if (typeof value !== 'object' || value === null) return false
  const models = (value as { models?: unknown }).models
  return typeof models === 'object' && models !== null
}
