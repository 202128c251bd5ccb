import { randomBytes } from 'node:crypto';
import { io as connect, type Socket, type SocketReservedEvents } from 'socket.io-client';
import type { AuthResult } from '../contracts/auth.ts';
import type { AckResult } from '../contracts/errors.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../contracts/realtime.ts';
import type { RunningNode } from './nodes.ts';

/*
 * The ways a test talks to a running node, typed by the contracts: REST through `call` (one shape for every test), the
 * socket through the event maps, so a test sends what a client may send and reads what the server says it answers.
 */

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A registered account as a test holds it: the API's AuthResult plus the password, to sign in again. */
export type TestUser = AuthResult & { password: string };

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

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * A call to the REST API (`/api/v1` + `path`) as `user` (anonymous without one). Name the body's type from
 * contracts/ — `call<CommunityEnvelope>(node, 'POST', '/communities', owner, input)`; a failed call's body is an
 * `ErrorResponse` whatever the type argument says, so check the status first (or use `ok`).
 */
export function call<T = any>(
  node: RunningNode | string,
  method: HttpMethod,
  path: string,
  user?: Pick<AuthResult, 'accessToken'> | null,
  body?: unknown,
): Promise<ApiResponse<T>> {
  return api<T>(typeof node === 'string' ? node : node.url, method, `/api/v1${path}`, { token: user?.accessToken, body });
}

/** The body of a call that must answer `status` (200 unless told); anything else fails the test with what came back. */
export async function ok<T>(response: Promise<ApiResponse<T>> | ApiResponse<T>, status = 200): Promise<T> {
  const res = await response;
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Registers a fresh user through the real API. */
export async function registerUser(
  baseUrl: string,
  overrides: Partial<{ email: string; password: string; displayName: string }> = {},
): Promise<TestUser> {
  const input = {
    email: overrides.email ?? uniqueEmail(),
    password: overrides.password ?? STRONG_PASSWORD,
    displayName: overrides.displayName ?? `Learner ${randomBytes(3).toString('hex')}`,
  };
  const res = await api<AuthResult>(baseUrl, 'POST', '/api/v1/auth/register', { body: input });
  if (res.status !== 201) throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...res.body, password: input.password };
}

type Tuple<T, N extends number, R extends T[] = []> = number extends N ? T[] : R['length'] extends N ? R : Tuple<T, N, [...R, T]>;

/** `n` fresh users, registered concurrently, typed as a tuple (when `n` is a literal) so they can be destructured. */
export async function registerUsers<const N extends number>(url: string, n: N): Promise<Tuple<TestUser, N>> {
  return (await Promise.all(Array.from({ length: n }, () => registerUser(url)))) as Tuple<TestUser, N>;
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

/** An event a client sends. */
export type ClientEvent = keyof ClientToServerEvents;
/** What a client sends with `E`: the event map's first argument. */
export type EventInput<E extends ClientEvent> = Parameters<ClientToServerEvents[E]>[0];
/** What the server acks `E` with: `{ ok: true, data }` or `{ ok: false, error }`. */
export type EventAck<E extends ClientEvent> = Parameters<NonNullable<Parameters<ClientToServerEvents[E]>[1]>>[0];
/** The data of a successful ack of `E`. */
export type AckData<E extends ClientEvent> = Extract<EventAck<E>, { ok: true }>['data'];

/** An event the server sends, or one the client library raises itself (connect, connect_error, disconnect). */
export type ServerEvent = keyof ServerToClientEvents | keyof SocketReservedEvents;
/** What arrives with `E`. */
export type EventPayload<E extends ServerEvent> = Parameters<(ServerToClientEvents & SocketReservedEvents)[E]>[0];

/** The socket as the helpers below drive it; their signatures carry the event maps' types, checked at each call. */
const untyped = (socket: ClientSocket) =>
  socket as unknown as {
    timeout(ms: number): { emitWithAck(event: string, payload: unknown): Promise<unknown> };
    once(event: string, listener: (payload: unknown) => void): void;
    on(event: string, listener: (payload: unknown) => void): void;
  };

/** Emits a client event and resolves with its ack ({ok,data} or {ok:false,error}), typed by the event map. */
export function emitAck<E extends ClientEvent>(socket: ClientSocket, event: E, payload: EventInput<E>, timeoutMs?: number): Promise<EventAck<E>>;
export function emitAck(socket: ClientSocket, event: string, payload: unknown, timeoutMs = 5000): Promise<unknown> {
  return untyped(socket).timeout(timeoutMs).emitWithAck(event, payload);
}

/** Like emitAck, but fails the test unless the ack is ok; returns its data. */
export function emitOk<E extends ClientEvent>(socket: ClientSocket, event: E, payload: EventInput<E>, timeoutMs?: number): Promise<AckData<E>>;
export async function emitOk(socket: ClientSocket, event: string, payload: unknown, timeoutMs = 5000): Promise<unknown> {
  const result = (await untyped(socket).timeout(timeoutMs).emitWithAck(event, payload)) as AckResult<unknown>;
  if (!result.ok) throw new Error(`${event} failed: ${result.error.code} ${result.error.message}`);
  return result.data;
}

/** The socket follows these people's presence, as a tab showing them does (`presence:watch`); resolves with the ack. */
export function watchPresence(socket: ClientSocket, add: readonly (TestUser | string)[], remove: readonly (TestUser | string)[] = []) {
  const ids = (people: readonly (TestUser | string)[]) => people.map((p) => (typeof p === 'string' ? p : p.user.id));
  return emitOk(socket, 'presence:watch', { add: ids(add), remove: ids(remove) });
}

/**
 * Sends what a misbehaving client might — a payload (or an event name) the event map refuses — for tests of input
 * validation; resolves with the ack. Everything else goes through emitAck.
 */
export function emitRaw(socket: ClientSocket, event: string, payload: unknown, timeoutMs = 5000): Promise<AckResult<unknown>> {
  return untyped(socket).timeout(timeoutMs).emitWithAck(event, payload) as Promise<AckResult<unknown>>;
}

/** Resolves with the first `event` emitted on `socket`, or rejects after `timeoutMs`. */
export function nextEvent<E extends ServerEvent>(socket: ClientSocket, event: E, timeoutMs?: number): Promise<EventPayload<E>>;
export function nextEvent(socket: ClientSocket, event: string, timeoutMs = 3000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${timeoutMs} ms`)), timeoutMs);
    untyped(socket).once(event, (payload) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

/** Collects every `event` emitted on `socket` from now on. */
export function collect<E extends ServerEvent>(socket: ClientSocket, event: E): EventPayload<E>[];
export function collect(socket: ClientSocket, event: string): unknown[] {
  const seen: unknown[] = [];
  untyped(socket).on(event, (payload) => seen.push(payload));
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
