/** Where the tests find their services; loopback defaults match the development machine. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
/** A server-level PostgreSQL URL; each test run creates and drops its own database on it. */
export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test'
