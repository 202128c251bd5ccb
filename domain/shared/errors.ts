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

/** The services a node cannot work without; each may be unreachable for a while (docs/operations.md). */
export type Dependency = 'redis' | 'postgres';

/** What a caller refused for an unreachable dependency is told to wait before trying again. */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 5;

/** `unavailable` with retryAfter: the one answer for work refused because `dependency` cannot be reached. */
export function dependencyUnavailable(dependency: Dependency): AppError {
  const what = dependency === 'postgres' ? 'The database' : 'A shared service';
  return new AppError('unavailable', `${what} is unreachable for a moment. Try again in ${DEPENDENCY_RETRY_AFTER_SECONDS} s.`, {
    details: { dependency },
    retryAfter: DEPENDENCY_RETRY_AFTER_SECONDS,
  });
}

// ioredis: a command refused while the connection is down (no offline queue), one that waited out `commandTimeout`,
// one flushed after the reconnection attempts, or one cut off with its connection.
const REDIS_UNREACHABLE = /Stream isn't writeable|Command timed out|Connection is closed|max retries per request/i;
// pg and pg-pool: a connection refused, cut or not obtained in time (`connectionTimeoutMillis`).
const POSTGRES_UNREACHABLE =
  /Connection terminated|timeout exceeded when trying to connect|not queryable|terminating connection due to administrator command|the database system is (starting up|shutting down|in recovery mode)/i;
// Socket errors, and SQLSTATE: 57P01–57P03 (admin or crash shutdown, cannot connect now), 53300 (too many connections).
const POSTGRES_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300']);

/**
 * Which dependency's unreachability made `err`, if any: the one place that tells an outage (answered `unavailable`
 * with retryAfter) from a fault of ours (`internal`). Looks through wrapped causes (the ORM wraps driver errors).
 */
export function dependencyFailure(err: unknown): Dependency | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const e = current as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown };
    const message = typeof e.message === 'string' ? e.message : '';
    if (e.name === 'MaxRetriesPerRequestError' || REDIS_UNREACHABLE.test(message)) return 'redis';
    if (typeof e.code === 'string' && (POSTGRES_CODES.has(e.code) || e.code.startsWith('08'))) return 'postgres';
    if (POSTGRES_UNREACHABLE.test(message)) return 'postgres';
    current = e.cause;
  }
  return undefined;
}

/** An AppError as it is; an outage of a dependency as `unavailable` (see dependencyFailure); anything else untouched. */
export function asAppError(err: unknown): AppError | undefined {
  if (isAppError(err)) return err;
  const dependency = dependencyFailure(err);
  return dependency ? dependencyUnavailable(dependency) : undefined;
}

/** The dependency an answer was refused for, if it was refused for one (metrics, logs). */
export function refusedFor(err: unknown): Dependency | undefined {
  if (isAppError(err)) {
    const details = err.details as { dependency?: Dependency } | undefined;
    return err.code === 'unavailable' ? details?.dependency : undefined;
  }
  return dependencyFailure(err);
}

/** Turns any thrown value into the body a client may see; never leaks internals. */
export function toErrorBody(err: unknown): ErrorBody {
  const appError = asAppError(err);
  if (appError) return appError.toBody();
  return { code: 'internal', message: 'Something went wrong on our side. Please try again.' };
}

/** A unique violation, whether the ORM translated it or it came raw from the driver; optionally a named constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; name?: string; cause?: unknown };
  if (e?.name === 'UniqueConstraintViolationException') return constraint === undefined || isUniqueViolation(e.cause, constraint);
  if (e?.code !== '23505') return false;
  return constraint === undefined || e.constraint === constraint;
}
