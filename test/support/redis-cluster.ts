import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Cluster, Redis } from 'ioredis'
import { freePort, RedisServer } from './redis-server.ts'

const run = promisify(execFile)

/** Whether this machine can start a cluster (redis-server and redis-cli on PATH). */
export async function clusterAvailable(): Promise<string | undefined> {
  for (const tool of ['redis-server', 'redis-cli']) {
    try {
      await run(tool, ['--version'])
    } catch {
      return `${tool} is not installed (apt-get install redis-server redis-tools); .ci/run installs it`
    }
  }
  return undefined
}

/**
 * A Redis Cluster of this test only: 3 masters and 3 replicas on free loopback ports, started as
 * child processes with a short node timeout so a failover completes in a few seconds, and torn
 * down (by PID) in `stop()`.
 */
export class RedisCluster {
  readonly servers: RedisServer[]
  readonly #dir: string

  private constructor(servers: RedisServer[], dir: string) {
    this.servers = servers
    this.#dir = dir
  }

  static async start(): Promise<RedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'ptc-cluster-'))
    const servers: RedisServer[] = []
    for (let i = 0; i < 6; i++) {
      const port = await freePort()
      servers.push(
        await RedisServer.start({
          port,
          args: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            join(dir, `nodes-${port}.conf`),
            '--cluster-node-timeout',
            '1000',
            // A replica may take over however long ago it last heard its master (tests crash masters early).
            '--cluster-replica-validity-factor',
            '0',
            // The first sync of a replica starts at once instead of after the default 5 s.
            '--repl-diskless-sync-delay',
            '0',
            '--dir',
            dir,
          ],
        }),
      )
    }
    const cluster = new RedisCluster(servers, dir)
    await run('redis-cli', [
      '--cluster',
      'create',
      ...servers.map((server) => `127.0.0.1:${server.port}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ])
    await cluster.waitUntilHealthy()
    return cluster
  }

  /** Seed nodes for `new Cluster(...)`. */
  get nodes(): Array<{ host: string; port: number }> {
    return this.servers
      .filter((server) => server.pid !== undefined)
      .map((server) => ({ host: '127.0.0.1', port: server.port }))
  }

  /** A new ioredis Cluster client on this cluster (the caller closes it). */
  client(): Cluster {
    const client = new Cluster(this.nodes, { redisOptions: { maxRetriesPerRequest: 1 }, slotsRefreshTimeout: 2000 })
    client.on('error', () => {})
    return client
  }

  /** The servers that are masters now, by asking a live node. */
  async masters(): Promise<RedisServer[]> {
    const text = await this.#ask('CLUSTER', 'NODES')
    const ports = new Set(
      text
        .split('\n')
        .filter((line) => line.includes('master') && !line.includes('fail'))
        .map((line) => Number(line.split(' ')[1]?.split('@')[0]?.split(':')[1])),
    )
    return this.servers.filter((server) => ports.has(server.port) && server.pid !== undefined)
  }

  /**
   * Resolves once the cluster is whole again: every live node reports `cluster_state:ok` with every
   * slot ok, every slot belongs to a live master (in every live node's view: a node that has not
   * yet noticed a crash still reports ok), and every replica is in sync with a live master (so it
   * can take over). After `create`, and after a failover. Polls, with a deadline.
   */
  async waitUntilHealthy(deadlineMs = 30_000): Promise<void> {
    const until = Date.now() + deadlineMs
    for (;;) {
      if (await this.#healthy().catch(() => false)) return
      if (Date.now() > until) throw new Error(`the cluster did not become healthy within ${deadlineMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  async #healthy(): Promise<boolean> {
    const live = this.servers.filter((server) => server.pid !== undefined)
    const livePorts = new Set(live.map((server) => server.port))
    for (const server of live) {
      const info = await this.#askOne(server.port, 'CLUSTER', 'INFO')
      if (!(info.includes('cluster_state:ok') && info.includes('cluster_slots_ok:16384'))) return false
      for (const line of (await this.#askOne(server.port, 'CLUSTER', 'NODES')).split('\n')) {
        const fields = line.trim().split(' ')
        const port = Number(fields[1]?.split('@')[0]?.split(':')[1])
        const flags = fields[2] ?? ''
        const ownsSlots = fields.length > 8
        if (flags.includes('master') && ownsSlots && (flags.includes('fail') || !livePorts.has(port))) return false
      }
      const replication = await this.#askOne(server.port, 'INFO', 'replication')
      if (replication.includes('role:slave') && !replication.includes('master_link_status:up')) return false
    }
    return true
  }

  /** The live server one of whose clients matches `needle` in CLIENT LIST (`name=... `, say). */
  async serverWithClient(needle: string): Promise<RedisServer> {
    for (const server of this.servers) {
      if (server.pid === undefined) continue
      const list = await this.#askOne(server.port, 'CLIENT', 'LIST').catch(() => '')
      if (list.includes(needle)) return server
    }
    throw new Error(`no node has a client matching ${needle}`)
  }

  /** The live master that serves `slot` now, and its replica (from a live node's CLUSTER NODES). */
  async shardOf(slot: number): Promise<{ master: RedisServer; replica: RedisServer | undefined }> {
    const lines = (await this.#ask('CLUSTER', 'NODES')).split('\n').map((line) => line.trim().split(' '))
    const port = (fields: string[]) => Number(fields[1]?.split('@')[0]?.split(':')[1])
    const owner = lines.find(
      (fields) =>
        fields[2]?.includes('master') &&
        !fields[2].includes('fail') &&
        fields.slice(8).some((range) => {
          const [from, to = from] = range.split('-').map(Number)
          return from !== undefined && slot >= from && slot <= (to ?? from)
        }),
    )
    const master = this.servers.find((server) => owner && server.port === port(owner))
    if (!owner || !master) throw new Error(`no live master serves slot ${slot}`)
    const replicaLine = lines.find((fields) => fields[2]?.includes('slave') && fields[3] === owner[0])
    const replica = this.servers.find((server) => replicaLine && server.port === port(replicaLine))
    return { master, replica }
  }

  /** `kill -9` of one master; resolves once it has exited (its replica takes over after the node timeout). */
  async crashMaster(): Promise<RedisServer> {
    const [master] = await this.masters()
    if (!master) throw new Error('no master to crash')
    await master.crash()
    return master
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.stop()))
    rmSync(this.#dir, { recursive: true, force: true })
  }

  async #ask(...command: string[]): Promise<string> {
    for (const server of this.servers) {
      if (server.pid === undefined) continue
      try {
        return await this.#askOne(server.port, ...command)
      } catch {}
    }
    throw new Error('no cluster node answers')
  }

  async #askOne(port: number, ...command: string[]): Promise<string> {
    const redis = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    })
    redis.on('error', () => {})
    try {
      await redis.connect()
      return String(await redis.call(command[0]!, ...command.slice(1)))
    } finally {
      redis.disconnect()
    }
  }
}
