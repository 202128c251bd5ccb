import { z } from 'zod';

/** The one small set of error codes shared by HTTP responses and socket acks. */
export const ERROR_CODES = [
  'invalid_input',
  'unauthenticated',
  'forbidden',
  'not_found',
  'conflict',
  'rate_limited',
  'payload_too_large',
  'unavailable',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export const HTTP_STATUS_BY_CODE: Record<ErrorCode, number> = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

export const ErrorBody = z.object({
  code: z.enum(ERROR_CODES),
  message: z.string(),
  details: z.unknown().optional(),
  /** Seconds until the caller may try again (rate_limited; unavailable when a dependency is unreachable). */
  retryAfter: z.number().int().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** The body of every failed HTTP response: `{"error": {...}}`. */
export const ErrorResponse = z.object({ error: ErrorBody }).describe('Error');
export type ErrorResponse = z.infer<typeof ErrorResponse>;

export type AckResult<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };
export type Ack<T> = (result: AckResult<T>) => void;
