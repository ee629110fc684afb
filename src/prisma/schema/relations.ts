/**
 * A relation as the cache sees it: which side holds the foreign key, its referential actions
 * (declared, or Prisma's defaults), and whether the schema text described both sides well enough
 * to tell (`precise`); anything less is taken as the worst case, cascading both ways.
 */
import type { ReferentialAction, RelationInfo, RuntimeDataModel, RuntimeField } from './datamodel.ts'
import type { ParsedBlock, ParsedField } from './parser.ts'

export function relationOf(
  model: string,
  field: RuntimeField,
  runtime: RuntimeDataModel,
  precise: ReadonlyMap<string, ParsedBlock>,
): RelationInfo {
  const target = field.type
  const inverseField = runtime.models[target]?.fields.find(
    (f) =>
      f.kind === 'object' &&
      f.type === model &&
      f.relationName === field.relationName &&
      (target !== model || f.name !== field.name),
  )
  const inverse = inverseField?.name
  const imprecise: RelationInfo = {
    model,
    field: field.name,
    target,
    inverse,
    isList: false,
    fields: [],
    references: [],
    onDelete: 'Cascade',
    onUpdate: 'Cascade',
    holdsForeignKey: false,
    implicitManyToMany: false,
    precise: false,
  }
  const own = precise.get(model)?.fields.get(field.name)
  const targetBlock = precise.get(target)
  if (!own || !targetBlock) return imprecise
  const other = inverse === undefined ? undefined : targetBlock.fields.get(inverse)
  if (inverse !== undefined && !other) return imprecise
  const ownKeys = own.relation?.fields ?? []
  const otherKeys = other?.relation?.fields ?? []
  const base = { model, field: field.name, target, inverse, isList: own.isList, precise: true }

  if (ownKeys.length > 0 && otherKeys.length === 0) {
    return {
      ...base,
      ...actionsOf(own, precise.get(model) as ParsedBlock),
      fields: ownKeys,
      references: own.relation?.references ?? [],
      holdsForeignKey: true,
      implicitManyToMany: false,
    }
  }
  if (ownKeys.length === 0 && other && otherKeys.length > 0) {
    return {
      ...base,
      ...actionsOf(other, targetBlock),
      fields: otherKeys,
      references: other.relation?.references ?? [],
      holdsForeignKey: false,
      implicitManyToMany: false,
    }
  }
  if (ownKeys.length === 0 && otherKeys.length === 0 && own.isList && other?.isList) {
    return {
      ...base,
      fields: [],
      references: [],
      onDelete: 'Cascade',
      onUpdate: 'Cascade',
      holdsForeignKey: false,
      implicitManyToMany: true,
    }
  }
  return imprecise
}

/** The declared actions of the side holding the key, or Prisma's defaults. */
function actionsOf(
  side: ParsedField,
  block: ParsedBlock,
): { onDelete: ReferentialAction; onUpdate: ReferentialAction } {
  const keys = side.relation?.fields ?? []
  const optional = side.optional && keys.every((k) => block.fields.get(k)?.optional !== false)
  return {
    onDelete: side.relation?.onDelete ?? (optional ? 'SetNull' : 'Restrict'),
    onUpdate: side.relation?.onUpdate ?? 'Cascade',
  }
}
