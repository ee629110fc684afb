/**
 * The runtime data model of a Prisma schema, read from its text: what `prisma generate` puts in
 * `client._runtimeDataModel` (models, fields, kinds, relation names, `@map`/`@@map`/`@@schema`
 * names), so that the CLI can describe the tables of a schema file offline, with no generated client.
 *
 * The schema parser (../schema/parser.ts) reads identities and relations but not database names;
 * this reads only the names. It works line by line: Prisma requires every field and attribute
 * on one line.
 */
import type { MappedDataModel, MappedField, MappedModel } from './tables.ts'

/** What a schema text says about its tables. */
export interface SchemaTextModel {
  readonly runtime: MappedDataModel
  /** The datasource `provider` (`postgresql`, `sqlite`, …), when the text has a datasource. */
  readonly provider: string | undefined
}

interface Block {
  readonly keyword: string
  readonly name: string
  readonly lines: readonly string[]
}

/** Reads the runtime data model (and the datasource provider) from schema text. */
export function readSchemaText(text: string): SchemaTextModel {
  const blocks = splitBlocks(text)
  const enums = new Set(blocks.filter((b) => b.keyword === 'enum').map((b) => b.name))
  const tables = blocks.filter(
    (b) => (b.keyword === 'model' || b.keyword === 'view') && !hasBlockAttribute(b, 'ignore'),
  )
  const modelNames = new Set(tables.map((b) => b.name))
  const models: Record<string, MappedModel> = {}
  for (const block of tables) models[block.name] = readModel(block, modelNames, enums)
  const datasource = blocks.find((b) => b.keyword === 'datasource')
  const provider = datasource?.lines
    .map((line) => /^provider\s*=\s*"([^"]*)"/.exec(line)?.[1])
    .find((p) => p !== undefined)
  return { runtime: { models }, provider }
}

function readModel(block: Block, modelNames: ReadonlySet<string>, enums: ReadonlySet<string>): MappedModel {
  const fields: MappedField[] = []
  for (const line of block.lines) {
    if (line.startsWith('@@')) continue
    const match = /^([A-Za-z_]\w*)\s+([A-Za-z_]\w*)(\([^)]*\))?(\[\])?\??\s*(.*)$/.exec(line)
    if (!match) continue
    const [, name = '', type = '', unsupported, , rest = ''] = match
    // Prisma's client knows neither ignored nor unsupported fields.
    if (unsupported !== undefined || /@ignore\b/.test(rest)) continue
    const dbName = stringArgument(rest, '@map')
    if (modelNames.has(type)) {
      const relationName = stringArgument(rest, '@relation') ?? [block.name, type].sort().join('To')
      fields.push({ name, kind: 'object', type, relationName })
    } else {
      const field = { name, kind: enums.has(type) ? 'enum' : 'scalar', type }
      fields.push(dbName === undefined ? field : { ...field, dbName })
    }
  }
  return {
    fields,
    dbName: stringArgument(blockAttribute(block, 'map'), '@@map') ?? null,
    schema: stringArgument(blockAttribute(block, 'schema'), '@@schema') ?? null,
  }
}

function hasBlockAttribute(block: Block, name: string): boolean {
  return blockAttribute(block, name) !== ''
}

function blockAttribute(block: Block, name: string): string {
  return block.lines.find((line) => new RegExp(`^@@${name}\\b`).test(line)) ?? ''
}

const STRING = '"((?:[^"\\\\]|\\\\.)*)"'

/** The name an attribute gives as its first argument or as `name:` (`@map("x")`, `@relation(name: "x")`). */
function stringArgument(text: string, attribute: string): string | undefined {
  const at = new RegExp(`${attribute}\\s*\\(`).exec(text)
  if (!at) return undefined
  const start = at.index + at[0].length
  const args = text.slice(start, start + closingBracket(text.slice(start)))
  const match = new RegExp(`^\\s*${STRING}`).exec(args) ?? new RegExp(`(?:^|[,\\s])name\\s*:\\s*${STRING}`).exec(args)
  return match ? (JSON.parse(`"${match[1]}"`) as string) : undefined
}

/** Top-level blocks with their lines: comments removed, trimmed, one field or attribute a line. */
function splitBlocks(text: string): Block[] {
  const blocks: Block[] = []
  let current: { keyword: string; name: string; lines: string[] } | undefined
  for (const raw of text.split(/\r?\n/)) {
    const line = withoutComment(raw).trim()
    if (line === '') continue
    if (current === undefined) {
      const open = /^(\w+)\s+(\w+)\s*\{$/.exec(line)
      if (open) current = { keyword: open[1] as string, name: open[2] as string, lines: [] }
      continue
    }
    if (line === '}') {
      blocks.push(current)
      current = undefined
    } else {
      current.lines.push(line)
    }
  }
  return blocks
}

/** `line` without a `//` comment, strings respected. */
function withoutComment(line: string): string {
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (c === '\\' && quoted) i++
    else if (c === '"') quoted = !quoted
    else if (!quoted && c === '/' && line[i + 1] === '/') return line.slice(0, i)
  }
  return line
}

/** Where the bracket that is open before `text` closes (its length when it does not), strings respected. */
function closingBracket(text: string): number {
  let open = 0
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '\\' && quoted) i++
    else if (c === '"') quoted = !quoted
    else if (!quoted && (c === '(' || c === '[')) open++
    else if (!quoted && (c === ')' || c === ']') && --open < 0) return i
  }
  return text.length
}
