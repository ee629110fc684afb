import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A loopback port nothing listens on (found by binding it, then letting it go). */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/**
 * A redis-server child process of this test only, without persistence, for tests that stop Redis,
 * pause it or count its commands: the shared server is never touched beyond a test's prefix. Its
 * working directory is a fresh one, so it never loads a `dump.rdb` someone left in the current one.
 */
export class RedisServer {
  readonly port: number
  readonly #args: readonly string[]
  readonly #dir = mkdtempSync(join(tmpdir(), 'ptc-redis-'))
  #child: ChildProcess | undefined

  private constructor(port: number, args: readonly string[]) {
    this.port = port
    this.#args = args
  }

  /** Starts a server on `port` (default: a free one) with extra command-line `args` (a cluster node's, say). */
  static async start(options: { port?: number; args?: readonly string[] } = {}): Promise<RedisServer> {
    const server = new RedisServer(options.port ?? (await freePort()), options.args ?? [])
    await server.start()
    return server
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`
  }

  /** Starts (or restarts, on the same port) and resolves once it accepts connections. */
  async start(): Promise<void> {
    // stop() removed it; a restart gets it back, empty.
    mkdirSync(this.#dir, { recursive: true })
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--dir',
        this.#dir,
        ...this.#args,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    this.#child = child
    await new Promise<void>((resolve, reject) => {
      let output = ''
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('Ready to accept connections')) resolve()
      })
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)))
    })
  }

  /** The server's process id while it runs. */
  get pid(): number | undefined {
    return this.#child?.exitCode === null ? this.#child.pid : undefined
  }

  /**
   * `kill -9` mid-flight (by PID, as an OOM killer or a crashed host would): no shutdown, no
   * goodbye to clients. Resolves once the process has exited; `start()` brings it back on the same port.
   */
  async crash(): Promise<void> {
    const child = this.#child
    const pid = this.pid
    if (!child || pid === undefined) throw new Error('redis-server is not running')
    const exited = once(child, 'exit')
    process.kill(pid, 'SIGKILL')
    await exited
    this.#child = undefined
  }

  /**
   * SIGSTOP: the process stops answering (and reading its sockets) without closing a connection,
   * as a host that hangs. `resume()` (SIGCONT) lets it go on where it stopped.
   */
  pause(): void {
    const pid = this.pid
    if (pid === undefined) throw new Error('redis-server is not running')
    process.kill(pid, 'SIGSTOP')
  }

  resume(): void {
    const pid = this.pid
    if (pid !== undefined) process.kill(pid, 'SIGCONT')
  }

  /** Kills this child (by its PID), resolves once it has exited, and removes its directory. */
  async stop(): Promise<void> {
    const child = this.#child
    this.#child = undefined
    if (child && child.exitCode === null) {
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    }
    rmSync(this.#dir, { recursive: true, force: true })
  }
}
