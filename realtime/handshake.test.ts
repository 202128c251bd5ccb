import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectErrorData } from '../contracts/realtime.ts';
import { api, call, connectSocket, emitAck, emitRaw, registerUser, type ClientSocket } from '../test/factories.ts';
import { startNode, type RunningNode } from '../test/nodes.ts';
import { MAX_SOCKET_PAYLOAD_BYTES } from './server.ts';
import { withTimeout } from '../domain/shared/time.ts';

const ALLOWED_ORIGIN = 'http://localhost:3000';

let node: RunningNode;
const opened: ClientSocket[] = [];

beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => {
  for (const socket of opened) socket.close();
  await node?.close();
});

async function open(url: string, token: string | undefined, options: { origin?: string } = {}) {
  const socket = await connectSocket(url, token, options);
  opened.push(socket);
  return socket;
}

/** Connects and expects the handshake to be refused; resolves with the connect_error. */
async function refused(promise: Promise<ClientSocket>): Promise<Error & { data?: ConnectErrorData }> {
  const outcome = await promise.then(
    (socket) => {
      opened.push(socket);
      return undefined;
    },
    (err: Error & { data?: ConnectErrorData }) => err,
  );
  if (!outcome) throw new Error('the handshake was accepted but should have been refused');
  return outcome;
}

describe('socket handshake authentication', () => {
  it('refuses a connection without a token', async () => {
    const err = await refused(connectSocket(node.url, undefined));
    expect(err.data).toMatchObject({ code: 'unauthenticated' });
  });

  it('refuses an empty or garbage token', async () => {
    for (const token of ['', 'garbage', 'eyJhbGciOiJIUzI1NiJ9.e30.AAAA', 'x'.repeat(5000)]) {
      const err = await refused(connectSocket(node.url, token));
      expect(err.data, `token ${token.slice(0, 20)}`).toMatchObject({ code: 'unauthenticated' });
    }
  });

  it('refuses the access token of a session that has logged out', async () => {
    const user = await registerUser(node.url);
    const out = await call(node, 'POST', '/auth/logout', user);
    expect(out.status).toBe(204);
    const err = await refused(connectSocket(node.url, user.accessToken));
    expect(err.data).toMatchObject({ code: 'unauthenticated' });
  });

  it('does not accept a token in the query string (it would end up in access logs)', async () => {
    const user = await registerUser(node.url);
    const socket: ClientSocket = connect(node.url, {
      path: '/socket.io',
      transports: ['websocket'],
      query: { token: user.accessToken },
      reconnection: false,
      forceNew: true,
    });
    const err = await refused(
      new Promise((resolve, reject) => {
        socket.once('connect', () => resolve(socket));
        socket.once('connect_error', (e) => {
          socket.close();
          reject(e);
        });
      }),
    );
    expect(err.data).toMatchObject({ code: 'unauthenticated' });
  });

  it('connects with a valid token from the allowed origin and from a client that sends no Origin', async () => {
    const user = await registerUser(node.url);
    const browser = await open(node.url, user.accessToken, { origin: ALLOWED_ORIGIN });
    expect(browser.connected).toBe(true);
    // Node's WebSocket client sends no Origin header: a non-browser client, still authenticated by its token.
    const cli = await open(node.url, user.accessToken);
    expect(cli.connected).toBe(true);
  });
});

describe('socket origin check', () => {
  it('refuses a WebSocket upgrade from a disallowed Origin even with a valid token', async () => {
    const user = await registerUser(node.url);
    const before = await openSocketGauge();
    const err = await refused(connectSocket(node.url, user.accessToken, { origin: 'https://evil.example' }));
    // Refused at the transport, before the auth middleware could run: no Socket.IO error data.
    expect(err.data).toBeUndefined();
    expect(await openSocketGauge()).toBe(before);
  });

  it('answers 403 to an HTTP long-polling handshake from a disallowed Origin', async () => {
    const bad = await fetch(`${node.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: 'https://evil.example' } });
    expect(bad.status).toBe(403);
    expect(bad.headers.get('access-control-allow-origin')).toBeNull();
    await bad.text();
    const good = await fetch(`${node.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin: ALLOWED_ORIGIN } });
    expect(good.status).toBe(200);
    expect(good.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    await good.text();
  });
});

describe('session:hello', () => {
  it('acks {ok:true} with the user and session of the token', async () => {
    const user = await registerUser(node.url);
    const socket = await open(node.url, user.accessToken);
    const ack = await emitAck(socket, 'session:hello', {}, 3000);
    expect(ack).toMatchObject({ ok: true, data: { userId: user.user.id, sessionId: user.sessionId } });
    if (ack.ok) expect(Date.parse(ack.data.serverTime)).not.toBeNaN();
  });

  it('acks invalid_input for a payload the schema refuses, and keeps the socket usable', async () => {
    const user = await registerUser(node.url);
    const socket = await open(node.url, user.accessToken);
    // Past the typed event map on purpose: a real client can send anything.
    for (const payload of [{ extra: 1 }, 'a string', 42, null, [1, 2]]) {
      const ack = await emitRaw(socket, 'session:hello', payload, 3000);
      expect(ack, `payload ${JSON.stringify(payload)}`).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    }
    const fine = await emitAck(socket, 'session:hello', {}, 3000);
    expect(fine.ok).toBe(true);
  });

  it('disconnects a socket that sends more than 64 KB, and the node keeps serving others', async () => {
    const user = await registerUser(node.url);
    const bystander = await open(node.url, user.accessToken);
    const offender = await open(node.url, user.accessToken);
    const disconnected = new Promise<string>((resolve) => offender.once('disconnect', resolve));
    const untyped = offender as unknown as { emit(event: string, payload: unknown, ack: () => void): void };
    untyped.emit('session:hello', { blob: 'x'.repeat(MAX_SOCKET_PAYLOAD_BYTES + 1024) }, () => {});
    expect(await withTimeout(disconnected, 3000)).toBe('transport close');

    const ack = await emitAck(bystander, 'session:hello', {}, 3000);
    expect(ack.ok).toBe(true);
    const fresh = await open(node.url, user.accessToken);
    expect((await emitAck(fresh, 'session:hello', {}, 3000)).ok).toBe(true);
    expect((await api(node.url, 'GET', '/health/live')).status).toBe(200);
  });
});

describe('socket event rate limit', () => {
  it('acks rate_limited once RATE_LIMIT_EVENTS_PER_10S is spent', async () => {
    const limited = await startNode({ env: { RATE_LIMIT_EVENTS_PER_10S: '3' } });
    try {
      const user = await registerUser(limited.url);
      const socket = await open(limited.url, user.accessToken);
      const acks = [];
      for (let i = 0; i < 4; i++) acks.push(await emitAck(socket, 'session:hello', {}, 3000));
      expect(acks.slice(0, 3).map((a) => a.ok)).toEqual([true, true, true]);
      expect(acks[3]).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
      if (!acks[3]!.ok) expect(acks[3]!.error.retryAfter).toBeGreaterThan(0);
      // The budget is per user: someone else is not affected.
      const other = await registerUser(limited.url);
      const otherSocket = await open(limited.url, other.accessToken);
      expect((await emitAck(otherSocket, 'session:hello', {}, 3000)).ok).toBe(true);
    } finally {
      await limited.close();
    }
  });
});

async function openSocketGauge(): Promise<number> {
  const res = await fetch(`${node.url}/metrics`);
  const match = /^edulure_socket_connections_open (\d+)$/m.exec(await res.text());
  if (!match) throw new Error('edulure_socket_connections_open missing from /metrics');
  return Number(match[1]);
}
