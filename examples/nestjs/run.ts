// Run: npx tsx examples/nestjs/run.ts   (SQLite in .tmp/; Redis at REDIS_URL, default redis://127.0.0.1:6379)
//
// Builds and runs the Nest app in src/ the way a Nest project is built: CommonJS through tsc
// (tsconfig.json here: module commonjs, experimentalDecorators, emitDecoratorMetadata), then
// `node dist/main.js`. It lays the app out as a project of its own in .tmp/, since the repository
// itself is an ES module package: a package.json without "type" (so CommonJS), tiered-cache in
// node_modules as npm installs it (built from src/ of this repository), the Prisma client generated
// from prisma/schema.prisma into src/generated. Other packages resolve from the repository's node_modules.
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { dropPrefix, REDIS_URL, removeDatabase, seededDatabase, uniquePrefix } from '../setup.ts'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const bin = (name: string) => join(root, 'node_modules', '.bin', name)
const name = uniquePrefix('nestjs')
const project = join(root, '.tmp', name)

/** Runs a build step quietly; when it fails, its output (tsc prints errors on stdout) becomes the error. */
function step(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): void {
  try {
    execFileSync(command, args, { cwd: project, env, stdio: 'pipe' })
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer }
    throw new Error(`${command} ${args.join(' ')} failed:\n${stdout ?? ''}${stderr ?? ''}`)
  }
}

function build(): void {
  const installed = join(project, 'node_modules', 'tiered-cache')
  step(bin('tsc'), ['-p', join(root, 'tsconfig.build.json'), '--outDir', join(installed, 'dist')])
  cpSync(join(root, 'package.json'), join(installed, 'package.json'))
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'nestjs-example', private: true }))
  cpSync(join(here, 'tsconfig.json'), join(project, 'tsconfig.json'))
  cpSync(join(here, 'prisma'), join(project, 'prisma'), { recursive: true })
  cpSync(join(here, 'src'), join(project, 'src'), { recursive: true, filter: (from) => !from.includes('generated') })
  // Offline, the Prisma CLI needs PRISMA_SCHEMA_ENGINE_BINARY to name a file (scripts/generate.mjs says why).
  step(bin('prisma'), ['generate', '--schema', join('prisma', 'schema.prisma')], {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY:
      process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? join(root, 'scripts', 'schema-engine-stub.sh'),
    PRISMA_HIDE_UPDATE_MESSAGE: '1',
  })
  step(bin('tsc'), ['-p', 'tsconfig.json'])
}

mkdirSync(project, { recursive: true })
const file = await seededDatabase(name)
try {
  build()
  const app = spawn(process.execPath, [join(project, 'dist', 'main.js')], {
    cwd: project,
    env: { ...process.env, DATABASE_URL: `file:${file}`, REDIS_URL, CACHE_PREFIX: name },
    stdio: 'inherit',
  })
  // Turns a connection left open (the app would never exit) into a failure instead of a hang.
  const guard = setTimeout(() => app.kill('SIGKILL'), 30_000)
  const [code, signal] = (await once(app, 'exit')) as [number | null, NodeJS.Signals | null]
  clearTimeout(guard)
  if (signal) console.log('the app did not exit by itself within 30 s: something it opened is still open')
  process.exitCode = code ?? 1
} finally {
  await dropPrefix(name)
  removeDatabase(file)
  rmSync(project, { recursive: true, force: true })
}
