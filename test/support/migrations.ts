import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** The committed migration SQL for one database, in the order `prisma migrate deploy` applies it. */
export function migrationSql(provider: 'sqlite' | 'postgres'): string {
  const dir = join(root, 'prisma', 'migrations', provider)
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort()
    .map((name) => readFileSync(join(dir, name, 'migration.sql'), 'utf8'))
    .join('\n')
}

export const projectRoot = root
