import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { projectRoot } from './support/migrations.ts'

const run = promisify(execFile)

interface PackageJson {
  name: string
  main: string
  types: string
  files: string[]
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

// The package as npm would install it, built from the sources: <root>/node_modules/<name>/ inside
// .tmp/ of the repository, so the package's own dependencies resolve from the repository's node_modules.
const root = join(projectRoot, '.tmp', `package-${process.pid}-${randomBytes(3).toString('hex')}`)
const installed = join(root, 'node_modules', pkg.name)

beforeAll(async () => {
  mkdirSync(installed, { recursive: true })
  await run(join(projectRoot, 'node_modules', '.bin', 'tsc'), [
    '-p',
    join(projectRoot, 'tsconfig.build.json'),
    '--outDir',
    join(installed, 'dist'),
  ])
  cpSync(join(projectRoot, 'package.json'), join(installed, 'package.json'))
  // The consumer's own package scope: without it, files under the repository would resolve the
  // package's name to the repository itself (a self-reference) instead of node_modules.
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
  for (const entry of pkg.files) {
    if (entry !== 'dist') cpSync(join(projectRoot, entry), join(installed, entry), { recursive: true })
  }
}, 120_000)

afterAll(() => rmSync(root, { recursive: true, force: true }))

/** The file every condition of every `exports` path points at, by subpath. */
function exportTargets(): Array<[subpath: string, target: string]> {
  return Object.entries(pkg.exports).flatMap(([subpath, target]) =>
    typeof target === 'string'
      ? [[subpath, target] as [string, string]]
      : Object.values(target).map((file) => [subpath, file] as [string, string]),
  )
}

/** Runs an ES module in the consumer's directory and returns what it printed as JSON. */
async function consumer(name: string, source: string): Promise<unknown> {
  const file = join(root, name)
  writeFileSync(file, source)
  const { stdout } = await run(process.execPath, [file], { cwd: root })
  return JSON.parse(stdout)
}

describe('the built package', () => {
  it('npm packs every file the exports map, main and types point at', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: installed })
    const [packed] = JSON.parse(stdout) as [{ files: Array<{ path: string }> }]
    const paths = new Set(packed.files.map((f) => f.path))
    for (const [, target] of exportTargets()) expect(paths).toContain(target.replace(/^\.\//, ''))
    expect(paths).toContain(pkg.main.replace(/^\.\//, ''))
    expect(paths).toContain(pkg.types.replace(/^\.\//, ''))
    expect(paths).toContain('README.md')
    expect([...paths].filter((path) => path.startsWith('src/') || path.startsWith('test/'))).toEqual([])
  })

  it('loads through every exports path by its package name', async () => {
    const subpaths = Object.keys(pkg.exports)
    const source = `
      const loaded = {}
      for (const subpath of ${JSON.stringify(subpaths)}) {
        const specifier = subpath === '.' ? ${JSON.stringify(pkg.name)} : ${JSON.stringify(pkg.name)} + subpath.slice(1)
        const module = specifier.endsWith('.json')
          ? await import(specifier, { with: { type: 'json' } })
          : await import(specifier)
        loaded[subpath] = Object.fromEntries(Object.entries(module).map(([k, v]) => [k, typeof v]))
      }
      console.log(JSON.stringify(loaded))
    `
    const loaded = (await consumer('load.mjs', source)) as Record<string, Record<string, string>>
    expect(Object.keys(loaded).sort()).toEqual(subpaths.sort())
    for (const name of PUBLIC_VALUES) expect(loaded['.']?.[name], name).toBeDefined()
    expect(loaded['.']).toMatchObject({ tieredCache: 'function', MemoryCache: 'function', KeyPattern: 'function' })
    expect(loaded['./package.json']?.default).toBe('object')
  })

  it('the error classes and tieredCache() work from the built files', async () => {
    const source = `
      import { CacheOptionError, CacheError, L2TimeoutError, tieredCache } from ${JSON.stringify(pkg.name)}
      let thrown
      try { tieredCache({ ttl: -1 }) } catch (error) { thrown = error }
      const timeout = new L2TimeoutError('get', 200)
      console.log(JSON.stringify({
        optionError: thrown instanceof CacheOptionError && thrown instanceof TypeError,
        option: thrown?.option,
        timeout: timeout instanceof CacheError && timeout.code,
        extension: typeof tieredCache(),
      }))
    `
    expect(await consumer('use.mjs', source)).toEqual({
      optionError: true,
      option: 'ttl',
      timeout: 'E_L2_TIMEOUT',
      extension: 'function',
    })
  })

  it('require() of the package gets the same names where Node can require ES modules', async () => {
    const source = `
      import { createRequire } from 'node:module'
      const names = process.features.require_module
        ? Object.keys(createRequire(import.meta.url)(${JSON.stringify(pkg.name)}))
        : null
      console.log(JSON.stringify(names))
    `
    const names = (await consumer('require.mjs', source)) as string[] | null
    if (names !== null) expect(names).toEqual(expect.arrayContaining(PUBLIC_VALUES))
  })

  it('its declarations type-check in a strict NodeNext project that imports it by name', async () => {
    writeFileSync(
      join(root, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
        },
        files: ['consumer.ts'],
      }),
    )
    // Each @ts-expect-error fails the check if the type it tests came through as `any`.
    writeFileSync(
      join(root, 'consumer.ts'),
      `
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
      `,
    )
    await expect(
      run(join(projectRoot, 'node_modules', '.bin', 'tsc'), ['-p', join(root, 'tsconfig.json')], { cwd: root }),
    ).resolves.toBeDefined()
  })
})
