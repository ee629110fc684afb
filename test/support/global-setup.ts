import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import type { TestProject } from 'vitest/node'
import { DATABASE_URL } from './env.ts'
import { migrationSql, projectRoot } from './migrations.ts'

/**
 * Creates one fresh SQLite file and one fresh PostgreSQL database for this run and applies the
 * committed migrations to both. Tests truncate what they write; the run drops the database at the end.
 */
export default async function setup(project: TestProject) {
  const runId = `${process.pid}_${Date.now().toString(36)}`
  const dir = join(projectRoot, '.tmp')
  mkdirSync(dir, { recursive: true })
  const sqliteFile = join(dir, `test_${runId}.db`)
  const sqlite = new Database(sqliteFile)
  sqlite.exec(migrationSql('sqlite'))
  sqlite.close()

  const dbName = `ptc_test_${runId}`
  const admin = new pg.Client({ connectionString: DATABASE_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE "${dbName}"`)
  const url = new URL(DATABASE_URL)
  url.pathname = `/${dbName}`
  const db = new pg.Client({ connectionString: url.toString() })
  await db.connect()
  await db.query(migrationSql('postgres'))
  await db.end()

  project.provide('sqliteFile', sqliteFile)
  project.provide('postgresUrl', url.toString())

  return async () => {
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`)
    await admin.end()
    for (const suffix of ['', '-journal', '-wal', '-shm']) rmSync(`${sqliteFile}${suffix}`, { force: true })
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    sqliteFile: string
    postgresUrl: string
  }
}
