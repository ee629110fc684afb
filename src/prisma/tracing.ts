import { AsyncLocalStorage } from 'node:async_hooks'
import { createRequire } from 'node:module'
import type { CacheEventMap, CacheEventSink, InvalidationCause } from '../core/events.ts'
import { keyHash } from './key-hash.ts'
import type { ReadOutcome } from './prisma-promise.ts'

/**
 * The few parts of `@opentelemetry/api` used here, typed structurally: the package is an optional
 * peer, so no type of ours may name it (a consumer without it must still type-check).
 */
type Attributes = Record<string, string | number | boolean>
interface Span {
  setAttributes(attributes: Attributes): unknown
  addEvent(name: string, attributes?: Attributes): unknown
  recordException(error: unknown): unknown
  setStatus(status: { code: number; message?: string }): unknown
  isRecording(): boolean
  end(): void
}
interface Tracer {
  startSpan(name: string, options?: { kind?: number; attributes?: Attributes; root?: boolean }): Span
}
interface OtelApi {
  trace: {
    getTracerProvider(): { getTracer(name: string, version?: string): Tracer; getDelegate?(): unknown }
    setSpan(context: unknown, span: Span): unknown
  }
  context: { active(): unknown; with<T>(context: unknown, fn: () => T): T }
  ProxyTracerProvider: new () => { getDelegate(): unknown }
  SpanKind: { INTERNAL: number; CONSUMER: number }
  SpanStatusCode: { ERROR: number }
}

/** The tracer's name (the instrumentation scope of every span). */
export const TRACER_NAME = 'tiered-cache'
/** How often (ms) whether a tracer provider is registered is asked again. */
const RECHECK_MS = 1_000

/** Which tier answered the read being traced, learnt from its events. */
interface ReadScope {
  tier: 'l1' | 'l2' | 'db' | undefined
  readonly span: Span
}

/** `@opentelemetry/api`, or `undefined` when it is not installed (it is an optional peer). */
function loadApi(): OtelApi | undefined {
  try {
    return createRequire(import.meta.url)('@opentelemetry/api') as OtelApi
  } catch {
    return undefined
  }
}

/**
 * The spans of one client (README, "Observability"): `tiered_cache.read` around every cached read,
 * `tiered_cache.invalidate` around every write's invalidation, `tiered_cache.bus` for every
 * invalidation received from another instance. Built only when `@opentelemetry/api` loads; spans
 * are made only while a tracer provider is registered, which is asked once at creation and then
 * every second by an unref'd timer, so a read without one pays a field read.
 */
export class Tracing {
  readonly #api: OtelApi
  /** The no-op provider of the API's proxy: what `getDelegate()` returns while none is registered. */
  readonly #noop: unknown
  readonly #scope = new AsyncLocalStorage<ReadScope>()
  #tracer: Tracer | undefined
  #timer: NodeJS.Timeout | undefined

  /** A Tracing, or `undefined` when `@opentelemetry/api` is not installed. */
  static create(): Tracing | undefined {
    const api = loadApi()
    return api && new Tracing(api)
  }

  private constructor(api: OtelApi) {
    this.#api = api
    this.#noop = new api.ProxyTracerProvider().getDelegate()
    this.#refresh()
    this.#timer = setInterval(() => this.#refresh(), RECHECK_MS)
    this.#timer.unref?.()
  }

  /** Whether spans are made now (a tracer provider is registered). */
  get on(): boolean {
    return this.#tracer !== undefined
  }

  /** Stops asking (the client's `$cache.close()`); spans stop too. */
  close(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#tracer = undefined
  }

  /**
   * Runs one cached read (`run` starts it) inside a `tiered_cache.read` span, a child of the
   * caller's active span and the parent of the database query on a miss. `outcome` is filled in
   * by the read; the tier comes from the read's own `'hit'`/`'miss'` events (see `sink`).
   */
  read<T>(model: string, operation: string, outcome: ReadOutcome, run: () => Promise<T>): Promise<T> {
    const tracer = this.#tracer
    if (tracer === undefined) return run()
    const span = tracer.startSpan('tiered_cache.read', {
      kind: this.#api.SpanKind.INTERNAL,
      attributes: { 'tiered_cache.model': model, 'tiered_cache.operation': operation },
    })
    const scope: ReadScope = { tier: undefined, span }
    const { context, trace } = this.#api
    const started = context.with(trace.setSpan(context.active(), span), () => this.#scope.run(scope, run))
    return started.then(
      (value) => {
        if (span.isRecording()) {
          const status = outcome.status
          span.setAttributes({
            'cache.hit': status === 'ttl' || status === 'swr',
            // A read that joined another's load in flight saw no event of its own.
            'tiered_cache.tier': status === 'none' ? 'none' : (scope.tier ?? (status === 'miss' ? 'db' : 'shared')),
            'tiered_cache.status': status,
            'tiered_cache.key_hash': keyHash(outcome.signature),
          })
        }
        span.end()
        return value
      },
      (error: unknown) => {
        this.#failed(span, error)
        throw error
      },
    )
  }

  /** Runs the invalidation of one write's `tags` inside a `tiered_cache.invalidate` span. */
  invalidation(tags: readonly string[], cause: InvalidationCause, run: () => Promise<void>): Promise<void> {
    const tracer = this.#tracer
    if (tracer === undefined) return run()
    const span = tracer.startSpan('tiered_cache.invalidate', {
      kind: this.#api.SpanKind.INTERNAL,
      attributes: {
        'tiered_cache.tag_count': tags.length,
        'tiered_cache.operation': cause.operation,
        'tiered_cache.transaction': cause.transaction,
        ...(cause.model !== undefined && { 'tiered_cache.model': cause.model }),
      },
    })
    const { context, trace } = this.#api
    return context.with(trace.setSpan(context.active(), span), run).then(
      () => span.end(),
      (error: unknown) => {
        this.#failed(span, error)
        throw error
      },
    )
  }

  /**
   * An events sink that passes every event on to `next` and, while spans are made, learns the tier
   * of the read in scope and records bus deliveries and refused stores.
   */
  sink(next: CacheEventSink | undefined): CacheEventSink {
    return {
      emit: (name: string, payload: unknown) => {
        if (this.#tracer !== undefined) this.#observe(name, payload)
        if (next !== undefined && !(name === 'error' && next.listenerCount?.('error') === 0)) next.emit(name, payload)
      },
      // `next` is asked itself before an 'error' is passed on.
      listenerCount: () => 1,
    }
  }

  #observe(name: string, payload: unknown): void {
    switch (name) {
      case 'hit': {
        const scope = this.#scope.getStore()
        if (scope !== undefined) scope.tier ??= (payload as CacheEventMap['hit']).tier
        return
      }
      case 'miss': {
        const scope = this.#scope.getStore()
        if (scope !== undefined) scope.tier ??= 'db'
        return
      }
      case 'set:skipped': {
        const event = payload as CacheEventMap['set:skipped']
        this.#scope.getStore()?.span.addEvent('tiered_cache.set_skipped', {
          'tiered_cache.tier': event.tier,
          'tiered_cache.reason': event.reason,
        })
        return
      }
      case 'bus':
        this.#delivered(payload as CacheEventMap['bus'])
    }
  }

  /** A `tiered_cache.bus` span (a root: the delivery is not part of any local request) per message. */
  #delivered(message: CacheEventMap['bus']): void {
    const cause = message.cause
    const span = this.#tracer!.startSpan('tiered_cache.bus', {
      kind: this.#api.SpanKind.CONSUMER,
      root: true,
      attributes: {
        'tiered_cache.from': message.from,
        'tiered_cache.tag_count': message.tags?.length ?? 0,
        'tiered_cache.key_count': message.keys?.length ?? 0,
        ...(message.clear && { 'tiered_cache.clear': true }),
        ...(message.pattern && { 'tiered_cache.pattern': message.pattern.join(' ') }),
        ...(cause && { 'tiered_cache.operation': cause.operation, 'tiered_cache.transaction': cause.transaction }),
        ...(cause?.model !== undefined && { 'tiered_cache.model': cause.model }),
      },
    })
    span.end()
  }

  #failed(span: Span, error: unknown): void {
    span.recordException(error instanceof Error ? error : String(error))
    span.setStatus({
      code: this.#api.SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    })
    span.end()
  }

  #refresh(): void {
    const provider = this.#api.trace.getTracerProvider()
    // The API's global is a proxy whose delegate is a no-op until a provider is registered.
    const registered = typeof provider.getDelegate !== 'function' || provider.getDelegate() !== this.#noop
    this.#tracer = registered ? provider.getTracer(TRACER_NAME) : undefined
  }
}
