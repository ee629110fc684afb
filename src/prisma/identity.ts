/**
 * What makes two clients' answers to one query differ, besides its arguments: part of every key,
 * so clients configured differently never share entries under one `prefix`. Two instances of one
 * application (same schema, same configuration, same database) get the same identity and share.
 *
 * - the schema (its fingerprint);
 * - global `omit` (`new PrismaClient({ omit })`), which changes results without being in `args`;
 * - the result extensions under the cache (their fields and what they need);
 * - the database: asked once (SQLite's file, PostgreSQL's database and server), since a driver
 *   adapter does not tell; a database that cannot say isolates the client's entries to its process;
 * - the `namespace` option.
 */
import { createHash, randomUUID } from 'node:crypto'
import { canonical } from '../core/canonical.ts'
import type { ClientKeyScope } from './query-keys.ts'

type Internals = Record<string, unknown>

/** What a client's configuration changes in its results: global omit, and the result extensions under the cache. */
export interface ClientShape {
  /** `new PrismaClient({ omit })`, as text ('' without). */
  readonly omit: string
  /** The computed fields of result extensions under the cache and what they need, as text ('' without). */
  readonly computed: string
}

export function clientShape(client: unknown, models: readonly string[]): ClientShape {
  const internals = client as Internals
  const extensions = internals._extensions as
    | { getAllComputedFields?(model: string): Record<string, { needs?: readonly string[] }> | undefined }
    | undefined
  const computed: Record<string, Record<string, readonly string[]>> = {}
  for (const model of models) {
    const fields = extensions?.getAllComputedFields?.(model)
    if (!fields) continue
    const entry: Record<string, readonly string[]> = {}
    for (const [name, field] of Object.entries(fields)) entry[name] = [...(field.needs ?? [])].sort()
    if (Object.keys(entry).length > 0) computed[model] = entry
  }
  const omit = internals._globalOmit
  return {
    omit: omit !== undefined && omit !== null && Object.keys(omit as object).length > 0 ? canonical(omit) : '',
    computed: Object.keys(computed).length > 0 ? canonical(computed) : '',
  }
}

/** The queries that name a database, by Prisma provider. */
const PROBES: Readonly<Record<string, readonly string[]>> = {
  sqlite: ['PRAGMA database_list'],
  postgresql: [
    'SELECT current_database() AS db, inet_server_addr()::text AS addr, inet_server_port() AS port',
    'SELECT system_identifier::text AS system FROM pg_control_system()',
  ],
  cockroachdb: ['SELECT current_database() AS db, crdb_internal.cluster_id()::text AS cluster'],
  mysql: ['SELECT @@hostname AS host, @@port AS port, DATABASE() AS db'],
  sqlserver: ['SELECT @@SERVERNAME AS host, DB_NAME() AS db'],
}

/**
 * The database `client` reads, as text; a query that fails (a permission, an in-memory SQLite)
 * leaves a part out, and a database nothing can be learnt of gets an identity of this process only.
 */
export async function databaseIdentity(client: unknown): Promise<string> {
  const internals = client as Internals & { $queryRawUnsafe?: (sql: string) => Promise<unknown> }
  const provider = String(internals._activeProvider ?? '')
  const answers: unknown[] = []
  for (const sql of PROBES[provider] ?? []) {
    try {
      answers.push(await internals.$queryRawUnsafe!(sql))
    } catch {
      // Not allowed here (pg_control_system needs pg_monitor): the other answers still name it.
    }
  }
  // An in-memory SQLite database has no file: nobody else can read it.
  const named = answers.length > 0 && !(provider === 'sqlite' && !/"file":"[^"]+"/.test(canonical(answers)))
  return named ? canonical([provider, answers]) : `process:${randomUUID()}`
}

/** The part of every key that stands for a client's identity: short, stable across processes. */
export function identityHash(parts: readonly unknown[]): string {
  return createHash('sha256').update(canonical(parts)).digest('base64url').slice(0, 12)
}

/**
 * The key scopes of one client, known once its database has answered who it is (the first cached
 * read asks; until then reads are not cached). `model` is for reads answered by the model methods
 * (their values carry the result extensions under the cache), `hook` for reads cached in a query
 * hook (values before any result extension); they are the same scope when there are none.
 */
export class ClientIdentity {
  model: ClientKeyScope | undefined
  hook: ClientKeyScope | undefined
  readonly #make: (database: string) => void
  readonly #probe: () => Promise<string>
  #asking: Promise<void> | undefined

  constructor(
    prefix: string,
    fingerprint: string,
    shape: ClientShape,
    namespace: string | undefined,
    probe: () => Promise<string>,
  ) {
    this.#probe = probe
    this.#make = (database) => {
      const scope = (computed: string): ClientKeyScope => ({
        prefix,
        fingerprint: `${fingerprint}.${identityHash([database, shape.omit, computed, namespace ?? null])}`,
      })
      this.hook = scope('')
      this.model = shape.computed === '' ? this.hook : scope(shape.computed)
    }
  }

  /** Asks the database once (again after a failure); resolves when the scopes are known. */
  known(): Promise<void> {
    this.#asking ??= this.#probe().then(this.#make, (error: unknown) => {
      this.#asking = undefined
      throw error
    })
    return this.#asking
  }
}
