import { prng } from '../harness.ts'
import type { BasePrisma } from '../setup.ts'

/**
 * The data and the operation sequence of the relation-heavy scenario (relations.ts): a Conduit
 * database of members, topics, articles, favorites, follows and replies, and Zipf-drawn operations.
 */

export const MEMBERS = 1_000
export const ARTICLES = 2_000
export const TOPICS = 30
export const slug = (a: number) => `article-${a}`
export const username = (m: number) => `member${m}`
export const topic = (t: number) => `topic-${t}`

/** One operation: its kind, an article and a member drawn by popularity, a random number. */
export type Op = { readonly kind: string; readonly a: number; readonly m: number; readonly n: number }

const READ_MIX: ReadonlyArray<[string, number]> = [
  ['article', 30],
  ['global', 15],
  ['topic', 10],
  ['author', 10],
  ['favorited', 5],
  ['feed', 10],
  ['profile', 10],
  ['replies', 8],
  ['topics', 2],
]
const WRITE_MIX: ReadonlyArray<[string, number]> = [
  ['favorite', 25],
  ['unfavorite', 15],
  ['follow', 15],
  ['unfollow', 10],
  ['reply', 15],
  ['unreply', 5],
  ['publish', 5],
  ['edit', 7],
  ['unpublish', 3],
]

function weighted(mix: ReadonlyArray<[string, number]>, u: number): string {
  const total = mix.reduce((s, [, w]) => s + w, 0)
  let at = u * total
  for (const [kind, w] of mix) if ((at -= w) < 0) return kind
  return mix[mix.length - 1]![0]
}

/** Zipf(s = 1) over 1..n, through a fixed permutation so that popularity is not id order. */
function zipf(n: number, random: () => number, shuffleSeed: number): () => number {
  const cdf = new Float64Array(n)
  let total = 0
  for (let k = 1; k <= n; k++) cdf[k - 1] = total += 1 / k
  const permutation = Array.from({ length: n }, (_, i) => i + 1)
  const shuffle = prng(shuffleSeed)
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(shuffle() * (i + 1))
    ;[permutation[i], permutation[j]] = [permutation[j]!, permutation[i]!]
  }
  return () => {
    const u = random() * total
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid]! < u) lo = mid + 1
      else hi = mid
    }
    return permutation[lo]!
  }
}

export function sequence(count: number, readShare: number, seed: number): Op[] {
  const random = prng(seed)
  const article = zipf(ARTICLES, random, 101)
  const member = zipf(MEMBERS, random, 202)
  return Array.from({ length: count }, () => {
    const isRead = random() < readShare
    const kind = isRead ? weighted(READ_MIX, random()) : weighted(WRITE_MIX, random())
    return { kind, a: article(), m: member(), n: Math.floor(random() * 1_000_000) }
  })
}

export async function seed(db: BasePrisma): Promise<void> {
  const epoch = Date.UTC(2025, 0, 1)
  await db.member.createMany({
    data: Array.from({ length: MEMBERS }, (_, i) => ({
      id: i + 1,
      username: username(i + 1),
      email: `member${i + 1}@example.com`,
      bio: `I write about topic ${i % TOPICS}`,
      image: `https://example.com/${i + 1}.png`,
    })),
  })
  await db.topic.createMany({ data: Array.from({ length: TOPICS }, (_, i) => ({ id: i + 1, name: topic(i) })) })
  const random = prng(7)
  await db.article.createMany({
    data: Array.from({ length: ARTICLES }, (_, i) => ({
      id: i + 1,
      slug: slug(i + 1),
      title: `Article ${i + 1}`,
      description: `What article ${i + 1} is about`,
      body: 'Lorem ipsum '.repeat(40),
      createdAt: new Date(epoch + i * 3_600_000),
      updatedAt: new Date(epoch + i * 3_600_000),
      authorId: Math.floor(random() * MEMBERS) + 1,
    })),
  })
  const pairs = (count: number, left: number, right: number) =>
    [
      ...new Set(
        Array.from(
          { length: count },
          () => `(${Math.floor(random() * left) + 1}, ${Math.floor(random() * right) + 1})`,
        ),
      ),
    ].join(', ')
  await db.$executeRawUnsafe(
    `INSERT INTO "_ArticleToTopic" ("A", "B") VALUES ${pairs(ARTICLES * 2, ARTICLES, TOPICS)} ON CONFLICT DO NOTHING`,
  )
  await db.$executeRawUnsafe(
    `INSERT INTO "_Favorites" ("A", "B") VALUES ${pairs(ARTICLES * 3, ARTICLES, MEMBERS)} ON CONFLICT DO NOTHING`,
  )
  await db.$executeRawUnsafe(
    `INSERT INTO "_Follows" ("A", "B") VALUES ${pairs(MEMBERS * 5, MEMBERS, MEMBERS)} ON CONFLICT DO NOTHING`,
  )
  await db.reply.createMany({
    data: Array.from({ length: ARTICLES * 2 }, (_, i) => ({
      body: `Reply ${i}`,
      articleId: Math.floor(random() * ARTICLES) + 1,
      authorId: Math.floor(random() * MEMBERS) + 1,
    })),
  })
  for (const table of ['Member', 'Topic', 'Article', 'Reply']) {
    await db.$executeRawUnsafe(`SELECT setval('"${table}_id_seq"', (SELECT MAX(id) FROM "${table}"))`)
  }
  await db.$executeRawUnsafe('ANALYZE')
}
