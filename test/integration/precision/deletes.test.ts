import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cachedInstance } from '../../support/cached.ts'
import { type AnyPrisma, providers, Testbed } from '../../support/factory.ts'
import { type Pair, pair, type World } from './support.ts'

/**
 * A delete of one record reads the records it is linked to before it runs (tags/deleted-links.ts):
 * deleting an article evicts the lists and counts of its topics and of the members who favorited
 * it, not those of every topic and member. A link added between that read and the delete is seen
 * through the record's link tags, and the delete then evicts as widely as before.
 */
const bed = new Testbed()
afterAll(() => bed.cleanup())

describe.each(providers)('deletes that read their links first on %s', (provider) => {
  let p: Pair
  let w: World
  beforeAll(async () => {
    p = await pair(bed, provider)
  })
  // World: article 0 is in topic 0; article 1 in topics 0 and 1, favorited by member 0.
  const topicCount = (t: number) => (db: AnyPrisma) =>
    db.article.count({ where: { topics: { some: { name: w.topics[t]!.name } } } })
  const favoritedCount = (m: number) => (db: AnyPrisma) =>
    db.article.count({ where: { favoritedBy: { some: { username: w.m[m]!.username } } } })
  const unpublish = (a: number) => (db: AnyPrisma) => db.article.delete({ where: { slug: w.articles[a]!.slug } })

  it('deleting an article evicts the counts of its topics and of the members who favorited it, and keeps the others', async () => {
    for (const [read, write, want] of [
      [topicCount(0), unpublish(0), 'evicted'],
      [topicCount(1), unpublish(0), 'kept'],
      [favoritedCount(0), unpublish(0), 'kept'],
      [topicCount(1), unpublish(1), 'evicted'],
      [favoritedCount(0), unpublish(1), 'evicted'],
      [favoritedCount(2), unpublish(1), 'kept'],
    ] as const) {
      w = await p.world('delete-links')
      expect(await p.outcome(read, write)).toBe(want)
    }
  })

  it('a delete inside a transaction, which reads nothing first, evicts the counts of every topic', async () => {
    w = await p.world('delete-tx')
    const inTransaction = (db: AnyPrisma) => db.$transaction(async (tx) => unpublish(0)(tx as AnyPrisma))
    expect(await p.outcome(topicCount(1), inTransaction)).toBe('evicted')
  })

  it('a link added between the read and the delete is seen, and the delete evicts every topic count', async () => {
    const reader = p.a
    const linker = p.b
    let between: (() => Promise<void>) | undefined
    /** Resolves when the reader hears another instance's write of this operation. */
    const heard = (operation: string) =>
      new Promise<void>((resolve) => {
        const listener = (message: { cause?: { operation?: string } }) => {
          if (message.cause?.operation !== operation) return
          reader.events.off('bus', listener)
          resolve()
        }
        reader.events.on('bus', listener)
      })
    // Runs when the delete's read of the article's links has answered, before the delete runs: the
    // read goes through the client under the cache, as a load does.
    const deleter = await cachedInstance(
      bed,
      provider,
      { auto: true },
      {
        under: (base) =>
          base.$extends({
            query: {
              article: {
                async findUnique({ args, query }) {
                  const found = await query(args)
                  await between?.()
                  return found
                },
              },
            },
          }) as unknown as AnyPrisma,
      },
    )
    w = await p.world('delete-race')
    const onReader = reader.prisma as unknown as AnyPrisma
    between = async () => {
      between = undefined
      // Another instance links article 0 to topic 1, and the reader caches topic 1's count with it.
      const linked = heard('update')
      await (linker.prisma as unknown as AnyPrisma).article.update({
        where: { id: w.articles[0]!.id },
        data: { topics: { connect: { id: w.topics[1]!.id } } },
      })
      await linked
      expect(await topicCount(1)(onReader)).toBe(2)
      const warm = reader.counter.count
      await topicCount(1)(onReader)
      expect(reader.counter.count, 'the count with the new link is cached').toBe(warm)
    }
    const delivered = heard('delete')
    await unpublish(0)(deleter.prisma as unknown as AnyPrisma)
    await delivered
    expect(between).toBeUndefined()
    const before = reader.counter.count
    expect(await topicCount(1)(onReader)).toBe(1)
    expect(reader.counter.count, 'the count was evicted').toBe(before + 1)
  })
})
