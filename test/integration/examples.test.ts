import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { dropPrefix, removeDatabase, seededDatabase, uniquePrefix } from '../../examples/setup.ts'
import { REDIS_URL } from '../support/env.ts'
import { projectRoot } from '../support/migrations.ts'

/** Runs an example as a user would (`node --import tsx examples/<file>`), to its exit. */
async function runExample(file: string, env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', join('examples', file)], {
    cwd: projectRoot,
    env: { ...process.env, REDIS_URL, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => (stdout += chunk))
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const [code] = (await once(child, 'exit')) as [number | null]
  return { code, stdout, stderr }
}

/** A URL of a port nobody listens on: one that was free a moment ago. */
async function closedRedisUrl(): Promise<string> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return `redis://127.0.0.1:${port}`
}

/** The lines of `text` in order, each matching its pattern, others allowed between them. */
function expectLinesInOrder(text: string, patterns: readonly RegExp[]): void {
  const lines = text.split('\n')
  let at = 0
  for (const pattern of patterns) {
    const found = lines.findIndex((line, i) => i >= at && pattern.test(line))
    expect(found, `a line matching ${pattern} after line ${at} of:\n${text}`).toBeGreaterThanOrEqual(0)
    at = found + 1
  }
}

/** The demo's own database, so that a demo a person runs meanwhile is left alone. */
const demoDb = `demo-test-${process.pid}`
afterAll(() => {
  for (const suffix of ['', '-journal', '-wal', '-shm'])
    rmSync(join(projectRoot, '.tmp', `${demoDb}.db${suffix}`), { force: true })
})

describe('the examples', () => {
  it('the demo shows a miss on A, an L2 hit then an L1 hit on B, a write reaching B, and the hit ratios', async () => {
    const { code, stdout, stderr } = await runExample('demo.ts', { DEMO_DB: demoDb })
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout).not.toContain('not answering')
    expectLinesInOrder(stdout, [
      /^1\. Where a read is answered/,
      /instance A\s+user\.findUnique.*miss -> database/,
      /instance B\s+user\.findUnique.*L2 hit/,
      /instance B\s+user\.findUnique.*L1 hit/,
      /^2\. Median latency/,
      /query\s+uncached\s+L2 hit\s+L1 hit/,
      /user\.findUnique by id\s+\d+\s+\d+\s+\d+/,
      /post\.count by author\s+\d+\s+\d+\s+\d+/,
      /^3\. A write/,
      /A invalidated the tags m:User, r:User:1/,
      /B received them over the bus: m:User, r:User:1/,
      /instance B\s+user\.findUnique.*miss -> database/,
      /name is now "Ada Lovelace"/,
      /instance A\s+user\.findUnique\(\{ where: \{ id: 2 \} \}\)\s+L1 hit/,
      /^4\. Hit ratios/,
      /instance A\s+\d+\.\d%/,
      /instance B\s+\d+\.\d%/,
    ])
  })

  it('the demo runs with L1 only, after a one-line notice, when Redis does not answer', async () => {
    const url = await closedRedisUrl()
    const { code, stdout } = await runExample('demo.ts', { REDIS_URL: url, DEMO_DB: demoDb })
    expect(code).toBe(0)
    expect(stdout.split('\n')[0]).toBe(`Redis at ${url} is not answering: running with the in-process L1 only.`)
    expect(stdout).not.toContain('instance B')
    expectLinesInOrder(stdout, [
      /instance A\s+user\.findUnique.*miss -> database/,
      /instance A\s+user\.findUnique.*L1 hit/,
      /user\.findUnique by id\s+\d+\s+-\s+\d+/,
      /A invalidated the tags m:User, r:User:1/,
      /name is now "Ada Lovelace"/,
      /instance A\s+\d+\.\d%/,
    ])
  })

  it('the HTTP API: a PUT on instance A is seen by the next GET on instance B', async () => {
    const { code, stdout } = await runExample('http-api.ts')
    expect(code).toBe(0)
    expectLinesInOrder(stdout, [
      /^instance A on http:\/\/127\.0\.0\.1:\d+, instance B on http:\/\/127\.0\.0\.1:\d+/,
      /^B\s+GET \/users\/1\s+-> \{"id":1,"name":"Ada"\}/,
      /^B\s+GET \/users\/1 \(from its L1 now\)\s+-> \{"id":1,"name":"Ada"\}/,
      /^A\s+PUT \/users\/1 \{"name":"Grace"\}\s+-> \{"id":1,"name":"Grace"\}/,
      /^B\s+GET \/users\/1\s+-> \{"id":1,"name":"Grace"\}/,
      /tiered_cache_hits_total\{tier="l1",model="User",operation="findUnique"\} 1/,
      /tiered_cache_bus_messages_total 1/,
      /^stopped both instances/,
    ])
  })

  it('the HTTP API says it needs Redis, and fails, when Redis does not answer', async () => {
    const url = await closedRedisUrl()
    const { code, stdout } = await runExample('http-api.ts', { REDIS_URL: url })
    expect(code).toBe(1)
    expect(stdout).toContain(`Redis at ${url} is not answering: this example needs it`)
  })

  it('the Accelerate migration runs cacheStrategy code unchanged, and writes invalidate by themselves', async () => {
    const { code, stdout } = await runExample('accelerate-migration.ts')
    expect(code).toBe(0)
    expectLinesInOrder(stdout, [
      /^publishedPosts\(\)\s+cacheStatus miss\s+Notes on the Analytical Engine$/,
      /^publishedPosts\(\)\s+cacheStatus ttl\s+Notes on the Analytical Engine$/,
      /^publish\(\.\.\.\), then publishedPosts\(\)\s+cacheStatus miss\s+.*\| Sketch of the Analytical Engine$/,
      /^a plain post\.create\(\.\.\.\), then publishedPosts\(\)\s+cacheStatus miss\s+.*\| A third post$/,
    ])
  })

  it('multi-tenant keys: without context a tenant gets another tenant’s rows, with it each gets its own', async () => {
    const { code, stdout } = await runExample('multi-tenant.ts')
    expect(code).toBe(0)
    expectLinesInOrder(stdout, [
      /^without `context`/,
      /org 1: user 1 \(owner\), user 2 \(member\)$/,
      /org 2: user 1 \(owner\), user 2 \(member\)\s+<- org 1's rows/,
      /^with `context/,
      /org 1: user 1 \(owner\), user 2 \(member\)\s+database$/,
      /org 2: user 3 \(owner\)\s+database$/,
      /org 1: user 1 \(owner\), user 2 \(member\)\s+cache$/,
      /org 2: user 3 \(owner\)\s+cache$/,
      /^org 2 adds a member/,
      /org 1: user 1 \(owner\), user 2 \(member\)\s+database$/,
      /org 2: user 3 \(owner\), user 4 \(member\)\s+database$/,
    ])
  })

  it('$cache.wrap around $queryRaw: cached, reloaded after a write to a named model or its tag', async () => {
    const { code, stdout } = await runExample('raw-query.ts')
    expect(code).toBe(0)
    expectLinesInOrder(stdout, [
      /^topAuthors\(\)\s+database\s+Ada 3, Alan 2, Grace 1$/,
      /^topAuthors\(\) again\s+cache\s+Ada 3, Alan 2, Grace 1$/,
      /^after post\.createMany\(\.\.\.\), a write to Post\s+database\s+Grace 4, Ada 3, Alan 2$/,
      /^topAuthors\(\) again\s+cache\s+Grace 4/,
      /^after \$cache\.invalidate\(\{ tags: \['reports'\] \}\)\s+database/,
      /^after a \$queryRaw read\s+cache/,
    ])
  })

  it('NestJS: built to CommonJS by tsc, the app require()s the package, and a PUT is seen by the next GET', async () => {
    const { code, stdout, stderr } = await runExample('nestjs/run.ts')
    // No ExperimentalWarning either: require() of an ES module is plain on Node >= 20.19.
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expectLinesInOrder(stdout, [
      /^module format: CommonJS, Node v/,
      /^GET \/users\/1\s+-> \{"id":1,"name":"Ada"\}\s+database$/,
      /^GET \/users\/1\s+-> \{"id":1,"name":"Ada"\}\s+cache$/,
      /^PUT \/users\/1 \{"name":"Grace"\}\s+-> \{"id":1,"name":"Grace"\}$/,
      /^GET \/users\/1\s+-> \{"id":1,"name":"Grace"\}\s+database$/,
      // Printed before the process ends by itself: onModuleDestroy left nothing open.
      /^app closed/,
    ])
    // Two tsc builds (the package, then the app) and prisma generate before the app runs: slow on a busy machine.
  }, 120_000)
})

describe('the Next.js route handler (examples/nextjs), called as Next.js calls it', () => {
  const name = `nextjs-${process.pid}`
  let file = ''
  const prefix = uniquePrefix('nextjs')
  const saved = {
    DATABASE_URL: process.env.DATABASE_URL,
    CACHE_PREFIX: process.env.CACHE_PREFIX,
    REDIS_URL: process.env.REDIS_URL,
  }
  type Route = typeof import('../../examples/nextjs/app/api/users/route.ts')
  type Lib = typeof import('../../examples/nextjs/lib/prisma.ts')
  let route: Route
  let lib: Lib

  beforeAll(async () => {
    file = await seededDatabase(name)
    // What the app reads from its environment, set before the modules are first evaluated.
    Object.assign(process.env, { DATABASE_URL: `file:${file}`, CACHE_PREFIX: prefix, REDIS_URL })
    route = await import('../../examples/nextjs/app/api/users/route.ts')
    lib = await import('../../examples/nextjs/lib/prisma.ts')
    await lib.prisma.$cache.ready()
  })

  afterAll(async () => {
    await lib?.prisma.$cache.close()
    await lib?.prisma.$disconnect()
    delete (globalThis as { prisma?: unknown }).prisma
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
    await dropPrefix(prefix)
    if (file) removeDatabase(file)
  })

  const get = async () => {
    const response = await route.GET(new Request('http://localhost/api/users'))
    const users = (await response.json()) as Array<{ name: string }>
    return { status: response.status, cache: response.headers.get('x-cache'), names: users.map((u) => u.name) }
  }
  const post = (body: unknown) =>
    route.POST(
      new Request('http://localhost/api/users', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
    )

  it('GET is answered from the cache the second time; a user created through POST is in the next GET', async () => {
    expect(await get()).toEqual({ status: 200, cache: 'miss', names: ['Ada', 'Alan'] })
    expect(await get()).toEqual({ status: 200, cache: 'ttl', names: ['Ada', 'Alan'] })
    const created = await post({ email: 'grace@example.com', name: 'Grace' })
    expect(created.status).toBe(201)
    expect(await created.json()).toMatchObject({ email: 'grace@example.com', name: 'Grace' })
    expect(await get()).toEqual({ status: 200, cache: 'miss', names: ['Ada', 'Alan', 'Grace'] })
    expect((await post({ name: 'no email' })).status).toBe(400)
  })

  it('the module evaluated again (next dev does so after an edit) keeps the one client of the process', async () => {
    vi.resetModules()
    const again: Lib = await import('../../examples/nextjs/lib/prisma.ts')
    expect(again.prisma).toBe(lib.prisma)
    expect((await get()).cache).toBe('ttl')
  })
})
