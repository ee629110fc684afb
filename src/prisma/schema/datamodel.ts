/**
 * What the cache needs to know about the schema: record identities, unique selectors, relations
 * and the referential actions a write can set off.
 *
 * The client's runtime data model is the backbone (models, fields, relation names) but it has no
 * primary keys, unique fields, foreign keys, list markers or referential actions. Those come from
 * a small parser of the schema text the client carries. Whatever cannot be read from the text is
 * assumed to be the worst case: a model without schema text is `precise: false` (its records
 * cannot be named, so writes to it invalidate the whole model) and a relation touching it is
 * assumed to cascade both ways on delete and update.
 */

import { createHash } from 'node:crypto'
import { datasourceProvider, type ParsedBlock, parseSchema } from './parser.ts'
import { relationOf } from './relations.ts'
import { exactFields, type TrackedKey, trackedKeys } from './tracked-keys.ts'

export type { TrackedKey } from './tracked-keys.ts'

/** The runtime data model as the client holds it (`client._runtimeDataModel`). */
export interface RuntimeDataModel {
  readonly models: Readonly<Record<string, RuntimeModel>>
}

export interface RuntimeModel {
  readonly fields: readonly RuntimeField[]
  readonly dbName?: string | null
}

export interface RuntimeField {
  readonly name: string
  /** `'scalar'`, `'enum'`, `'object'` (relation or composite type) or `'unsupported'`. */
  readonly kind: string
  readonly type: string
  readonly relationName?: string | null
}

export type ReferentialAction = 'Cascade' | 'Restrict' | 'NoAction' | 'SetNull' | 'SetDefault'

/** A named way to select one record in a `where` (`id`, `email`, `orgId_userId`). */
export interface UniqueSelector {
  /** The key of the where-unique input: the field name, or `a_b`, or the `name:` given. */
  readonly name: string
  readonly fields: readonly string[]
  /** Whether these fields are the primary key. */
  readonly primary: boolean
}

export interface RelationInfo {
  /** The model the relation field is declared on. */
  readonly model: string
  readonly field: string
  /** The model the field points at. */
  readonly target: string
  /** The field on `target` that is the other side, when there is one. */
  readonly inverse: string | undefined
  /** `false` when unknown (`precise: false`). */
  readonly isList: boolean
  /**
   * The foreign-key fields, on the model that holds them: this model when `holdsForeignKey`,
   * otherwise `target`. Empty for implicit many-to-many relations and when not `precise`.
   */
  readonly fields: readonly string[]
  /** The fields `fields` reference, on the other model. */
  readonly references: readonly string[]
  /** The relation's actions (declared on the side holding the foreign key), or Prisma's defaults. */
  readonly onDelete: ReferentialAction
  readonly onUpdate: ReferentialAction
  readonly holdsForeignKey: boolean
  /** Both sides lists, no `fields`: a hidden join table links them. */
  readonly implicitManyToMany: boolean
  /** `false` when the schema text did not describe both sides: then actions are assumed `Cascade`. */
  readonly precise: boolean
}

export interface ModelInfo {
  readonly name: string
  /** A database view (`view X {}`): Prisma does not write it, but any write can change it. */
  readonly isView: boolean
  /** Whether the schema text described this model (identity, uniques and relations known). */
  readonly precise: boolean
  /** Scalar and enum field name → type name (`Int`, `String`, `DateTime`, an enum's name, …). */
  readonly scalars: ReadonlyMap<string, string>
  readonly relations: ReadonlyMap<string, RelationInfo>
  /**
   * The fields that identify a record: the `@id`/`@@id` fields, else the first unique selector
   * whose fields are all required; `undefined` when none is known.
   */
  readonly primaryKey: readonly string[] | undefined
  /** The where-unique selector of `primaryKey` (`id`, `orgId_userId`, or its `name:`). */
  readonly primarySelector: UniqueSelector | undefined
  readonly uniqueSelectors: readonly UniqueSelector[]
  /** Scalar fields the database compares exactly as JavaScript values (tracked-keys.ts); empty when not `precise`. */
  readonly exact: ReadonlySet<string>
  /** The keys tagged by value: the primary key first (when exact), other unique selectors, held foreign keys. */
  readonly keys: readonly TrackedKey[]
  /** `@updatedAt` fields: an update that changes a scalar field changes them too. */
  readonly updatedAt: readonly string[]
}

/** Models that referential actions change when a record is deleted or updated. */
export interface ReferentialEffects {
  /** Models whose records a `Cascade`, `SetNull` or `SetDefault` can delete or change (transitively). */
  readonly changed: readonly string[]
  /** Models whose relation lists change without their records changing (implicit many-to-many join rows). */
  readonly relationViews: readonly string[]
}

export interface DataModel {
  /** First 12 hex characters of the sha256 of the schema text (or of the runtime data model). */
  readonly fingerprint: string
  /** Every model and view name. */
  readonly models: readonly string[]
  /** The names of database views. */
  readonly views: readonly string[]
  model(name: string): ModelInfo | undefined
  primaryKey(model: string): readonly string[] | undefined
  uniqueSelectors(model: string): readonly UniqueSelector[]
  relation(model: string, field: string): RelationInfo | undefined
  /**
   * What a `delete` or `update` of one record of `model` changes through referential actions.
   * For updates, only relations referencing one of `changedFields` act; `undefined` means any field.
   */
  referentialEffects(model: string, kind: 'delete' | 'update', changedFields?: readonly string[]): ReferentialEffects
}

/** Combines the runtime data model with what the schema text says (see the module comment). */
export function buildDataModel(runtimeDataModel: RuntimeDataModel, schemaText?: string): DataModel {
  return new SchemaDataModel(runtimeDataModel, schemaText)
}

/**
 * The data model of a Prisma 7 client (base or extended): the runtime data model from
 * `_runtimeDataModel` (or `_engineConfig.runtimeDataModel`) and the schema text from
 * `_engineConfig.inlineSchema`. Without schema text every model is `precise: false`.
 * @throws TypeError when `client` carries no runtime data model.
 */
export function clientDataModel(client: unknown): DataModel {
  const candidates = [client, (client as { _originalClient?: unknown } | null)?._originalClient]
  let runtime: RuntimeDataModel | undefined
  let schema: string | undefined
  for (const c of candidates) {
    if (typeof c !== 'object' || c === null) continue
    const any = c as {
      _runtimeDataModel?: unknown
      _engineConfig?: { runtimeDataModel?: unknown; inlineSchema?: unknown }
    }
    const config = any._engineConfig
    runtime ??= asRuntime(any._runtimeDataModel) ?? asRuntime(config?.runtimeDataModel)
    if (schema === undefined && typeof config?.inlineSchema === 'string') schema = config.inlineSchema
  }
  if (!runtime) throw new TypeError('tieredCache: the Prisma client has no runtime data model (_runtimeDataModel)')
  return buildDataModel(runtime, schema)
}

function asRuntime(value: unknown): RuntimeDataModel | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const models = (value as { models?: unknown }).models
  return typeof models === 'object' && models !== null ? (value as RuntimeDataModel) : undefined
}

const NO_EFFECTS: ReferentialEffects = { changed: [], relationViews: [] }

/** A relation seen from the model it points at: who holds a foreign key to it. */
interface Incoming {
  readonly from: string
  /** The foreign-key fields on `from`; `undefined` when unknown. */
  readonly fields: readonly string[] | undefined
  /** The referenced fields on the target; `undefined` when unknown (any change acts). */
  readonly references: readonly string[] | undefined
  readonly onDelete: ReferentialAction
  readonly onUpdate: ReferentialAction
}

class SchemaDataModel implements DataModel {
  readonly fingerprint: string
  readonly models: readonly string[]
  readonly views: readonly string[]
  readonly #models = new Map<string, ModelInfo>()
  readonly #incoming = new Map<string, Incoming[]>()
  /** Model → models on the other side of an implicit many-to-many relation (join rows). */
  readonly #joined = new Map<string, Set<string>>()
  readonly #effects = new Map<string, ReferentialEffects>()

  constructor(runtime: RuntimeDataModel, schemaText: string | undefined) {
    this.fingerprint = createHash('sha256')
      .update(schemaText ?? JSON.stringify(runtime))
      .digest('hex')
      .slice(0, 12)
    const blocks = schemaText === undefined ? new Map<string, ParsedBlock>() : parseSchema(schemaText)
    const provider = schemaText === undefined ? undefined : datasourceProvider(schemaText)
    const names = Object.keys(runtime.models)
    const modelNames = new Set(names)
    const enums = new Set<string>()
    for (const model of Object.values(runtime.models)) {
      for (const field of model.fields) if (field.kind === 'enum') enums.add(field.type)
    }

    const precise = new Map<string, ParsedBlock>()
    for (const name of names) {
      const block = blocks.get(name)
      if (block && describes(block, runtime.models[name] as RuntimeModel, modelNames)) precise.set(name, block)
    }

    for (const name of names) {
      const runtimeModel = runtime.models[name] as RuntimeModel
      const block = precise.get(name)
      const scalars = new Map<string, string>()
      const relations = new Map<string, RelationInfo>()
      for (const field of runtimeModel.fields) {
        if (field.kind === 'object' && modelNames.has(field.type)) {
          relations.set(field.name, relationOf(name, field, runtime, precise))
        } else if (field.kind !== 'object') {
          scalars.set(field.name, field.type)
        }
      }
      const uniqueSelectors = block ? block.selectors : []
      const identity = block ? identityOf(block) : undefined
      const exact = block ? exactFields(block, enums, provider) : new Set<string>()
      const foreignKeys = [...relations.values()].filter((r) => r.precise && r.holdsForeignKey).map((r) => r.fields)
      this.#models.set(name, {
        name,
        isView: blocks.get(name)?.kind === 'view',
        precise: block !== undefined,
        scalars,
        relations,
        primaryKey: identity?.fields,
        primarySelector: identity,
        uniqueSelectors,
        exact,
        keys: block ? trackedKeys(uniqueSelectors, identity?.fields, foreignKeys, exact) : [],
        updatedAt: block ? [...block.fields.values()].filter((f) => f.updatedAt).map((f) => f.name) : [],
      })
    }
    this.models = names
    this.views = names.filter((n) => this.#models.get(n)?.isView)

    for (const info of this.#models.values()) {
      for (const rel of info.relations.values()) this.#index(rel)
    }
  }

  #index(rel: RelationInfo): void {
    const add = (to: string, incoming: Incoming) => {
      let list = this.#incoming.get(to)
      if (!list) this.#incoming.set(to, (list = []))
      list.push(incoming)
    }
    if (!rel.precise) {
      // Unknown: assume each side holds a key to the other that cascades on delete and update.
      const unknown = { fields: undefined, references: undefined, onDelete: 'Cascade', onUpdate: 'Cascade' } as const
      add(rel.target, { from: rel.model, ...unknown })
      add(rel.model, { from: rel.target, ...unknown })
      return
    }
    if (rel.implicitManyToMany) {
      let set = this.#joined.get(rel.model)
      if (!set) this.#joined.set(rel.model, (set = new Set()))
      set.add(rel.target)
      return
    }
    if (rel.holdsForeignKey) {
      add(rel.target, {
        from: rel.model,
        fields: rel.fields,
        references: rel.references,
        onDelete: rel.onDelete,
        onUpdate: rel.onUpdate,
      })
    }
  }

  model(name: string): ModelInfo | undefined {
    return this.#models.get(name)
  }

  primaryKey(model: string): readonly string[] | undefined {
    return this.#models.get(model)?.primaryKey
  }

  uniqueSelectors(model: string): readonly UniqueSelector[] {
    return this.#models.get(model)?.uniqueSelectors ?? []
  }

  relation(model: string, field: string): RelationInfo | undefined {
    return this.#models.get(model)?.relations.get(field)
  }

  referentialEffects(model: string, kind: 'delete' | 'update', changedFields?: readonly string[]): ReferentialEffects {
    const key = `${model}\u0000${kind}\u0000${changedFields ? [...changedFields].sort().join(',') : '*'}`
    let effects = this.#effects.get(key)
    if (!effects) {
      effects = this.#computeEffects(model, kind, changedFields)
      if (this.#effects.size < 10_000) this.#effects.set(key, effects)
    }
    return effects
  }

  #computeEffects(model: string, kind: 'delete' | 'update', changedFields?: readonly string[]): ReferentialEffects {
    const changed = new Set<string>()
    const views = new Set<string>()
    const seen = new Set<string>()
    const visit = (target: string, action: 'delete' | 'update', fields: readonly string[] | undefined) => {
      const key = `${target}\u0000${action}\u0000${fields ? [...fields].sort().join(',') : '*'}`
      if (seen.has(key)) return
      seen.add(key)
      for (const inc of this.#incoming.get(target) ?? []) {
        if (action === 'update' && fields && inc.references && !inc.references.some((f) => fields.includes(f))) continue
        const act = action === 'delete' ? inc.onDelete : inc.onUpdate
        if (act === 'Cascade') {
          changed.add(inc.from)
          visit(inc.from, action, inc.fields)
        } else if (act === 'SetNull' || act === 'SetDefault') {
          changed.add(inc.from)
          visit(inc.from, 'update', inc.fields)
        }
      }
      const joined = this.#joined.get(target)
      if (joined && (action === 'delete' || touchesKey(this.#models.get(target)?.primaryKey, fields))) {
        for (const other of joined) views.add(other)
      }
    }
    visit(model, kind, changedFields)
    if (changed.size === 0 && views.size === 0) return NO_EFFECTS
    return { changed: [...changed], relationViews: [...views] }
  }
}

/** Implicit many-to-many join rows reference the primary key; they change when it does. */
function touchesKey(primaryKey: readonly string[] | undefined, fields: readonly string[] | undefined): boolean {
  return !primaryKey || !fields || primaryKey.some((f) => fields.includes(f))
}

/** A block describes a runtime model when it declares each of its fields, relations with the right type. */
function describes(block: ParsedBlock, model: RuntimeModel, modelNames: ReadonlySet<string>): boolean {
  if (block.failed) return false
  for (const field of model.fields) {
    const parsed = block.fields.get(field.name)
    if (!parsed) return false
    if (field.kind === 'object' && modelNames.has(field.type) && parsed.type !== field.type) return false
  }
  return true
}

function identityOf(block: ParsedBlock): UniqueSelector | undefined {
  return (
    block.selectors.find((s) => s.primary) ??
    block.selectors.find((s) => s.fields.every((f) => block.fields.get(f)?.optional === false))
  )
}
