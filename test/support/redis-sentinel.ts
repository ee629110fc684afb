import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePort, RedisServer } from './redis-server.ts'

/** The name Sentinel monitors the master under. */
export const SENTINEL_MASTER = 'ptc-master'

/**
 * A Sentinel-managed Redis of this test only, on loopback: one master, one replica and three
 * Sentinels (quorum 2), started as child processes and stopped by PID. `crashMaster()` kills the
 * master with SIGKILL and resolves once the Sentinels have promoted the replica; `rejoin()` starts
 * the killed one again, which the Sentinels make the new master's replica (for another failover).
 */
export class RedisSentinelGroup {
  readonly #dir: string
  readonly #sentinels: { port: number; child: ChildProcess }[] = []
  #master: RedisServer
  #replica: RedisServer | undefined
  /** The master `crashMaster()` killed, until `rejoin()`. */
  #down: RedisServer | undefined

  private constructor(dir: string, master: RedisServer, replica: RedisServer) {
    this.#dir = dir
    this.#master = master
    this.#replica = replica
  }

  static async start(): Promise<RedisSentinelGroup> {
    const dir = await mkdtemp(join(tmpdir(), 'ptc-sentinel-'))
    const master = await RedisServer.start()
    const replica = await RedisServer.start({ args: ['--replicaof', '127.0.0.1', String(master.port)] })
    const group = new RedisSentinelGroup(dir, master, replica)
    try {
      await group.#waitForReplica(master.port, 1)
      for (let i = 0; i < 3; i++) await group.#startSentinel(i)
      await group.#waitUntilSentinelsKnowEachOther()
    } catch (error) {
      await group.stop()
      throw error
    }
    return group
  }

  /** The Sentinels' addresses, as ioredis takes them. */
  get sentinels(): { host: string; port: number }[] {
    return this.#sentinels.map(({ port }) => ({ host: '127.0.0.1', port }))
  }

  get masterPort(): number {
    return this.#master.port
  }

  get master(): RedisServer {
    return this.#master
  }

  /** The replica, while there is one (none between `crashMaster()` and `rejoin()`). */
  get replica(): RedisServer | undefined {
    return this.#replica
  }

  /** An ioredis connection through the Sentinels, as production code opens one. */
  client(): Redis {
    const redis = new Redis({
      sentinels: this.sentinels,
      name: SENTINEL_MASTER,
      maxRetriesPerRequest: 1,
      sentinelRetryStrategy: (times) => Math.min(times * 50, 500),
    })
    redis.on('error', () => {})
    return redis
  }

  /**
   * `kill -9` of the master; resolves with the new master's port once a Sentinel reports the switch
   * (`+switch-master` on its pub/sub) and the promoted replica answers as a master. `afterKill`
   * runs once the master is dead (a paused replica resumed, say).
   */
  async crashMaster(options: { afterKill?: () => void } = {}): Promise<{ killed: number; promoted: number }> {
    const killed = this.#master.port
    const watcher = new Redis({ port: this.#sentinels[0]!.port, host: '127.0.0.1', lazyConnect: true })
    watcher.on('error', () => {})
    await watcher.connect()
    await watcher.subscribe('+switch-master')
    const switched = once(watcher, 'message')
    await this.#master.crash()
    options.afterKill?.()
    const [, message] = (await switched) as [string, string]
    watcher.disconnect()
    // "<name> <old-ip> <old-port> <new-ip> <new-port>"
    const promoted = Number(message.split(' ')[4])
    if (this.#replica?.port !== promoted) throw new Error(`unexpected switch: ${message}`)
    const probe = new Redis({ port: promoted, host: '127.0.0.1', lazyConnect: true })
    await probe.connect()
    for (let i = 0; i < 100 && !(await probe.info('replication')).includes('role:master'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    probe.disconnect()
    this.#down = this.#master
    this.#master = this.#replica
    this.#replica = undefined
    return { killed, promoted }
  }

  /**
   * Starts the master `crashMaster()` killed again, on its port and empty (no persistence), as a
   * replica of the new master (where the Sentinels already list it). Resolves once it is in sync
   * and every Sentinel counts it as a live replica, so another failover can promote it.
   */
  async rejoin(): Promise<void> {
    const down = this.#down
    if (!down) throw new Error('no crashed master to bring back')
    const server = await RedisServer.start({
      port: down.port,
      args: ['--replicaof', '127.0.0.1', String(this.#master.port)],
    })
    this.#down = undefined
    this.#replica = server
    await this.#waitForReplica(this.#master.port, 1)
    const clients = this.#sentinels.map(({ port }) => new Redis({ port, host: '127.0.0.1' }))
    try {
      for (let i = 0; i < 400; i++) {
        const live = await Promise.all(
          clients.map(async (client) => {
            const replicas = (await client.call('SENTINEL', 'REPLICAS', SENTINEL_MASTER)) as string[][]
            return replicas.some((fields) => {
              const info = new Map<string, string>()
              for (let f = 0; f + 1 < fields.length; f += 2) info.set(fields[f]!, fields[f + 1]!)
              return info.get('port') === String(server.port) && !/s_down|disconnected/.test(info.get('flags') ?? '')
            })
          }),
        )
        if (live.every(Boolean)) return
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      throw new Error('the Sentinels did not see the rejoined replica within 20 s')
    } finally {
      for (const client of clients) client.disconnect()
    }
  }

  async stop(): Promise<void> {
    for (const { child } of this.#sentinels) {
      if (child.exitCode !== null) continue
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    }
    this.#sentinels.length = 0
    await this.#down?.stop()
    await this.#replica?.stop()
    await this.#master.stop()
    await rm(this.#dir, { recursive: true, force: true })
  }

  async #startSentinel(index: number): Promise<void> {
    const port = await freePort()
    const file = join(this.#dir, `sentinel-${index}.conf`)
    await writeFile(
      file,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${this.#dir}`,
        `sentinel monitor ${SENTINEL_MASTER} 127.0.0.1 ${this.#master.port} 2`,
        `sentinel down-after-milliseconds ${SENTINEL_MASTER} 1000`,
        `sentinel failover-timeout ${SENTINEL_MASTER} 5000`,
        `sentinel parallel-syncs ${SENTINEL_MASTER} 1`,
        '',
      ].join('\n'),
    )
    const child = spawn('redis-server', [file, '--sentinel'], { stdio: ['ignore', 'pipe', 'inherit'] })
    this.#sentinels.push({ port, child })
    await new Promise<void>((resolve, reject) => {
      let output = ''
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        if (output.includes('+monitor master')) resolve()
      })
      child.once('exit', (code) => reject(new Error(`sentinel exited with ${code}: ${output}`)))
    })
  }

  async #waitForReplica(masterPort: number, replicas: number): Promise<void> {
    const redis = new Redis({ port: masterPort, host: '127.0.0.1' })
    try {
      for (let i = 0; i < 200; i++) {
        const info = await redis.info('replication')
        if (info.includes(`connected_slaves:${replicas}`) && /slave0:.*state=online/.test(info)) return
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      throw new Error('the replica did not come online')
    } finally {
      redis.disconnect()
    }
  }

  /** Each Sentinel must see the replica and the two other Sentinels before a failover can be elected. */
  async #waitUntilSentinelsKnowEachOther(): Promise<void> {
    const clients = this.#sentinels.map(({ port }) => new Redis({ port, host: '127.0.0.1' }))
    try {
      for (let i = 0; i < 400; i++) {
        const ready = await Promise.all(
          clients.map(async (client) => {
            const others = (await client.call('SENTINEL', 'SENTINELS', SENTINEL_MASTER)) as unknown[]
            const replicas = (await client.call('SENTINEL', 'REPLICAS', SENTINEL_MASTER)) as unknown[]
            return others.length === 2 && replicas.length === 1
          }),
        )
        if (ready.every(Boolean)) return
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
      throw new Error('the Sentinels did not discover each other within 20 s')
    } finally {
      for (const client of clients) client.disconnect()
    }
  }
}
