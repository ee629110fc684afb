import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/**
 * Timing for the benchmark: short batches (~2 ms) of sequential awaited calls, contenders
 * interleaved round-robin (start rotated every round) so drift on a noisy 2-core machine hits all of
 * them alike, and medians over many rounds rather than means. Batches are short on purpose: with
 * other processes on the two cores, a 15 ms batch almost always contains a preemption of several ms
 * (measured: the same L1 hit read 2.8 to 31 µs/op across 15 ms batches); in 2 ms batches most
 * samples are clean and the preempted ones fall outside the median.
 */

/** Multiplies every sample count (rounds, operations, entries); `BENCH_SCALE=0.2` for a quick run. */
export const SCALE = (() => {
  const raw = Number(process.env.BENCH_SCALE ?? '1')
  return Number.isFinite(raw) && raw > 0 ? raw : 1
})()

/** `n` scaled, never below `min`. */
export const scaled = (n: number, min = 1) => Math.max(min, Math.round(n * SCALE))

/**
 * A full collection, for the memory measurements; `undefined` when V8 refuses. `--expose-gc` is not
 * needed: V8 can be asked for `gc` at run time. Lazy, and never used around timing batches: measured
 * here, batches after a forced full GC ran 3-5x slower (2.6 µs -> 6-14 µs for an L1 hit); the
 * collector's own pauses inside batches are part of what each contender costs.
 */
let gcFunction: (() => void) | undefined | null = null
export function getGc(): (() => void) | undefined {
  if (gcFunction !== null) return gcFunction
  gcFunction = (globalThis as { gc?: () => void }).gc
  if (!gcFunction) {
    try {
      setFlagsFromString('--expose-gc')
      gcFunction = runInNewContext('gc') as () => void
    } catch {
      gcFunction = undefined
    }
  }
  return gcFunction
}

export interface Contender {
  /** Row label in the table. */
  readonly name: string
  /** One operation; awaited even when synchronous, so every contender pays the same loop cost. */
  readonly run: (i: number) => unknown
  /** Runs once before calibration (fill a cache, warm a connection). */
  readonly prepare?: () => Promise<void>
}

export interface Sample {
  readonly name: string
  /** µs per operation, one value per round. */
  readonly rounds: readonly number[]
  readonly median: number
  readonly p25: number
  readonly p75: number
  readonly min: number
  /** Operations per batch (calibrated to about `batchMs`). */
  readonly batch: number
}

export interface InterleaveOptions {
  /** Rounds; each contender runs one batch per round. */
  readonly rounds: number
  /** Target duration of one batch, ms. @default 2 */
  readonly batchMs?: number
  /**
   * Each contender first runs alone this long, so V8 has optimized its path (measured: an L2 hit
   * read ~250 µs in its first few hundred calls and ~110 µs once warm). @default 300
   */
  readonly warmupMs?: number
  /** Called after each round (progress output). */
  readonly onRound?: (round: number) => void
}

export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}

export const median = (values: readonly number[]) => quantile(values, 0.5)

/** Runs `ops` sequential awaited calls and returns the µs per call. */
async function batch(run: (i: number) => unknown, ops: number, offset: number): Promise<number> {
  const start = process.hrtime.bigint()
  for (let i = 0; i < ops; i++) await run(offset + i)
  return Number(process.hrtime.bigint() - start) / 1000 / ops
}

/**
 * Warms `run` up for `warmupMs`, then returns the ops per batch that make one batch take about
 * `batchMs`, measured on the last 50 ms of the warm-up. Operation indexes from 0 to 999 999.
 */
async function calibrate(run: (i: number) => unknown, batchMs: number, warmupMs: number): Promise<number> {
  let ops = 0
  const start = process.hrtime.bigint()
  const elapsed = () => Number(process.hrtime.bigint() - start) / 1e6
  while ((ops < 20 || elapsed() < warmupMs - 50) && ops < 500_000) await run(ops++)
  const from = ops
  const mark = process.hrtime.bigint()
  let elapsedMs = 0
  while (ops - from < 10 || elapsedMs < 50) {
    await run(ops++)
    elapsedMs = Number(process.hrtime.bigint() - mark) / 1e6
    if (elapsedMs > 2_000 || ops >= 999_999) break
  }
  const usPerOp = (elapsedMs * 1000) / (ops - from)
  return Math.max(3, Math.min(200_000, Math.round((batchMs * 1000) / usPerOp)))
}

/**
 * Measures every contender in the same rounds: round r runs one batch of each, starting at
 * contender r mod n. Each contender's operation index keeps increasing across batches, so a
 * contender that needs fresh keys (misses) can derive them from it.
 */
export async function interleave(contenders: readonly Contender[], options: InterleaveOptions): Promise<Sample[]> {
  const { rounds, batchMs = 2, warmupMs = 300 } = options
  for (const c of contenders) await c.prepare?.()
  const sizes: number[] = []
  const offsets: number[] = []
  for (const c of contenders) {
    sizes.push(await calibrate(c.run, batchMs, warmupMs))
    offsets.push(1_000_000)
  }
  const perRound = contenders.map(() => [] as number[])
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const idx = (r + k) % contenders.length
      perRound[idx]!.push(await batch(contenders[idx]!.run, sizes[idx]!, offsets[idx]!))
      offsets[idx]! += sizes[idx]!
    }
    options.onRound?.(r)
  }
  return contenders.map((c, i) => ({
    name: c.name,
    rounds: perRound[i]!,
    median: median(perRound[i]!),
    p25: quantile(perRound[i]!, 0.25),
    p75: quantile(perRound[i]!, 0.75),
    min: Math.min(...perRound[i]!),
    batch: sizes[i]!,
  }))
}

/** Wall time of one async call, ms. */
export async function timeOnce(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint()
  await fn()
  return Number(process.hrtime.bigint() - start) / 1e6
}

/** Runs `fn(i)` for i in [0, n) with at most `concurrency` in flight. */
export async function pool(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < n) await fn(next++)
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker))
}

/** A seeded PRNG (mulberry32), so every contender of a workload sees the same sequence. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function log(message: string): void {
  process.stderr.write(`${message}\n`)
}
