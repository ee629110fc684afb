/**
 * A small parser of Prisma schema text, for what the client's runtime data model lacks: ids,
 * unique selectors, and each relation's fields, references and referential actions. It reads
 * model and view blocks and skips everything else (generators, datasources, enums, types).
 */
import type { ReferentialAction, UniqueSelector } from './datamodel.ts'
export interface ParsedRelation {
  readonly fields: readonly string[]
  readonly references: readonly string[]
  readonly onDelete: ReferentialAction | undefined
  readonly onUpdate: ReferentialAction | undefined
}

export interface ParsedField {
  readonly name: string
  readonly type: string
  readonly isList: boolean
  readonly optional: boolean
  readonly relation: ParsedRelation | undefined
  /** The native type attribute without `db.` (`Uuid`, `VarChar`, `Citext`), when given. */
  readonly native: string | undefined
  /** `@updatedAt`: Prisma sets it on every update that changes a scalar field. */
  readonly updatedAt: boolean
}

export interface ParsedBlock {
  readonly kind: 'model' | 'view'
  readonly failed: boolean
  readonly fields: ReadonlyMap<string, ParsedField>
  readonly selectors: readonly UniqueSelector[]
}

type Token = { readonly t: 'id' | 'str' | 'num' | 'p' | 'nl'; readonly v: string }

type Value =
  | { readonly k: 'str' | 'num' | 'other'; readonly v: string }
  | { readonly k: 'id'; readonly v: string; readonly args?: readonly Arg[] }
  | { readonly k: 'list'; readonly items: readonly Value[] }

interface Arg {
  readonly name: string | undefined
  readonly value: Value
}

interface Attribute {
  readonly name: string
  readonly args: readonly Arg[]
}

class SchemaSyntaxError extends Error {}

const ACTIONS: ReadonlySet<string> = new Set(['Cascade', 'Restrict', 'NoAction', 'SetNull', 'SetDefault'])

/** Model and view blocks of a schema, by name. */
export function parseSchema(text: string): Map<string, ParsedBlock> {
  const tokens = tokenize(text)
  const blocks = new Map<string, ParsedBlock>()
  let i = 0
  while (i < tokens.length) {
    const keyword = tokens[i] as Token
    const name = tokens[i + 1]
    const open = tokens[i + 2]
    if (keyword.t !== 'id' || name?.t !== 'id' || open?.t !== 'p' || open.v !== '{') {
      i++
      continue
    }
    const close = matchingBrace(tokens, i + 2)
    if (keyword.v === 'model' || keyword.v === 'view') {
      const block = parseBlock(keyword.v, tokens.slice(i + 3, close < 0 ? tokens.length : close))
      // An unbalanced block cannot be trusted, nor anything after it.
      blocks.set(name.v, close < 0 ? { ...block, failed: true } : block)
    }
    if (close < 0) break
    i = close + 1
  }
  return blocks
}

/** The `provider` of the first `datasource` block (`postgresql`, `sqlite`, `mysql`, …), if any. */
export function datasourceProvider(text: string): string | undefined {
  const tokens = tokenize(text)
  for (let i = 0; i + 2 < tokens.length; i++) {
    const [keyword, , open] = [tokens[i], tokens[i + 1], tokens[i + 2]] as [Token, Token, Token]
    if (keyword.t !== 'id' || keyword.v !== 'datasource' || open.v !== '{') continue
    const close = matchingBrace(tokens, i + 2)
    for (let j = i + 3; j + 2 < (close < 0 ? tokens.length : close); j++) {
      const [name, eq, value] = [tokens[j], tokens[j + 1], tokens[j + 2]] as [Token, Token, Token]
      if (name.t === 'id' && name.v === 'provider' && eq.v === '=' && value.t === 'str') return value.v
    }
    return undefined
  }
  return undefined
}

function matchingBrace(tokens: readonly Token[], open: number): number {
  let depth = 0
  for (let i = open; i < tokens.length; i++) {
    const tok = tokens[i] as Token
    if (tok.t !== 'p') continue
    if (tok.v === '{') depth++
    else if (tok.v === '}' && --depth === 0) return i
  }
  return -1
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  const n = text.length
  let i = 0
  while (i < n) {
    const c = text[i] as string
    if (c === '\n') {
      tokens.push({ t: 'nl', v: '\n' })
      i++
    } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\ufeff') {
      i++
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < n && text[i] !== '\n') i++
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2)
      i = end < 0 ? n : end + 2
    } else if (c === '"') {
      let v = ''
      i++
      while (i < n && text[i] !== '"' && text[i] !== '\n') {
        if (text[i] === '\\' && i + 1 < n) i++
        v += text[i]
        i++
      }
      i++
      tokens.push({ t: 'str', v })
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1
      while (j < n && /[A-Za-z0-9_]/.test(text[j] as string)) j++
      tokens.push({ t: 'id', v: text.slice(i, j) })
      i = j
    } else if (/[0-9-]/.test(c)) {
      let j = i + 1
      while (j < n && /[0-9.eE+-]/.test(text[j] as string)) j++
      tokens.push({ t: 'num', v: text.slice(i, j) })
      i = j
    } else if (c === '@' && text[i + 1] === '@') {
      tokens.push({ t: 'p', v: '@@' })
      i += 2
    } else {
      tokens.push({ t: 'p', v: c })
      i++
    }
  }
  return tokens
}

function parseBlock(kind: 'model' | 'view', tokens: readonly Token[]): ParsedBlock {
  const fields = new Map<string, ParsedField>()
  const selectors: UniqueSelector[] = []
  const addSelector = (selector: UniqueSelector) => {
    const at = selectors.findIndex((s) => s.name === selector.name)
    if (at < 0) selectors.push(selector)
    else if (selector.primary) selectors[at] = selector
  }
  try {
    const p = new Parser(tokens)
    const blockAttributes: Attribute[] = []
    while (!p.done()) {
      if (p.skipNewlines()) continue
      if (p.peekPunct('@@')) {
        blockAttributes.push(p.attribute())
        p.endOfLine()
        continue
      }
      const name = p.ident()
      let type = p.ident()
      if (p.peekPunct('(')) {
        p.args()
        type = `${type}(…)`
      }
      let isList = false
      let optional = false
      if (p.peekPunct('[')) {
        p.expectPunct('[')
        p.expectPunct(']')
        isList = true
      }
      if (p.peekPunct('?')) {
        p.expectPunct('?')
        optional = true
      }
      const attributes: Attribute[] = []
      while (p.peekPunct('@')) attributes.push(p.attribute())
      p.endOfLine()
      let relation: ParsedRelation | undefined
      let native: string | undefined
      let updatedAt = false
      for (const attr of attributes) {
        if (attr.name === 'id') addSelector({ name, fields: [name], primary: true })
        else if (attr.name === 'unique') addSelector({ name, fields: [name], primary: false })
        else if (attr.name === 'relation') relation = relationAttribute(attr)
        else if (attr.name === 'updatedAt') updatedAt = true
        else if (attr.name.startsWith('db.')) native = attr.name.slice(3)
      }
      fields.set(name, { name, type, isList, optional, relation, native, updatedAt })
    }
    for (const attr of blockAttributes) {
      if (attr.name !== 'id' && attr.name !== 'unique') continue
      const list = namedArg(attr, 'fields') ?? positionalArg(attr, 0)
      if (list?.k !== 'list' || list.items.length === 0) throw new SchemaSyntaxError(`@@${attr.name} without fields`)
      const keys = list.items.map(fieldRef)
      const given = namedArg(attr, 'name')
      const name = given?.k === 'str' ? given.v : keys.join('_')
      addSelector({ name, fields: keys, primary: attr.name === 'id' })
    }
    return { kind, failed: false, fields, selectors }
  } catch (error) {
    if (error instanceof SchemaSyntaxError) return { kind, failed: true, fields, selectors }
    throw error
  }
}

function relationAttribute(attr: Attribute): ParsedRelation {
  const list = (name: string): string[] => {
    const v = namedArg(attr, name)
    if (v === undefined) return []
    if (v.k !== 'list') throw new SchemaSyntaxError(`@relation ${name} is not a list`)
    return v.items.map(fieldRef)
  }
  const action = (name: string): ReferentialAction | undefined => {
    const v = namedArg(attr, name)
    if (v === undefined) return undefined
    if (v.k !== 'id' || !ACTIONS.has(v.v)) throw new SchemaSyntaxError(`@relation ${name}: unknown action`)
    return v.v as ReferentialAction
  }
  return {
    fields: list('fields'),
    references: list('references'),
    onDelete: action('onDelete'),
    onUpdate: action('onUpdate'),
  }
}

function namedArg(attr: Attribute, name: string): Value | undefined {
  return attr.args.find((a) => a.name === name)?.value
}

function positionalArg(attr: Attribute, index: number): Value | undefined {
  return attr.args.filter((a) => a.name === undefined)[index]?.value
}

/** `a` or `a(sort: Desc)` in a field list. */
function fieldRef(value: Value): string {
  if (value.k !== 'id') throw new SchemaSyntaxError('expected a field name')
  return value.v
}

class Parser {
  #i = 0
  readonly #tokens: readonly Token[]

  constructor(tokens: readonly Token[]) {
    this.#tokens = tokens
  }

  done(): boolean {
    return this.#i >= this.#tokens.length
  }

  skipNewlines(): boolean {
    let skipped = false
    while (this.#tokens[this.#i]?.t === 'nl') {
      this.#i++
      skipped = true
    }
    return skipped
  }

  peekPunct(v: string): boolean {
    const tok = this.#tokens[this.#i]
    return tok?.t === 'p' && tok.v === v
  }

  expectPunct(v: string): void {
    if (!this.peekPunct(v)) throw new SchemaSyntaxError(`expected ${v}`)
    this.#i++
  }

  ident(): string {
    const tok = this.#tokens[this.#i]
    if (tok?.t !== 'id') throw new SchemaSyntaxError('expected a name')
    this.#i++
    return tok.v
  }

  /** A dotted name: `db.VarChar`. */
  dottedIdent(): string {
    let name = this.ident()
    while (this.peekPunct('.')) {
      this.#i++
      name += `.${this.ident()}`
    }
    return name
  }

  endOfLine(): void {
    const tok = this.#tokens[this.#i]
    if (tok !== undefined && tok.t !== 'nl') throw new SchemaSyntaxError('unexpected text after a field')
  }

  attribute(): Attribute {
    if (this.peekPunct('@@')) this.#i++
    else this.expectPunct('@')
    const name = this.dottedIdent()
    const args = this.peekPunct('(') ? this.args() : []
    return { name, args }
  }

  /** `( [name:] value, … )`, across lines. */
  args(): Arg[] {
    this.expectPunct('(')
    const args: Arg[] = []
    for (;;) {
      this.skipNewlines()
      if (this.peekPunct(')')) break
      let name: string | undefined
      const tok = this.#tokens[this.#i]
      const next = this.#tokens[this.#i + 1]
      if (tok?.t === 'id' && next?.t === 'p' && next.v === ':') {
        name = tok.v
        this.#i += 2
        this.skipNewlines()
      }
      args.push({ name, value: this.value() })
      this.skipNewlines()
      if (this.peekPunct(',')) this.#i++
      else if (!this.peekPunct(')')) throw new SchemaSyntaxError('expected , or )')
    }
    this.#i++
    return args
  }

  value(): Value {
    const tok = this.#tokens[this.#i]
    if (tok === undefined) throw new SchemaSyntaxError('unexpected end')
    if (tok.t === 'str' || tok.t === 'num') {
      this.#i++
      return { k: tok.t, v: tok.v }
    }
    if (tok.t === 'id') {
      const name = this.dottedIdent()
      return this.peekPunct('(') ? { k: 'id', v: name, args: this.args() } : { k: 'id', v: name }
    }
    if (this.peekPunct('[')) {
      this.#i++
      const items: Value[] = []
      for (;;) {
        this.skipNewlines()
        if (this.peekPunct(']')) break
        items.push(this.value())
        this.skipNewlines()
        if (this.peekPunct(',')) this.#i++
        else if (!this.peekPunct(']')) throw new SchemaSyntaxError('expected , or ]')
      }
      this.#i++
      return { k: 'list', items }
    }
    throw new SchemaSyntaxError(`unexpected ${tok.v}`)
  }
}
