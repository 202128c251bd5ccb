import type { Next } from 'koa';
import { HTTP_STATUS_BY_CODE, type ErrorResponse } from '../../contracts/errors.ts';
import { AppError, asAppError, refusedFor, toErrorBody } from '../../domain/shared/errors.ts';
import type { Metrics } from '../../domain/shared/metrics.ts';
import type { ApiContext } from '../context.ts';

/**
 * Every failure leaves as `{"error":{code,message,...}}` with the mapped status; internals are logged, never sent. An
 * unreachable Redis or PostgreSQL is `503 unavailable` with Retry-After, counted by dependency.
 */
export function errorHandler(metrics: Pick<Metrics, 'dependencyFailures'>) {
  return async (ctx: ApiContext, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new AppError('not_found', `No route for ${ctx.method} ${ctx.path}.`);
      }
    } catch (err) {
      const appError = translate(err);
      if (!appError) ctx.state.log?.error({ err }, 'unhandled error');
      const dependency = refusedFor(err);
      if (dependency) {
        metrics.dependencyFailures.inc({ dependency });
        ctx.state.log?.warn({ err: String(err), dependency }, 'refused: dependency unreachable');
      }
      const body = toErrorBody(appError ?? err);
      ctx.status = HTTP_STATUS_BY_CODE[body.code];
      if (body.retryAfter !== undefined) ctx.set('Retry-After', String(body.retryAfter));
      ctx.body = { error: body } satisfies ErrorResponse;
    }
  };
}

/** Maps known framework errors (body too large, bad JSON, method not allowed) and dependency outages to our codes. */
function translate(err: unknown): AppError | undefined {
  const known = asAppError(err);
  if (known) return known;
  const status = (err as { status?: number; statusCode?: number })?.status ?? (err as { statusCode?: number })?.statusCode;
  const message = (err as Error)?.message;
  switch (status) {
    case 400:
      return new AppError('invalid_input', message || 'The request is not valid.');
    case 404:
      return new AppError('not_found', message || 'Not found.');
    case 405:
    case 501:
      return new AppError('invalid_input', message || 'This method is not allowed here.');
    case 413:
      return new AppError('payload_too_large', 'The request body is too large.');
    case 415:
      return new AppError('invalid_input', message || 'Unsupported content type.');
    default:
      return undefined;
  }
}
