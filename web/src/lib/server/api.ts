import { ERROR_CODES, type ErrorBody, type ErrorCode } from '$contracts/errors.ts';

/**
 * The SvelteKit server talks to the REST API of its own process over loopback. The internal headers let the API
 * record the browser's device and rate-limit by the browser's IP rather than by 127.0.0.1.
 */
export type ApiResult<T> = { ok: true; status: number; data: T } | { ok: false; status: number; error: ErrorBody };

/** The parts of a SvelteKit RequestEvent the helper needs (kept narrow so tests can pass a stub). */
export interface ApiCaller {
  request: Request;
  getClientAddress(): string;
}

export interface ApiRequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  /** Access token for `Authorization: Bearer`. */
  token?: string | null;
  timeoutMs?: number;
  /** Headers of the call's own, e.g. an `Idempotency-Key`. */
  headers?: Record<string, string>;
}

const DEFAULT_INTERNAL_API = 'http://127.0.0.1:3000';
const DEFAULT_TIMEOUT_MS = 10_000;

/** Read per call, not at import: the server process sets these after the web handler module may have loaded. */
export function internalApiOrigin(): string {
  return (process.env.EDULURE_INTERNAL_API ?? '').trim().replace(/\/+$/, '') || DEFAULT_INTERNAL_API;
}

/**
 * `T` is the route's response type from `$contracts` (its OpenAPI schema): the API checks its answers against the same
 * schema, so the JSON is taken as that type here.
 */
export async function apiRequest<T>(caller: ApiCaller, path: string, options: ApiRequestOptions = {}): Promise<ApiResult<T>> {
  const { method = 'GET', body, token, timeoutMs = DEFAULT_TIMEOUT_MS } = options;
  const headers = apiHeaders(caller, token, 'application/json');
  if (body !== undefined) headers.set('content-type', 'application/json');
  for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);

  let response: Response;
  try {
    response = await fetch(internalApiOrigin() + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'manual',
    });
  } catch {
    return { ok: false, status: 503, error: { code: 'unavailable', message: 'The Edulure API is not reachable.' } };
  }

  const payload = await readJson(response);
  if (response.ok) return { ok: true, status: response.status, data: payload as T };
  return { ok: false, status: response.status, error: toErrorBody(response.status, payload) };
}

/** The same result with its data reshaped (an envelope's content, a list's items). */
export function mapResult<A, B>(result: ApiResult<A>, map: (data: A) => B): ApiResult<B> {
  return result.ok ? { ...result, data: map(result.data) } : result;
}

/** The headers every call to the API carries: the internal secret with the browser's address, its user agent, the token. */
export function apiHeaders(caller: ApiCaller, token: string | null | undefined, accept: string): Headers {
  const headers = new Headers({ accept });
  const secret = process.env.EDULURE_INTERNAL_SECRET;
  if (secret) {
    headers.set('x-edulure-internal', secret);
    const ip = clientAddress(caller);
    if (ip) headers.set('x-edulure-client-ip', ip);
  }
  const userAgent = caller.request.headers.get('user-agent');
  if (userAgent) headers.set('user-agent', userAgent);
  if (token) headers.set('authorization', `Bearer ${token}`);
  return headers;
}

/**
 * A GET whose answer is not JSON (a CSV export): the raw response on success, the shared error shape otherwise.
 */
export async function apiDownload(
  caller: ApiCaller,
  path: string,
  options: { token?: string | null; accept: string; timeoutMs?: number },
): Promise<{ ok: true; response: Response } | { ok: false; status: number; error: ErrorBody }> {
  let response: Response;
  try {
    response = await fetch(internalApiOrigin() + path, {
      headers: apiHeaders(caller, options.token, options.accept),
      signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      redirect: 'manual',
    });
  } catch {
    return { ok: false, status: 503, error: { code: 'unavailable', message: 'The Edulure API is not reachable.' } };
  }
  if (response.ok) return { ok: true, response };
  return { ok: false, status: response.status, error: toErrorBody(response.status, await readJson(response)) };
}

function clientAddress(caller: ApiCaller): string | null {
  try {
    return caller.getClientAddress();
  } catch {
    // adapter-node throws when a configured ADDRESS_HEADER is missing; the API then falls back to the socket address.
    return null;
  }
}

async function readJson(response: Response): Promise<unknown> {
  if (response.status === 204) return undefined;
  const text = await response.text().catch(() => '');
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const CODE_BY_STATUS: Record<number, ErrorCode> = {
  400: 'invalid_input',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  429: 'rate_limited',
  502: 'unavailable',
  503: 'unavailable',
  504: 'unavailable',
};

/** Normalises any failed response into the shared error shape, even when a proxy answered instead of the API. */
export function toErrorBody(status: number, payload: unknown): ErrorBody {
  const fallbackCode = CODE_BY_STATUS[status] ?? 'internal';
  const raw = typeof payload === 'object' && payload !== null ? (payload as { error?: unknown }).error : undefined;
  if (typeof raw !== 'object' || raw === null) {
    return { code: fallbackCode, message: `The request failed (HTTP ${status}).` };
  }
  const { code, message, details, retryAfter } = raw as Record<string, unknown>;
  const body: ErrorBody = {
    code: typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code) ? (code as ErrorCode) : fallbackCode,
    message: typeof message === 'string' && message ? message : `The request failed (HTTP ${status}).`,
  };
  if (details !== undefined) body.details = details;
  if (typeof retryAfter === 'number' && Number.isFinite(retryAfter)) body.retryAfter = retryAfter;
  return body;
}
