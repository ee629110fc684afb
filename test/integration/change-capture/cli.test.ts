import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PrismaPg } from '@prisma/adapter-pg'
import { afterAll, describe, expect, it } from 'vitest'
import { PrismaClient } from '../../../generated/postgres/client.ts'
import { changeCaptureDropSql, changeCaptureSql } from '../../../src/prisma/change-capture/sql.ts'
import { projectRoot } from '../../support/migrations.ts'

const tsx = join(projectRoot, 'node_modules', '.bin', 'tsx')
const cli = join(projectRoot, 'src', 'cli.ts')
const postgresSchema = join(projectRoot, 'prisma', 'postgres.prisma')
const folders: string[] = []

afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true })
})

/** Runs the CLI as a child process, with no database or network configured. */
function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }
  return new Promise((resolve) => {
    execFile(tsx, [cli, ...args], { cwd: projectRoot, env, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr })
    })
  })
}

describe('npx tiered-cache change-capture-sql', () => {
  it('prints the same SQL for a schema file as changeCaptureSql(prisma) does for its client', async () => {
    const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: 'postgresql://127.0.0.1:1/unused' }) })
    const result = await run(['change-capture-sql', '--schema', postgresSchema])
    expect(result).toEqual({ code: 0, stdout: changeCaptureSql(prisma), stderr: '' })
  })

  it('reads a folder of .prisma files as one schema', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'cc-cli-'))
    folders.push(folder)
    const text = readFileSync(postgresSchema, 'utf8')
    const split = text.indexOf('model User')
    writeFileSync(join(folder, 'schema.prisma'), text.slice(0, split))
    writeFileSync(join(folder, 'models.prisma'), text.slice(split))
    const result = await run(['change-capture-sql', '--schema', folder])
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(changeCaptureSql({ schema: `${text.slice(split)}\n${text.slice(0, split)}` }))
  })

  it('prints the drop SQL, and honours --prefix and --channel', async () => {
    expect((await run(['change-capture-sql', '--drop'])).stdout).toBe(changeCaptureDropSql())
    const named = await run([
      'change-capture-sql',
      '--schema',
      postgresSchema,
      '--prefix',
      'app',
      '--channel',
      'app.events',
    ])
    expect(named.stdout).toBe(
      changeCaptureSql({ schema: readFileSync(postgresSchema, 'utf8') }, { prefix: 'app', channel: 'app.events' }),
    )
    expect(named.stdout).toContain(`EXECUTE FUNCTION "app_capture_Post"('app.events');`)
  })

  it('fails with a message for a SQLite schema, a missing file and a bad prefix, and shows usage for a bad command', async () => {
    const sqlite = await run(['change-capture-sql', '--schema', join(projectRoot, 'prisma', 'schema.prisma')])
    expect(sqlite).toMatchObject({ code: 1, stdout: '' })
    expect(sqlite.stderr).toContain('change capture needs PostgreSQL')
    const missing = await run(['change-capture-sql', '--schema', join(projectRoot, 'no-such.prisma')])
    expect(missing).toMatchObject({ code: 1, stdout: '' })
    expect(missing.stderr).toContain('no-such.prisma')
    const prefix = await run(['change-capture-sql', '--schema', postgresSchema, '--prefix', 'a b'])
    expect(prefix.stderr).toContain('changeCaptureSql.prefix')
    const unknown = await run(['migrate'])
    expect(unknown).toMatchObject({ code: 2, stdout: '' })
    expect(unknown.stderr).toContain('Usage: tiered-cache change-capture-sql')
    const help = await run(['--help'])
    expect(help).toMatchObject({ code: 0, stderr: '' })
    expect(help.stdout).toContain('--schema <path>')
  })
})
