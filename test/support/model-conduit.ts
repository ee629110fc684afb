import type { AnyPrisma } from './factory.ts'
import type { Random } from './random.ts'

/**
 * The Conduit-shaped part of the model-based check (test/support/model.ts): the reads and writes
 * of a RealWorld backend over Member, Article, Reply, Topic and TopicFollow, the ones the precise
 * invalidation rules narrow: lookups by slug and username, relation lists and counts, relation
 * filters (some, none, every, is), many-to-many links from either side, the explicit join model.
 */
type Db = AnyPrisma
type Option = [label: string, run: (db: Db) => Promise<unknown>]

export interface ConduitCounters {
  member: number
  article: number
  reply: number
  topic: number
}

const byId = { orderBy: { id: 'asc' } } as const

/** Reads favour a hot set; the rest spread over every id and a few missing ones. */
export function conduitReads(r: Random, c: ConduitCounters): Option[] {
  const member = r.next() < 0.8 ? r.int(1, 3) : r.int(1, c.member + 1)
  const article = r.next() < 0.8 ? r.int(1, 4) : r.int(1, c.article + 1)
  const topic = r.next() < 0.8 ? r.int(1, 2) : r.int(1, c.topic + 1)
  const slug = `s${article}`
  const username = `m${member}`
  const page = r.int(0, 1) * 3
  const card = {
    author: { select: { id: true, username: true, bio: true, followedBy: { select: { id: true }, ...byId } } },
    topics: { select: { name: true }, ...byId },
    _count: { select: { favoritedBy: true, replies: true } },
  } as const
  return [
    [
      `article ${slug} with author, followers, favorites count`,
      (db) =>
        db.article.findUnique({
          where: { slug },
          include: { ...card, favoritedBy: { select: { id: true }, ...byId } },
        }),
    ],
    [
      `article ${article} by id with favorites`,
      (db) => db.article.findUnique({ where: { id: article }, include: { favoritedBy: byId } }),
    ],
    [
      `articles page ${page}`,
      (db) => db.article.findMany({ orderBy: { id: 'desc' }, skip: page, take: 3, include: card }),
    ],
    [
      `articles tagged t${topic}`,
      (db) => db.article.findMany({ where: { topics: { some: { name: `t${topic}` } } }, ...byId, include: card }),
    ],
    [
      `articles by ${username}`,
      (db) => db.article.findMany({ where: { author: { username } }, ...byId, take: 4, include: card }),
    ],
    [
      `articles favorited by ${username}`,
      (db) => db.article.findMany({ where: { favoritedBy: { some: { username } } }, ...byId, include: card }),
    ],
    [
      `articles favorited by member ${member}`,
      (db) => db.article.count({ where: { favoritedBy: { some: { id: member } } } }),
    ],
    [
      `feed of ${member}`,
      (db) =>
        db.article.findMany({ where: { author: { followedBy: { some: { id: member } } } }, ...byId, include: card }),
    ],
    [
      `profile ${username}`,
      (db) =>
        db.member.findUnique({
          where: { username },
          include: { followedBy: { select: { id: true }, ...byId }, _count: { select: { following: true } } },
        }),
    ],
    [`member by email ${username}`, (db) => db.member.findUnique({ where: { email: `${username}@example.com` } })],
    [
      `member ${member} with favorites and topic follows`,
      (db) =>
        db.member.findUnique({
          where: { id: member },
          include: {
            favorites: { select: { id: true, slug: true }, ...byId },
            topicFollows: { orderBy: { topicId: 'asc' } },
          },
        }),
    ],
    [
      `replies of ${slug}`,
      (db) =>
        db.reply.findMany({
          where: { article: { slug } },
          ...byId,
          include: { author: { select: { username: true } } },
        }),
    ],
    [`replies of article ${article}`, (db) => db.reply.findMany({ where: { articleId: article }, ...byId })],
    [
      'popular topics',
      (db) => db.topic.findMany({ orderBy: [{ articles: { _count: 'desc' } }, { id: 'asc' }], take: 3 }),
    ],
    [
      'members with the most replies',
      (db) => db.member.findMany({ orderBy: [{ replies: { _count: 'desc' } }, { id: 'asc' }], take: 3 }),
    ],
    [
      `count of articles tagged t${topic}`,
      (db) => db.article.count({ where: { topics: { some: { name: `t${topic}` } } } }),
    ],
    // Narrowed by lookups beside the load (tags/resolutions.ts), and a page that shows what it could lose.
    [`count of articles by ${username}`, (db) => db.article.count({ where: { author: { username } } })],
    [
      `feed count of ${member}`,
      (db) => db.article.count({ where: { author: { followedBy: { some: { id: member } } } } }),
    ],
    [
      `feed of ${username} by name`,
      (db) =>
        db.article.findMany({
          where: { author: { followedBy: { some: { username } } } },
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          take: 3,
          select: { slug: true, authorId: true },
        }),
    ],
    [
      `newest two tagged t${topic}`,
      (db) =>
        db.article.findMany({
          where: { topics: { some: { name: `t${topic}` } } },
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          take: 2,
          select: { slug: true },
        }),
    ],
    [
      `newest replies of members favoriting ${slug}`,
      (db) =>
        db.reply.findMany({
          where: { author: { favorites: { some: { slug } } } },
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
          take: 3,
        }),
    ],
    [
      'all topics with counts',
      (db) => db.topic.findMany({ ...byId, include: { _count: { select: { articles: true, followers: true } } } }),
    ],
    [
      `topic t${topic} with articles`,
      (db) =>
        db.topic.findUnique({ where: { name: `t${topic}` }, include: { articles: { select: { id: true }, ...byId } } }),
    ],
    [
      `followers of topic ${topic}`,
      (db) => db.topicFollow.findMany({ where: { topicId: topic }, orderBy: { memberId: 'asc' } }),
    ],
    [
      `members following nobody but ${username}`,
      (db) =>
        db.member.findMany({
          where: { following: { every: { username } }, NOT: { following: { none: {} } } },
          ...byId,
        }),
    ],
    [
      `members who replied on ${slug}`,
      (db) => db.member.findMany({ where: { replies: { some: { article: { is: { slug } } } } }, ...byId }),
    ],
  ]
}

export function conduitWrites(r: Random, c: ConduitCounters): Option[] {
  const member = r.int(1, c.member)
  const other = r.int(1, c.member)
  const article = r.int(1, c.article)
  const topic = r.int(1, c.topic)
  const reply = r.int(1, c.reply)
  const slug = `s${article}`
  return [
    [
      `member ${member} favorites ${slug}`,
      (db) => db.article.update({ where: { slug }, data: { favoritedBy: { connect: { id: member } } } }),
    ],
    [
      `member ${member} unfavorites ${slug}`,
      (db) => db.article.update({ where: { slug }, data: { favoritedBy: { disconnect: { id: member } } } }),
    ],
    [
      `member ${member} favorites article ${article} from its side`,
      (db) => db.member.update({ where: { id: member }, data: { favorites: { connect: { slug } } } }),
    ],
    [
      `member ${other} follows m${member}`,
      (db) => db.member.update({ where: { username: `m${member}` }, data: { followedBy: { connect: { id: other } } } }),
    ],
    [
      `member ${other} unfollows m${member}`,
      (db) =>
        db.member.update({ where: { username: `m${member}` }, data: { followedBy: { disconnect: { id: other } } } }),
    ],
    [
      `member ${member} follows only ${other}`,
      (db) => db.member.update({ where: { id: member }, data: { following: { set: [{ id: other }] } } }),
    ],
    [
      `reply on ${slug} by ${member}`,
      (db) => {
        c.reply++
        return db.reply.create({
          data: { body: `r${r.int(0, 9)}`, article: { connect: { slug } }, author: { connect: { id: member } } },
        })
      },
    ],
    [`delete reply ${reply}`, (db) => db.reply.delete({ where: { id: reply } })],
    [
      `move reply ${reply} to article ${article}`,
      (db) => db.reply.update({ where: { id: reply }, data: { articleId: article } }),
    ],
    [
      `new article by ${member}`,
      (db) => {
        const id = ++c.article
        return db.article.create({
          data: {
            slug: `s${id}`,
            title: `a${id}`,
            description: 'd',
            body: 'b',
            author: { connect: { id: member } },
            topics: { connectOrCreate: [{ where: { name: `t${topic}` }, create: { name: `t${topic}` } }] },
          },
        })
      },
    ],
    [`retitle ${slug}`, (db) => db.article.update({ where: { slug }, data: { title: `t${r.int(0, 99)}` } })],
    [`reslug ${slug}`, (db) => db.article.update({ where: { slug }, data: { slug: `s${article}x${r.int(0, 3)}` } })],
    [`slug back ${article}`, (db) => db.article.update({ where: { id: article }, data: { slug } })],
    [`delete ${slug}`, (db) => db.article.delete({ where: { slug } })],
    // Reads show topics by name alone (w:): a rename moves the row they show.
    [`rename topic t${topic}`, (db) => db.topic.update({ where: { name: `t${topic}` }, data: { name: `t${topic}x` } })],
    [`topic ${topic} named back`, (db) => db.topic.update({ where: { id: topic }, data: { name: `t${topic}` } })],
    [
      `retopic article ${article}`,
      (db) => db.article.update({ where: { id: article }, data: { topics: { set: [{ id: topic }] } } }),
    ],
    [`bio of ${member}`, (db) => db.member.update({ where: { id: member }, data: { bio: `bio ${r.int(0, 9)}` } })],
    [
      `rename member ${member} by email`,
      (db) =>
        db.member.update({
          where: { email: `m${member}@example.com` },
          data: { username: `m${member}x${r.int(0, 2)}` },
        }),
    ],
    [
      `rename member ${member} back`,
      (db) => db.member.update({ where: { id: member }, data: { username: `m${member}` } }),
    ],
    [
      `member ${member} follows topic ${topic}`,
      (db) => db.topicFollow.create({ data: { memberId: member, topicId: topic } }),
    ],
    [
      `member ${member} unfollows topic ${topic}`,
      (db) => db.topicFollow.delete({ where: { memberId_topicId: { memberId: member, topicId: topic } } }),
    ],
    [
      `retitle all articles of ${member}`,
      (db) => db.article.updateMany({ where: { authorId: member }, data: { title: `many ${r.int(0, 9)}` } }),
    ],
    [`delete replies of article ${article}`, (db) => db.reply.deleteMany({ where: { articleId: article } })],
    [
      `member ${member} writes an article with a new topic`,
      (db) => {
        const id = ++c.article
        c.topic++
        return db.member.update({
          where: { id: member },
          data: {
            articles: {
              create: {
                slug: `s${id}`,
                title: 'n',
                description: 'd',
                body: 'b',
                topics: { create: { name: `t${c.topic}` } },
              },
            },
          },
        })
      },
    ],
    [
      'new member',
      (db) => {
        const id = ++c.member
        return db.member.create({ data: { username: `m${id}`, email: `m${id}@example.com` } })
      },
    ],
    // Rarer than the rest: it takes the member's articles and replies with it.
    ...(r.next() < 0.25
      ? [[`delete member ${member}`, (db: Db) => db.member.delete({ where: { id: member } })] as Option]
      : []),
  ]
}

/** Members m1…m8, articles s1…s10 (two topics each), favorites, follows, replies, topic follows. */
export async function seedConduit(db: Db): Promise<ConduitCounters> {
  for (let i = 1; i <= 8; i++) {
    await db.member.create({ data: { username: `m${i}`, email: `m${i}@example.com`, bio: i % 2 ? `bio ${i}` : null } })
  }
  for (let i = 1; i <= 5; i++) await db.topic.create({ data: { name: `t${i}` } })
  for (let i = 1; i <= 10; i++) {
    await db.article.create({
      data: {
        slug: `s${i}`,
        title: `a${i}`,
        description: 'd',
        body: 'b',
        authorId: (i % 4) + 1,
        topics: { connect: [{ id: (i % 5) + 1 }, { id: ((i + 2) % 5) + 1 }] },
        favoritedBy: { connect: [{ id: ((i + 1) % 8) + 1 }] },
      },
    })
  }
  let replies = 0
  for (let i = 1; i <= 8; i++) {
    await db.member.update({
      where: { id: i },
      data: { following: { connect: [{ id: (i % 8) + 1 }] }, topicFollows: { create: { topicId: (i % 5) + 1 } } },
    })
    await db.reply.create({ data: { body: `r${i}`, articleId: (i % 10) + 1, authorId: i } })
    replies++
  }
  return { member: 8, article: 10, reply: replies, topic: 5 }
}
