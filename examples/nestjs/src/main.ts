// Run: npx tsx examples/nestjs/run.ts   (builds this app to CommonJS with tsc, then runs it with node)
//
// A Nest app with the cache: PrismaService holds `new PrismaClient({ adapter }).$extends(tieredCache(...))`
// and closes it in onModuleDestroy; UsersController has a cached GET and a PUT that invalidates it.
// A real app would call `app.listen(3000)` (that needs an HTTP platform package, such as
// @nestjs/platform-express); this one builds the application context and calls the controller through
// Nest's container, as a request would, then closes the app and exits by itself.
import 'reflect-metadata'
import { NestFactory } from '@nestjs/core'
import { AppModule } from './app.module'
import { PrismaService } from './prisma.service'
import { UsersController } from './users.controller'

async function bootstrap(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] })
  app.enableShutdownHooks()
  // This file is CommonJS once built; tiered-cache (and Nest 12 itself) are ES modules that it loads
  // with require(), which Node does by default from 20.19 and 22.12.
  console.log(`module format: ${typeof module === 'object' ? 'CommonJS' : 'ES module'}, Node ${process.version}`)

  const users = app.get(UsersController)
  const { client } = app.get(PrismaService)
  const answeredBy = async <T>(read: () => Promise<T>) => {
    const loads = client.$cache.stats().loads
    const value = await read()
    return { value, from: client.$cache.stats().loads > loads ? 'database' : 'cache' }
  }
  const show = (what: string, user: { id: number; name: string | null }, from = '') =>
    console.log(
      `${what.padEnd(30)} -> ${JSON.stringify({ id: user.id, name: user.name }).padEnd(24)} ${from}`.trimEnd(),
    )

  for (let i = 0; i < 2; i++) {
    const { value, from } = await answeredBy(() => users.findOne(1))
    show('GET /users/1', value, from)
  }
  show('PUT /users/1 {"name":"Grace"}', await users.update(1, { name: 'Grace' }))
  const { value, from } = await answeredBy(() => users.findOne(1))
  show('GET /users/1', value, from)

  await app.close()
  console.log('app closed: PrismaService.onModuleDestroy closed the cache and the client')
}

bootstrap().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
