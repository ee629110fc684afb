import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { afterAll, describe, expect, it } from 'vitest'
import { REDIS_URL } from '../../support/env.ts'
import { Testbed } from '../../support/factory.ts'

/** The connections the extension opened itself never keep a process alive after `$disconnect()`. */
const bed = new Testbed()
afterAll(() => bed.cleanup())
const prefix = `${bed.prefix}-lifetime`

describe('process lifetime', () => {
  it('a script that only calls $disconnect() exits, with the connections the extension opened itself', async () => {
    const file = await bed.database('sqlite')
    const script = `
      import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3'
      import { PrismaClient } from './generated/sqlite/client.ts'
      import { tieredCache } from './src/index.ts'
      const prisma = new PrismaClient({ adapter: new PrismaBetterSqlite3({ url: 'file:${file}' }) })
        .$extends(tieredCache({ redis: '${REDIS_URL}', prefix: '${prefix}-exit', auto: true }))
      await prisma.user.findMany()
      await prisma.user.findMany()
      await prisma.$disconnect()
      console.log('disconnected')
    `
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    const exited = once(child, 'exit')
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    const [code, signal] = await exited
    clearTimeout(timer)
    expect(output).toContain('disconnected')
    expect({ code, signal }).toEqual({ code: 0, signal: null })
  })
})
