import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AnyPrisma, providers, Testbed } from '../../support/factory.ts'
import { type Pair, pair, type World } from './support.ts'

/**
 * A new article (a Conduit "publish": author connected by id, topics connected or created by name)
 * evicts only the reads it can change: the lists whose filter the new row can match, the topic
 * it creates; it keeps the reads that show other rows, however they name them.
 */
const bed = new Testbed()
afterAll(() => bed.cleanup())

let published = 0

describe.each(providers)('publishing an article on %s', (provider) => {
  let p: Pair
  let w: World
  beforeAll(async () => {
    p = await pair(bed, provider)
  })
  /** By m[author], in topic `topic` (its name), created if none has it. */
  const publish = (author: number, topic: () => string) => (db: AnyPrisma) =>
    db.article.create({
      data: {
        slug: `${w.articles[0]!.slug}-new-${++published}`,
        title: 'new',
        description: 'd',
        body: 'b',
        author: { connect: { id: w.m[author]!.id } },
        topics: { connectOrCreate: [{ where: { name: topic() }, create: { name: topic() } }] },
      },
    })
  const withTopicNames = (i: number) => (db: AnyPrisma) =>
    db.article.findUnique({
      where: { slug: w.articles[i]!.slug },
      include: { topics: { select: { name: true }, orderBy: { name: 'asc' } } },
    })

  it('keeps the articles that show a topic by its name when another article joins the topic', async () => {
    for (const [read, want] of [
      [withTopicNames(0), 'kept'],
      [withTopicNames(1), 'kept'],
      [
        (db: AnyPrisma) =>
          db.article.findMany({
            where: { authorId: w.m[1]!.id },
            orderBy: { id: 'asc' },
            include: { topics: { select: { name: true }, orderBy: { name: 'asc' } } },
          }),
        'kept',
      ],
      // The topic's own lists gain the article.
      [
        (db: AnyPrisma) =>
          db.topic.findUnique({
            where: { name: w.topics[0]!.name },
            include: { articles: { orderBy: { id: 'asc' } } },
          }),
        'evicted',
      ],
      [
        (db: AnyPrisma) =>
          db.article.findMany({
            where: { topics: { some: { name: w.topics[0]!.name } } },
            orderBy: { id: 'asc' },
            select: { slug: true },
          }),
        'evicted',
      ],
    ] as const) {
      w = await p.world('publish-topic')
      const joining = publish(2, () => w.topics[0]!.name)
      expect(await p.outcome(read, joining)).toBe(want)
    }
  })

  it('a topic it creates is found by the reads that looked for that name', async () => {
    const fresh = () => `${w.topics[0]!.name}-fresh`
    for (const [read, want] of [
      [(db: AnyPrisma) => db.topic.findUnique({ where: { name: fresh() } }), 'evicted'],
      [(db: AnyPrisma) => db.topic.findMany({ where: { name: { in: [fresh(), w.topics[1]!.name] } } }), 'evicted'],
      [withTopicNames(1), 'kept'],
    ] as const) {
      w = await p.world('publish-new-topic')
      expect(await p.outcome(read, publish(2, fresh))).toBe(want)
    }
  })

  it('renaming or deleting a topic evicts the articles that show it by name', async () => {
    const rename = (db: AnyPrisma) =>
      db.topic.update({ where: { name: w.topics[1]!.name }, data: { name: `${w.topics[1]!.name}-renamed` } })
    const remove = (db: AnyPrisma) => db.topic.delete({ where: { id: w.topics[1]!.id } })
    for (const [read, write, want] of [
      [withTopicNames(1), rename, 'evicted'],
      [withTopicNames(0), rename, 'kept'],
      [withTopicNames(1), remove, 'evicted'],
    ] as const) {
      w = await p.world('topic-rename')
      expect(await p.outcome(read, write)).toBe(want)
    }
  })
})
