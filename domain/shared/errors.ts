import type { ErrorBody, ErrorCode } from '../../contracts/errors.ts';

/** An expected failure with a code from contracts/errors.ts; anything else is `internal`. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: unknown;
  readonly retryAfter: number | undefined;

  constructor(code: ErrorCode, message: string, options: { details?: unknown; retryAfter?: number } = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.details = options.details;
    this.retryAfter = options.retryAfter;
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.details !== undefined) body.details = this.details;
    if (this.retryAfter !== undefined) body.retryAfter = this.retryAfter;
    return body;
  }
}

export const isAppError = (err: unknown): err is AppError => err instanceof AppError;

/** Turns any thrown value into the body a client may see; never leaks internals. */
export function toErrorBody(err: unknown): ErrorBody {
  if (isAppError(err)) return err.toBody();
  return { code: 'internal', message: 'Something went wrong on our side. Please try again.' };
}

/** A unique violation, whether the ORM translated it or it came raw from the driver; optionally a named constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; name?: string; cause?: unknown };
  if (e?.name === 'UniqueConstraintViolationException') return constraint === undefined || isUniqueViolation(e.cause, constraint);
  if (e?.code !== '23505') return false;
  return constraint === undefined || e.constraint === constraint;
}
