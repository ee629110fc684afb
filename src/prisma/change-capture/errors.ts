/**
 * A change-capture failure that is not PostgreSQL's own: a malformed notification, a listener
 * that could not start in time or was closed. Sent to `events` as `'error'`; never thrown into a query.
 * (Belongs beside the other errors in core/errors.ts once `E_CHANGE_CAPTURE` joins `CacheErrorCode`.)
 */
export class ChangeCaptureError extends Error {
  readonly code = 'E_CHANGE_CAPTURE' as const

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ChangeCaptureError'
  }
}
