import { io as connect } from 'socket.io-client';
import type { AuthResult } from '../contracts/auth.ts';
import type { MessagePage } from '../contracts/chat.ts';
import { ERROR_CODES } from '../contracts/errors.ts';
import { createChannelAs, createCommunityAs } from './communityFactories.ts';
import { api, call, connectSocket, emitOk, ok, registerUser, type ClientSocket, type TestUser } from './factories.ts';
import { createRng, fuzzPayload, malformed, needsRawJson, toJsonText, UNICODE_EDGES, type Limits, type Rng } from './fuzz.ts';
import { loadOperations, sampleValid, SOCKET_EVENTS, SOCKET_EXAMPLES, worldIdFor, type FuzzWorld, type RestOperation } from './fuzzTargets.ts';

/*
 * Runs generated payloads against a running node and counts what came back, per target and per family. A finding is
 * anything but a clean refusal or success: a 5xx, an ack with `internal`, an answer outside the error shape, a request or
 * ack that never comes back, a socket dropped for no documented reason.
 */

export interface Finding {
  target: string;
  family: string;
  /** The case's number within its target: with the seed, enough to generate the same payload again. */
  index: number;
  what: string;
  /** The start of the payload, for the report. */
  sample: string;
}

export class Tally {
  readonly targets = new Map<string, Map<string, number>>();
  readonly families = new Map<string, number>();
  readonly findings: Finding[] = [];
  sent = 0;

  count(target: string, family: string, outcome: string) {
    this.sent++;
    this.families.set(family, (this.families.get(family) ?? 0) + 1);
    const outcomes = this.targets.get(target) ?? new Map<string, number>();
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    this.targets.set(target, outcomes);
  }

  find(finding: Omit<Finding, 'sample'> & { payload: unknown }) {
    const { payload, ...rest } = finding;
    this.findings.push({ ...rest, sample: excerpt(payload) });
  }

  /** Per-target lines, then totals by family and by outcome. */
  report(): string {
    const lines: string[] = [];
    const byOutcome = new Map<string, number>();
    for (const [target, outcomes] of [...this.targets].sort(([a], [b]) => a.localeCompare(b))) {
      const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
      const parts = [...outcomes].sort(([, a], [, b]) => b - a).map(([o, n]) => `${o}×${n}`);
      lines.push(`  ${target.padEnd(58)} ${String(total).padStart(5)}  ${parts.join(', ')}`);
      for (const [o, n] of outcomes) byOutcome.set(o, (byOutcome.get(o) ?? 0) + n);
    }
    lines.push(`targets: ${this.targets.size}, payloads: ${this.sent}, findings: ${this.findings.length}`);
    lines.push(`by family: ${[...this.families].map(([f, n]) => `${f} ${n}`).join(', ')}`);
    lines.push(`by outcome: ${[...byOutcome].sort(([, a], [, b]) => b - a).map(([o, n]) => `${o} ${n}`).join(', ')}`);
    for (const f of this.findings.slice(0, 50)) lines.push(`FINDING ${f.target} [${f.family} #${f.index}] ${f.what} — ${f.sample}`);
    return lines.join('\n');
  }
}

function excerpt(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? value : needsRawJson(value) ? toJsonText(value) : (JSON.stringify(value) ?? String(value));
  } catch (err) {
    text = `(unprintable: ${(err as Error).message})`;
  }
  return text.length > 200 ? `${text.slice(0, 200)}… (${text.length} chars)` : text;
}

const isErrorCode = (code: unknown) => (ERROR_CODES as readonly unknown[]).includes(code);

/** The socket server's limit (realtime/server.ts MAX_SOCKET_PAYLOAD_BYTES): a bigger packet closes the connection. */
const SOCKET_PAYLOAD_LIMIT = 64 * 1024;
const SOCKET_LIMITS: Limits = { maxChars: 20_000, maxDepth: 3000, maxItems: 10_000, raw: false };
const REST_LIMITS: Limits = { maxChars: 300_000, maxDepth: 3000, maxItems: 50_000, raw: true };

export interface FuzzOptions {
  seed: number;
  /** Cases per socket event (split between the host's and a learner's socket). */
  perEvent: number;
  /** Cases per REST operation. */
  perOperation: number;
  /** Handshakes with malformed credentials. */
  handshakes: number;
  /** How long an ack or a response may take before it counts as a hang. */
  timeoutMs: number;
  /** Parallel REST callers. */
  concurrency: number;
  log?: (line: string) => void;
}

/** Every client event, from the host's socket and a learner's. */
export async function fuzzSockets(url: string, world: FuzzWorld, options: FuzzOptions, tally: Tally): Promise<void> {
  const hints = { ids: world.ids };
  await Promise.all(
    [world.host, world.learner].map(async (user, who) => {
      let socket = await connectSocket(url, user.accessToken);
      let dropped: string | undefined;
      const watch = (s: ClientSocket) => s.on('disconnect', (reason) => (dropped = reason));
      watch(socket);
      for (const event of SOCKET_EVENTS) {
        const rng = createRng(options.seed).fork(`socket ${event} ${who}`);
        const valid = SOCKET_EXAMPLES[event](world);
        const target = `socket ${event}`;
        for (let i = who; i < options.perEvent; i += 2) {
          // Besides payloads: the wrong number of arguments before the ack, and binary attachments where JSON is expected.
          const roll = rng.next();
          const { family, value } =
            roll < 0.03
              ? { family: 'arity', value: undefined }
              : roll < 0.06
                ? { family: 'binary', value: rng.chance(0.5) ? new Uint8Array(rng.int(4096)) : { ...valid, [rng.pick(Object.keys(valid).concat('x'))]: new Uint8Array(16) } }
                : fuzzPayload(rng, valid, hints, SOCKET_LIMITS);
          const args = family === 'arity' ? rng.pick<unknown[]>([[], [valid, valid], [valid, 'not an ack'], [undefined, valid]]) : [value];
          const bytes = Buffer.byteLength(JSON.stringify([event, ...args]) ?? '') + 16;
          const overLimit = bytes > SOCKET_PAYLOAD_LIMIT;
          let outcome: string;
          try {
            const ack = (await (socket.timeout(options.timeoutMs) as unknown as { emitWithAck(...a: unknown[]): Promise<unknown> }).emitWithAck(event, ...args)) as {
              ok?: unknown;
              error?: { code?: unknown };
            };
            if (ack?.ok === true) outcome = 'ok';
            else if (ack?.ok === false && isErrorCode(ack.error?.code)) outcome = String(ack.error!.code);
            else outcome = 'malformed ack';
            if (outcome === 'internal' || outcome === 'malformed ack') tally.find({ target, family, index: i, what: `ack ${excerpt(ack)}`, payload: args });
          } catch (err) {
            if (dropped && overLimit) outcome = 'disconnected: over the 64 KB limit';
            else {
              outcome = dropped ? `disconnected (${dropped})` : 'no ack';
              tally.find({ target, family, index: i, what: `${outcome}: ${(err as Error).message}`, payload: args });
            }
          }
          tally.count(target, family, outcome);
          if (dropped) {
            socket.close();
            dropped = undefined;
            socket = await connectSocket(url, user.accessToken);
            watch(socket);
          }
        }
      }
      // Names no handler knows are ignored, and the socket keeps serving.
      for (const name of ['__proto__', 'constructor', 'hasOwnProperty', 'toString', '', 'x'.repeat(2000), 'message:send ', '\ud800']) {
        (socket as unknown as { emit(event: string, payload: unknown): void }).emit(name, {});
        const hello = await emitOk(socket, 'session:hello', {}).then(
          () => 'ignored',
          (err: Error) => `session:hello failed after it: ${err.message}`,
        );
        tally.count('socket (unknown event names)', 'type', hello);
        if (hello !== 'ignored') tally.find({ target: 'socket (unknown event names)', family: 'type', index: 0, what: hello, payload: name });
      }
      socket.close();
    }),
  );
}

/** Handshakes with malformed credentials: each is refused with a documented code, none is let in. */
export async function fuzzHandshakes(url: string, options: FuzzOptions, tally: Tally): Promise<void> {
  const rng = createRng(options.seed).fork('handshake');
  const target = 'socket handshake (auth.token)';
  for (let i = 0; i < options.handshakes; i++) {
    const family = rng.pick(['type', 'number', 'string', 'unicode', 'proto', 'deep', 'array'] as const);
    const token = malformed(rng, family, { ...SOCKET_LIMITS, maxChars: 8000, maxDepth: 1000, maxItems: 1000 });
    const socket = connect(url, { path: '/socket.io', transports: ['websocket'], auth: { token }, reconnection: false, forceNew: true, timeout: options.timeoutMs });
    const outcome = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('no answer'), options.timeoutMs);
      socket.once('connect', () => (clearTimeout(timer), resolve('connected')));
      socket.once('connect_error', (err: Error & { data?: { code?: unknown } }) => {
        clearTimeout(timer);
        resolve(isErrorCode(err.data?.code) ? `refused ${String(err.data!.code)}` : `connect_error ${err.message}`);
      });
    });
    socket.close();
    tally.count(target, family, outcome);
    if (!outcome.startsWith('refused')) tally.find({ target, family, index: i, what: outcome, payload: token });
  }
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Path segments as a client could send them already encoded, malformed percent-escapes among them. */
const RAW_SEGMENTS = ['%', '%ZZ', '%E0%A4%A', '%ED%A0%80', '%C0%AE%C0%AE', '..', '%2e%2e', '%2F', '%00', '%25', '%FF%FE', ';', '%3B%3D', '~'];
const RAW_BODIES = ['{"a":', '{"a":1,}', '[', 'NaN', '{"__proto__":', '\ufeff{}', '{"a":1}{"b":2}', 'nul\u0000', '"just a string"', '-', `${'['.repeat(100_000)}${']'.repeat(100_000)}`];
const CONTENT_TYPES = ['text/plain', 'application/json; charset=latin1', 'application/x-www-form-urlencoded', 'multipart/form-data', 'application/merge-patch+json', 'application/json, text/html', ''];

/** Percent-encodes the UTF-8 bytes of `value` (a lone surrogate becomes U+FFFD, as a browser would send it). */
const encodeBytes = (value: string) => [...Buffer.from(value, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
const asText = (value: unknown): string => (typeof value === 'string' ? value : needsRawJson(value) ? toJsonText(value) : (JSON.stringify(value) ?? 'undefined'));

interface RestCase {
  family: string;
  method: string;
  path: string;
  query: string;
  contentType?: string;
  body?: string;
  caller: 'host' | 'learner' | 'nobody' | 'forged';
}

function restCase(rng: Rng, op: RestOperation, world: FuzzWorld, resolve: (s?: object) => object | undefined): RestCase {
  const hints = { ids: world.ids };
  const params = Object.fromEntries(op.pathParams.map((p) => [p, encodeURIComponent(worldIdFor(world, op.template, p))]));
  const query: [string, string][] = [];
  for (const q of op.query) {
    if (!rng.chance(0.6)) continue;
    const value = sampleValid(q.schema, resolve, world, rng, q.name);
    if (value !== undefined) query.push([q.name, String(value)]);
  }
  const validBody = op.body ? sampleValid(op.body, resolve, world, rng) : undefined;
  let body: string | undefined = BODY_METHODS.has(op.method) && validBody !== undefined ? JSON.stringify(validBody) : undefined;
  let contentType: string | undefined = body === undefined ? undefined : 'application/json';
  let caller: RestCase['caller'] = op.auth === 'none' ? 'nobody' : rng.chance(0.85) ? 'host' : 'learner';
  let family: string;

  const where = rng.next();
  if (op.auth !== 'none' && where < 0.06) {
    family = 'unauthenticated';
    caller = rng.pick(['nobody', 'forged'] as const);
  } else if (BODY_METHODS.has(op.method) && where < 0.14) {
    if (rng.chance(0.5)) {
      family = 'json-syntax';
      body = rng.pick(RAW_BODIES);
      contentType = 'application/json';
    } else {
      family = 'content-type';
      body ??= '{}';
      contentType = rng.pick(CONTENT_TYPES);
    }
  } else if (op.pathParams.length && where < 0.3) {
    const param = rng.pick(op.pathParams);
    const generated = fuzzPayload(rng, decodeURIComponent(params[param]!), hints, { ...REST_LIMITS, maxChars: 3000, maxDepth: 50, maxItems: 50 });
    family = generated.family;
    params[param] = rng.chance(0.25) ? rng.pick(RAW_SEGMENTS) : encodeBytes(asText(generated.value)).slice(0, 6000);
  } else if ((op.query.length && where < 0.45) || (!BODY_METHODS.has(op.method) && where < 0.5)) {
    const name = op.query.length && rng.chance(0.85) ? rng.pick(op.query).name : rng.pick(['__proto__', 'constructor', 'unexpected', 'limit[]']);
    const current = query.find(([n]) => n === name)?.[1] ?? 'x';
    const generated = fuzzPayload(rng, current, hints, { ...REST_LIMITS, maxChars: 3000, maxDepth: 50, maxItems: 20 });
    family = generated.family;
    const values = Array.isArray(generated.value) && rng.chance(0.5) ? generated.value.slice(0, 20) : [generated.value];
    for (const v of values) query.push([name, asText(v)]);
  } else if (BODY_METHODS.has(op.method)) {
    const generated = fuzzPayload(rng, validBody ?? {}, hints, REST_LIMITS);
    family = generated.family;
    body = asText(generated.value);
    contentType = 'application/json';
  } else {
    family = 'mutation';
    for (const p of op.pathParams) params[p] = encodeURIComponent(rng.pick(world.ids));
  }
  const path = `${op.template.replace(/\{([^}]+)\}/g, (_m, name: string) => params[name]!)}`;
  const queryText = query.map(([n, v]) => (rng.chance(0.1) ? `${n}=${rng.pick(RAW_SEGMENTS)}` : `${encodeBytes(n)}=${encodeBytes(v).slice(0, 6000)}`)).join('&');
  return { family, method: op.method, path, query: queryText, contentType, body, caller };
}

/** Every operation of the OpenAPI document, `perOperation` cases each, `concurrency` at a time. */
export async function fuzzRest(url: string, world: FuzzWorld, options: FuzzOptions, tally: Tally): Promise<number> {
  const { operations, resolve } = await loadOperations(url);
  const jobs = operations.flatMap((op) => {
    const rng = createRng(options.seed).fork(`rest ${op.method} ${op.template}`);
    return Array.from({ length: options.perOperation }, (_, index) => ({ op, index, rng }));
  });
  // The cases of one operation come from one generator, so they are built in order before anything is sent.
  const cases = jobs.map(({ op, index, rng }) => ({ op, index, c: restCase(rng, op, world, resolve as (s?: object) => object | undefined) }));
  const sessions = new Sessions(url, world);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const { op, index, c } = cases[next++]!;
      const target = `${op.method} ${op.template}`;
      const outcome = await send(url, c, sessions, options.timeoutMs);
      tally.count(target, c.family, outcome.label);
      if (outcome.finding) tally.find({ target, family: c.family, index, what: outcome.label, payload: `${c.method} ${c.path}?${c.query} ${c.body ?? ''}` });
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  return operations.length;
}

/** Keeps the fuzzing users signed in: a fuzzed logout or session revocation ends a session, so sign in again. */
class Sessions {
  private readonly url: string;
  private readonly world: FuzzWorld;
  constructor(url: string, world: FuzzWorld) {
    this.url = url;
    this.world = world;
  }
  token(caller: RestCase['caller']): string | undefined {
    if (caller === 'host') return this.world.host.accessToken;
    if (caller === 'learner') return this.world.learner.accessToken;
    if (caller === 'forged') return `${this.world.host.accessToken.slice(0, -4)}AAAA`;
    return undefined;
  }
  async renew(caller: RestCase['caller']) {
    const user: TestUser = caller === 'host' ? this.world.host : this.world.learner;
    const res = await api<AuthResult>(this.url, 'POST', '/api/v1/auth/login', { body: { email: user.user.email, password: user.password } });
    if (res.status === 200) user.accessToken = res.body.accessToken;
  }
}

async function send(url: string, c: RestCase, sessions: Sessions, timeoutMs: number): Promise<{ label: string; finding: boolean }> {
  const headers: Record<string, string> = {};
  const token = sessions.token(c.caller);
  if (token) headers.authorization = `Bearer ${token}`;
  if (c.contentType) headers['content-type'] = c.contentType;
  let res: Response;
  let text: string;
  try {
    res = await fetch(`${url}${c.path}${c.query ? `?${c.query}` : ''}`, {
      method: c.method,
      headers,
      body: BODY_METHODS.has(c.method) ? c.body : undefined,
      signal: AbortSignal.timeout(timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    const e = err as Error & { cause?: Error };
    return { label: e.name === 'TimeoutError' ? 'no answer' : `connection error: ${e.cause?.message ?? e.message}`, finding: true };
  }
  if ((c.caller === 'host' || c.caller === 'learner') && res.status === 401) await sessions.renew(c.caller);
  // Node's HTTP parser answers these itself, without a body, before the app sees the request.
  if (res.status === 431 || res.status === 414) return { label: String(res.status), finding: false };
  if (res.status < 400) return { label: String(res.status), finding: false };
  let code: unknown;
  try {
    code = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error?.code;
  } catch {
    code = undefined;
  }
  const label = `${res.status} ${isErrorCode(code) ? String(code) : 'without an error body'}`;
  return { label, finding: res.status >= 500 || !isErrorCode(code) };
}

/** After the run: a new client registers, signs in, sends a chat message and reads it back. Throws otherwise. */
export async function checkNormalClient(url: string): Promise<void> {
  const live = await api(url, 'GET', '/health/live');
  if (live.status !== 200) throw new Error(`/health/live answered ${live.status}`);
  const registered = await registerUser(url);
  const user = { ...(await ok(call<AuthResult>(url, 'POST', '/auth/login', null, { email: registered.user.email, password: registered.password }))), password: registered.password };
  const community = await createCommunityAs(url, user);
  const channel = await createChannelAs(url, user, community.id);
  const socket = await connectSocket(url, user.accessToken);
  try {
    await emitOk(socket, 'channel:join', { channelId: channel.id });
    const body = `still serving ${UNICODE_EDGES[9]}`;
    const sent = await emitOk(socket, 'message:send', { channelId: channel.id, clientId: 'after-fuzz-0001', body });
    const page = await ok(call<MessagePage>(url, 'GET', `/channels/${channel.id}/messages`, user));
    if (!page.data.some((m) => m.id === sent.id && m.body === body)) throw new Error('the message sent after the fuzz run is not in the history');
  } finally {
    socket.close();
  }
}
