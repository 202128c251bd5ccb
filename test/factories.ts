import { randomBytes } from 'node:crypto';
import { io as connect, type Socket } from 'socket.io-client';
import type { AuthResult } from '../contracts/auth.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../contracts/realtime.ts';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export function uniqueEmail(label = 'user'): string {
  return `${label}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}@example.test`;
}

export const STRONG_PASSWORD = 'correct horse battery staple';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  headers: Headers;
}

/** A plain HTTP call to a running node; JSON in and out. */
export async function api<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string>; rawBody?: string } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(baseUrl + path, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/** Registers a fresh user through the real API. */
export async function registerUser(
  baseUrl: string,
  overrides: Partial<{ email: string; password: string; displayName: string }> = {},
): Promise<AuthResult & { password: string }> {
  const input = {
    email: overrides.email ?? uniqueEmail(),
    password: overrides.password ?? STRONG_PASSWORD,
    displayName: overrides.displayName ?? `Learner ${randomBytes(3).toString('hex')}`,
  };
  const res = await api<AuthResult>(baseUrl, 'POST', '/api/v1/auth/register', { body: input });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...res.body, password: input.password };
}

/** Opens an authenticated socket (websocket transport) and waits for the connection or its error. */
export function connectSocket(
  baseUrl: string,
  token: string | undefined,
  options: { origin?: string; reconnection?: boolean } = {},
): Promise<ClientSocket> {
  const socket: ClientSocket = connect(baseUrl, {
    path: '/socket.io',
    transports: ['websocket'],
    auth: token === undefined ? {} : { token },
    reconnection: options.reconnection ?? false,
    forceNew: true,
    extraHeaders: options.origin ? { origin: options.origin } : {},
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

/** Resolves with the first `event` emitted on `socket`, or rejects after `timeoutMs`. */
export function nextEvent<T = unknown>(socket: ClientSocket, event: string, timeoutMs = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    (socket as unknown as { once(e: string, cb: (p: T) => void): void }).once(event, (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

/** Emits a client event and resolves with its ack ({ok,data} or {ok:false,error}). */
export function emitAck<T = any>(socket: ClientSocket, event: string, payload: unknown, timeoutMs = 5000): Promise<{ ok: true; data: T } | { ok: false; error: { code: string; message: string; retryAfter?: number } }> {
  return (socket as unknown as { timeout(ms: number): { emitWithAck(e: string, p: unknown): Promise<any> } })
    .timeout(timeoutMs)
    .emitWithAck(event, payload);
}

/** Like emitAck, but fails the test unless the ack is ok; returns its data. */
export async function emitOk<T = any>(socket: ClientSocket, event: string, payload: unknown): Promise<T> {
  const result = await emitAck<T>(socket, event, payload);
  if (!result.ok) throw new Error(`${event} failed: ${result.error.code} ${result.error.message}`);
  return result.data;
}

/** Collects every `event` emitted on `socket` from now on. */
export function collect<T = any>(socket: ClientSocket, event: string): T[] {
  const seen: T[] = [];
  (socket as unknown as { on(e: string, cb: (p: T) => void): void }).on(event, (payload: T) => seen.push(payload));
  return seen;
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what} not met within ${timeoutMs} ms`);
}
