#!/usr/bin/env node
/**
 * The `tiered-cache` command. One command so far:
 *
 *   tiered-cache change-capture-sql [--schema <file or folder>] [--drop] [--prefix <p>] [--channel <name>]
 *
 * prints the SQL that installs (or, with `--drop`, removes) PostgreSQL change capture for a
 * Prisma schema, to add as a migration. It reads the schema text only: no database, no network,
 * no generated client.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { changeCaptureDropSql, changeCaptureSql } from './prisma/change-capture/sql.ts'

const USAGE = `Usage: tiered-cache change-capture-sql [options]

Prints the SQL that installs PostgreSQL change capture (triggers publishing every committed
row change with pg_notify) for a Prisma schema. Add it as a migration, for instance:
  mkdir -p prisma/migrations/20270101000000_change_capture
  npx tiered-cache change-capture-sql > prisma/migrations/20270101000000_change_capture/migration.sql

Options:
  --schema <path>   the schema file, or a folder of .prisma files (default: prisma/schema.prisma)
  --drop            print the SQL that removes change capture instead
  --prefix <p>      the cache's prefix, which names the function and triggers (default: ptc)
  --channel <name>  the NOTIFY channel (default: <prefix>_changes)
  --help            this text
`

/** Runs the command line `args`; returns the exit code. */
function run(args: readonly string[], out = process.stdout, err = process.stderr): number {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(args)
  } catch (error) {
    err.write(`${(error as Error).message}\n\n${USAGE}`)
    return 2
  }
  const { positionals, values } = parsed
  if (values.help) {
    out.write(USAGE)
    return 0
  }
  if (positionals.length !== 1 || positionals[0] !== 'change-capture-sql') {
    err.write(positionals.length === 0 ? USAGE : `Unknown command: ${positionals.join(' ')}\n\n${USAGE}`)
    return 2
  }
  const names = { prefix: values.prefix, channel: values.channel }
  try {
    out.write(
      values.drop ? changeCaptureDropSql(names) : changeCaptureSql({ schema: readSchema(values.schema) }, names),
    )
    return 0
  } catch (error) {
    err.write(`tiered-cache: ${(error as Error).message}\n`)
    return 1
  }
}

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      schema: { type: 'string', default: join('prisma', 'schema.prisma') },
      drop: { type: 'boolean', default: false },
      prefix: { type: 'string' },
      channel: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  })
}

/** The schema text: the file, or every `.prisma` file under the folder (a multi-file schema). */
function readSchema(path: string): string {
  if (!statSync(path).isDirectory()) return readFileSync(path, 'utf8')
  const files = (readdirSync(path, { recursive: true, encoding: 'utf8' }) as string[])
    .filter((file) => file.endsWith('.prisma'))
    .sort()
  if (files.length === 0) throw new Error(`no .prisma file in ${path}`)
  return files.map((file) => readFileSync(join(path, file), 'utf8')).join('\n')
}

process.exitCode = run(process.argv.slice(2))
