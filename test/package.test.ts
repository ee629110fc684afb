import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REDIS_URL } from './support/env.ts'
import { projectRoot } from './support/migrations.ts'

const run = promisify(execFile)

interface PackageJson {
  name: string
  main: string
  types: string
  exports: Record<string, string | Record<string, string>>
}

const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as PackageJson

/** The names the contract says the package exports (DESIGN.md, "Public API"). */
const PUBLIC_VALUES = [
  'tieredCache',
  'MemoryCache',
  'RedisCache',
  'TieredCache',
  'CacheKey',
  'KeyPattern',
  'EntityTag',
  'CacheError',
  'CacheOptionError',
  'CacheMissError',
  'L1Error',
  'L2TimeoutError',
  'L2UnavailableError',
  'METRICS_CONTENT_TYPE',
]

/** The version of a package the repository has installed: the npm cache holds it, so installing it is quick. */
function installedVersion(name: string): string {
  const file = join(projectRoot, 'node_modules', ...name.split('/'), 'package.json')
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
}

// An application outside the repository, so that nothing resolves from the repository's node_modules:
// only what npm installed from the tarball and the registry is there.
const app = mkdtempSync(join(tmpdir(), 'tiered-cache-app-'))

async function npm(args: readonly string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', [...args], { cwd, maxBuffer: 16 * 2 ** 20 })
  return stdout
}

/** Runs a file of the application with node and returns what it printed, as JSON. */
async function runFile(name: string, source: string): Promise<unknown> {
  writeFileSync(join(app, name), source)
  const { stdout } = await run(process.execPath, [name], { cwd: app, env: { ...process.env, REDIS_URL } })
  return JSON.parse(stdout)
}

/** The file every condition of every `exports` path points at, by subpath. */
function exportTargets(): Array<[subpath: string, target: string]> {
  return Object.entries(pkg.exports).flatMap(([subpath, target]) =>
    typeof target === 'string'
      ? [[subpath, target] as [string, string]]
      : Object.values(target).map((file) => [subpath, file] as [string, string]),
  )
}

let packed: Set<string>

beforeAll(async () => {
  // `npm pack` as a publish would run it: its prepack script builds dist/ from src/ first.
  const [tarball] = JSON.parse(await npm(['pack', '--json', '--pack-destination', app], projectRoot)) as [
    { filename: string; files: Array<{ path: string }> },
  ]
  packed = new Set(tarball.files.map((f) => f.path))
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }))
  // The one peer an L1-only application needs; ioredis is an optional peer, which npm leaves out.
  await npm(
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      `./${tarball.filename}`,
      `@prisma/client@${installedVersion('@prisma/client')}`,
    ],
    app,
  )
}, 180_000)

afterAll(() => rmSync(app, { recursive: true, force: true }))

describe('the packed tarball', () => {
  it('holds every file the exports map, main and types point at, and the README', () => {
    for (const [, target] of exportTargets()) expect(packed).toContain(target.replace(/^\.\//, ''))
    expect(packed).toContain(pkg.main.replace(/^\.\//, ''))
    expect(packed).toContain(pkg.types.replace(/^\.\//, ''))
    expect(packed).toContain('README.md')
  })

  it('holds no source, test, bench or example file', () => {
    const stray = [...packed].filter((path) => /^(src|test|bench|examples|scripts|prisma|generated)\//.test(path))
    expect(stray).toEqual([])
  })
})

describe('installed with @prisma/client and without ioredis', () => {
  it('an ES module imports every exports path by the package name', async () => {
    const subpaths = Object.keys(pkg.exports)
    const loaded = (await runFile(
      'load.mjs',
      `
      const loaded = {}
      for (const subpath of ${JSON.stringify(subpaths)}) {
        const specifier = subpath === '.' ? ${JSON.stringify(pkg.name)} : ${JSON.stringify(pkg.name)} + subpath.slice(1)
        const module = specifier.endsWith('.json')
          ? await import(specifier, { with: { type: 'json' } })
          : await import(specifier)
        loaded[subpath] = Object.fromEntries(Object.entries(module).map(([k, v]) => [k, typeof v]))
      }
      console.log(JSON.stringify(loaded))
      `,
    )) as Record<string, Record<string, string>>
    expect(Object.keys(loaded).sort()).toEqual(subpaths.sort())
    for (const name of PUBLIC_VALUES) expect(loaded['.']?.[name], name).toBeDefined()
    expect(loaded['.']).toMatchObject({ tieredCache: 'function', MemoryCache: 'function', KeyPattern: 'function' })
    expect(loaded['./package.json']?.default).toBe('object')
  })

  // require() of an ES module: on by default from Node 20.19 and 22.12, the versions Prisma 7 requires.
  it.skipIf(!process.features.require_module)('a CommonJS module require()s it and gets the same names', async () => {
    const names = await runFile(
      'require.cjs',
      `console.log(JSON.stringify(Object.keys(require(${JSON.stringify(pkg.name)}))))`,
    )
    expect(names).toEqual(expect.arrayContaining(PUBLIC_VALUES))
  })

  it('tieredCache() without Redis, the error classes and an L1 cache work from the installed files', async () => {
    const result = await runFile(
      'use.mjs',
      `
      import { CacheError, CacheOptionError, L2TimeoutError, MemoryCache, tieredCache } from ${JSON.stringify(pkg.name)}
      let thrown
      try { tieredCache({ ttl: -1 }) } catch (error) { thrown = error }
      const memory = new MemoryCache()
      memory.set('k', { at: new Date(0) })
      console.log(JSON.stringify({
        optionError: thrown instanceof CacheOptionError && thrown instanceof TypeError,
        option: thrown?.option,
        timeout: new L2TimeoutError('get', 200) instanceof CacheError,
        extension: typeof tieredCache({ ttl: 30 }),
        cached: memory.has('k'),
      }))
      `,
    )
    expect(result).toEqual({ optionError: true, option: 'ttl', timeout: true, extension: 'function', cached: true })
  })
})

describe('installed with ioredis too', () => {
  beforeAll(async () => {
    await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', `ioredis@${installedVersion('ioredis')}`], app)
  }, 120_000)

  it('takes the application’s own ioredis instance, from an ES module and from CommonJS', async () => {
    const esm = await runFile(
      'redis.mjs',
      `
      import { Redis } from 'ioredis'
      import { tieredCache } from ${JSON.stringify(pkg.name)}
      const redis = new Redis(process.env.REDIS_URL, { lazyConnect: true })
      console.log(JSON.stringify(typeof tieredCache({ redis })))
      `,
    )
    expect(esm).toBe('function')
    if (!process.features.require_module) return
    const cjs = await runFile(
      'redis.cjs',
      `
      const { Redis } = require('ioredis')
      const { tieredCache } = require(${JSON.stringify(pkg.name)})
      const redis = new Redis(process.env.REDIS_URL, { lazyConnect: true })
      console.log(JSON.stringify(typeof tieredCache({ redis })))
      `,
    )
    expect(cjs).toBe('function')
  })

  // Each @ts-expect-error fails the check if the type it tests came through as `any`.
  const consumerSource = `
    import { type CacheClient, type CacheStats, KeyPattern, type MetricsOption, tieredCache, type TieredCacheOptions } from ${JSON.stringify(pkg.name)}
    const options: TieredCacheOptions & MetricsOption = { ttl: 60, l1: { max: 100 }, metrics: true }
    // @ts-expect-error ttl is a number of seconds
    const bad: TieredCacheOptions = { ttl: '60' }
    declare const stats: CacheStats
    const hits: number = stats.l1.hits
    // @ts-expect-error not a field of CacheStats
    stats.nope
    declare const cache: CacheClient
    const text: string = cache.metrics()
    // @ts-expect-error metrics() returns the text, not a promise
    cache.metrics().then
    tieredCache(options)
    new KeyPattern('a:*')
    export { bad, hits, text }
  `

  it.each([
    // An ES module of a Node project (node16 resolution needs .mts, or "type": "module").
    { resolution: 'node16', module: 'node16', file: 'consumer.mts' },
    // A bundled app (Vite, Next.js, esbuild): the "bundler" resolution of the exports map.
    { resolution: 'bundler', module: 'esnext', file: 'consumer.ts' },
  ])(
    'its declarations type-check in a strict project with moduleResolution $resolution',
    async ({ resolution, module, file }) => {
      const config = `tsconfig.${resolution}.json`
      writeFileSync(join(app, file), consumerSource)
      writeFileSync(
        join(app, config),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module,
            moduleResolution: resolution,
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            types: [],
          },
          files: [file],
        }),
      )
      const tsc = join(projectRoot, 'node_modules', '.bin', 'tsc')
      // tsc prints its errors on stdout: the assertion shows them.
      const errors = await run(tsc, ['-p', config], { cwd: app }).then(
        () => '',
        (error: { stdout?: string }) => error.stdout ?? String(error),
      )
      expect(errors).toBe('')
    },
  )
})
