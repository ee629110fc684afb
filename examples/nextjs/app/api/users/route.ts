// A Next.js App Router route handler, app/api/users/route.ts: GET lists users from the cache,
// POST creates one, which invalidates that list on every instance. Next.js calls these with a
// `Request` and sends the `Response`; test/integration/examples.test.ts calls them the same way.
import { prisma } from '../../../lib/prisma.ts'

// ioredis and the database driver need Node.js, not the Edge runtime.
export const runtime = 'nodejs'

/** GET /api/users?take=20: cached for a minute; `x-cache` says how it was answered (`miss`, `ttl`, `swr`). */
export async function GET(request: Request): Promise<Response> {
  const take = Math.min(Number(new URL(request.url).searchParams.get('take') ?? 100) || 100, 100)
  const { data, info } = await prisma.user
    .findMany({ select: { id: true, email: true, name: true }, orderBy: { id: 'asc' }, take, cache: { ttl: 60 } })
    .withAccelerateInfo()
  return Response.json(data, { headers: { 'x-cache': info.cacheStatus } })
}

/** POST /api/users {"email": "...", "name": "..."}: the write invalidates every cached read of User. */
export async function POST(request: Request): Promise<Response> {
  const body = (await request.json().catch(() => null)) as { email?: unknown; name?: unknown } | null
  if (typeof body?.email !== 'string') return Response.json({ error: 'email: expected a string' }, { status: 400 })
  const name = typeof body.name === 'string' ? body.name : null
  const user = await prisma.user.create({
    data: { email: body.email, name },
    select: { id: true, email: true, name: true },
  })
  return Response.json(user, { status: 201 })
}
