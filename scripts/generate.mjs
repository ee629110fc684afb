// Generates the SQLite and PostgreSQL clients used by tests, examples and benchmarks.
// Offline, the Prisma CLI refuses to run unless PRISMA_SCHEMA_ENGINE_BINARY names an existing
// file; generate does not execute it, so a stub is enough. A user's own engine is left alone.
import { execFileSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const env = { ...process.env }
env.PRISMA_SCHEMA_ENGINE_BINARY ??= join(root, 'scripts', 'schema-engine-stub.sh')
env.PRISMA_HIDE_UPDATE_MESSAGE = '1'

for (const [schema, out] of [
  ['prisma/schema.prisma', 'generated/sqlite'],
  ['prisma/postgres.prisma', 'generated/postgres'],
]) {
  const marker = join(root, out, 'client.ts')
  const fresh = existsSync(marker) && statSync(marker).mtimeMs > statSync(join(root, schema)).mtimeMs
  if (fresh && !process.argv.includes('--force')) continue
  execFileSync(join(root, 'node_modules', '.bin', 'prisma'), ['generate', '--schema', schema], {
    cwd: root,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  if (!existsSync(marker)) throw new Error(`prisma generate did not write ${marker}`)
}
