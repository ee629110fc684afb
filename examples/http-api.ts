// Run: npx tsx examples/http-api.ts   (SQLite in .tmp/; needs Redis at REDIS_URL, default redis://127.0.0.1:6379)
//
// A small JSON API on node:http with the cache, started as two instances (two processes, two
// ports) that share only the SQLite file and Redis. The script starts both, reads user 1 on B,
// renames them on A, and reads them on B again: B answers the new name, because A's write removed
// the old one from B's L1 over the Redis bus. Then it stops both and exits.
//
// One instance on its own, kept up until Ctrl-C: npx tsx examples/http-api.ts serve 3000
//   GET /users/:id   PUT /users/:id {"name": "..."}   GET /metrics (Prometheus)
import { type ChildProcess, spawn } from 'node:child_process'
import { EventEmitter, once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { METRICS_CONTENT_TYPE, tieredCache } from '../src/index.ts'
import {
  dropPrefix,
  REDIS_URL,
  redisAnswers,
  removeDatabase,
  seededDatabase,
  sqliteClient,
  uniquePrefix,
} from './setup.ts'

/** One instance: the API on `port`, until SIGTERM or SIGINT. */
async function serve(port: number, file: string, prefix: string): Promise<void> {
  const base = sqliteClient(file)
  const events = new EventEmitter()
  events.on('error', () => {})
  const prisma = base.$extends(tieredCache({ redis: REDIS_URL, prefix, events, metrics: true }))
  await prisma.$cache.ready()

  // For the script only: lets it wait for B to have heard of A's write instead of guessing a delay.
  let busMessages = 0
  events.on('bus', () => busMessages++)

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const user = /^\/users\/(\d+)$/.exec(url.pathname)
    if (user && req.method === 'GET') {
      const found = await prisma.user.findUnique({ where: { id: Number(user[1]) }, cache: { ttl: 60 } })
      return found ? json(res, 200, found) : json(res, 404, { error: 'not found' })
    }
    if (user && req.method === 'PUT') {
      const body = JSON.parse(await text(req)) as { name?: unknown }
      if (typeof body.name !== 'string') return json(res, 400, { error: 'name: expected a string' })
      // The write invalidates user 1's cached reads in both tiers, here and on every other instance.
      const updated = await prisma.user.update({ where: { id: Number(user[1]) }, data: { name: body.name } })
      return json(res, 200, updated)
    }
    if (url.pathname === '/metrics' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE }).end(prisma.$cache.metrics())
      return
    }
    if (url.pathname === '/_bus' && req.method === 'GET') {
      const after = Number(url.searchParams.get('after') ?? -1)
      if (busMessages <= after) {
        await once(events, 'bus', { signal: AbortSignal.timeout(5000) }).catch(() => {})
      }
      return json(res, 200, { received: busMessages })
    }
    json(res, 404, { error: 'not found' })
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => json(res, 500, { error: String(error) }))
  })
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  console.log(JSON.stringify({ listening: typeof address === 'object' && address ? address.port : port }))

  const stop = async () => {
    server.close()
    server.closeAllConnections()
    await prisma.$cache.close()
    await base.$disconnect()
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

async function text(req: IncomingMessage): Promise<string> {
  let body = ''
  for await (const chunk of req) body += chunk
  return body
}

/** Starts this file as an instance in a child process; resolves with its port once it listens. */
async function startInstance(name: string, file: string, prefix: string) {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), 'serve', '0'], {
    env: { ...process.env, EXAMPLE_DB: file, EXAMPLE_PREFIX: prefix },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout! })
  const [line] = (await once(lines, 'line')) as [string]
  const { listening } = JSON.parse(line) as { listening: number }
  return { name, child, url: `http://127.0.0.1:${listening}` }
}

async function request(instance: { name: string; url: string }, method: string, path: string, body?: unknown) {
  const res = await fetch(`${instance.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return (await res.json()) as Record<string, unknown>
}

async function stopInstance(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  await exited
}

async function script(): Promise<void> {
  if (!(await redisAnswers())) {
    console.log(`Redis at ${REDIS_URL} is not answering: this example needs it (two instances share only Redis).`)
    process.exitCode = 1
    return
  }
  const file = await seededDatabase(`http-api-${process.pid}`)
  const prefix = uniquePrefix('http-api')
  const [a, b] = await Promise.all([startInstance('A', file, prefix), startInstance('B', file, prefix)])
  console.log(`instance A on ${a.url}, instance B on ${b.url} (same SQLite file, same Redis prefix ${prefix})`)
  try {
    const show = (who: string, what: string, user: Record<string, unknown>) =>
      console.log(`${who.padEnd(2)} ${what.padEnd(34)} -> ${JSON.stringify({ id: user.id, name: user.name })}`)

    show('B', 'GET /users/1', await request(b, 'GET', '/users/1'))
    show('B', 'GET /users/1 (from its L1 now)', await request(b, 'GET', '/users/1'))
    const { received } = await request(b, 'GET', '/_bus')
    show('A', 'PUT /users/1 {"name":"Grace"}', await request(a, 'PUT', '/users/1', { name: 'Grace' }))
    await request(b, 'GET', `/_bus?after=${received}`)
    show('B', 'GET /users/1', await request(b, 'GET', '/users/1'))

    const metrics = await (await fetch(`${b.url}/metrics`)).text()
    console.log("\nB's GET /metrics, its reads:")
    for (const line of metrics.split('\n')) {
      if (/^tiered_cache_(hits|misses|loads)_total\{/.test(line)) console.log(`  ${line}`)
    }
    console.log(`  ${metrics.split('\n').find((line) => line.startsWith('tiered_cache_bus_messages_total'))}`)
  } finally {
    await stopInstance(a.child)
    await stopInstance(b.child)
    // Leaves nothing of this run in Redis or in .tmp/.
    await dropPrefix(prefix)
    removeDatabase(file)
  }
  console.log('\nstopped both instances')
}

if (process.argv[2] === 'serve') {
  const port = Number(process.argv[3] ?? 3000)
  const file = process.env.EXAMPLE_DB ?? (await seededDatabase('http-api'))
  await serve(port, file, process.env.EXAMPLE_PREFIX ?? 'http-api')
} else {
  await script()
}
