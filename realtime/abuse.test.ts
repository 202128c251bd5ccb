import type { Socket as NetSocket } from 'node:net';
import { io as connect } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectErrorData } from '../contracts/realtime.ts';
import { MESSAGE_MAX_LENGTH } from '../contracts/values/chat.ts';
import { seedCommunity } from '../test/communities.ts';
import { collect, connectSocket, emitAck, emitOk, eventually, registerUser, type ClientSocket, type TestUser } from '../test/factories.ts';
import { startNode, type RunningNode } from '../test/nodes.ts';
import { withTimeout } from '../domain/shared/time.ts';
import { addressKey, BUFFER_CHECK_INTERVAL_MS, clientAddressOf, CONNECTIONS_RETRY_AFTER_SECONDS } from './abuse.ts';

const opened: ClientSocket[] = [];
const nodes: RunningNode[] = [];

afterAll(async () => {
  for (const socket of opened) socket.close();
  await Promise.all(nodes.map((n) => n.close()));
});

async function start(env: Record<string, string>): Promise<RunningNode> {
  const node = await startNode({ env });
  nodes.push(node);
  return node;
}

/** A socket as a client behind a trusted proxy opens it: the address is the first hop of X-Forwarded-For. */
function open(node: RunningNode, token: string, forwardedFor?: string): Promise<ClientSocket> {
  const socket: ClientSocket = connect(node.url, {
    path: '/socket.io',
    transports: ['websocket'],
    auth: { token },
    reconnection: false,
    forceNew: true,
    extraHeaders: forwardedFor ? { 'x-forwarded-for': `${forwardedFor}, 10.0.0.1` } : {},
  });
  opened.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

async function refusal(attempt: Promise<ClientSocket>): Promise<ConnectErrorData | undefined> {
  return attempt.then(
    () => {
      throw new Error('the connection was admitted but should have been refused');
    },
    (err: Error & { data?: ConnectErrorData }) => err.data,
  );
}

/** The sum of a metric's samples on the node's /metrics whose labels include `labels` (all of them without). */
async function metric(node: RunningNode, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match?.[1] === name && (match[2] ?? '').includes(labels)) sum += Number(match[3]);
  }
  return sum;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

describe('client address', () => {
  it('is the first hop of X-Forwarded-For only behind a trusted proxy', () => {
    const handshake = { address: '::ffff:127.0.0.1', headers: { 'x-forwarded-for': '203.0.113.9, 10.0.0.1' } };
    expect(clientAddressOf(handshake, true)).toBe('203.0.113.9');
    expect(clientAddressOf(handshake, false)).toBe('::ffff:127.0.0.1');
    expect(clientAddressOf({ address: '10.1.2.3', headers: {} }, true)).toBe('10.1.2.3');
  });

  it('counts IPv4 as is (also mapped into IPv6) and IPv6 by its /64', () => {
    expect(addressKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(addressKey('203.0.113.9')).toBe('203.0.113.9');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
  });
});

describe('connection limits', () => {
  let node: RunningNode;
  beforeAll(async () => {
    node = await start({ SOCKET_CONNECTIONS_PER_USER: '3', SOCKET_CONNECTIONS_PER_IP: '4', TRUST_PROXY: 'true' });
  });

  it('refuses a user past SOCKET_CONNECTIONS_PER_USER with rate_limited and retryAfter, and admits again once one closes', async () => {
    const user = await registerUser(node.url);
    // Each from an address of its own: only the user's limit is in play.
    const sockets = [await open(node, user.accessToken, '198.51.100.1'), await open(node, user.accessToken, '198.51.100.2'), await open(node, user.accessToken, '198.51.100.3')];
    const refused = await refusal(open(node, user.accessToken, '198.51.100.4'));
    expect(refused).toMatchObject({ code: 'rate_limited', retryAfter: CONNECTIONS_RETRY_AFTER_SECONDS });
    expect(refused?.message).toMatch(/too many open connections/);
    expect(await metric(node, 'edulure_abuse_refusals_total', 'limit="connections_per_user"')).toBeGreaterThanOrEqual(1);

    // Someone else is not affected.
    const other = await registerUser(node.url);
    expect((await open(node, other.accessToken, '198.51.100.5')).connected).toBe(true);

    // The place is given back when the connection closes (no leak), whoever closed it.
    const before = await metric(node, 'edulure_socket_connections_open');
    sockets[0]!.close();
    await eventually(async () => (await metric(node, 'edulure_socket_connections_open')) === before - 1, 3000, 'the server to see the close');
    const again = await open(node, user.accessToken, '198.51.100.6');
    expect((await emitAck(again, 'session:hello', {}, 3000)).ok).toBe(true);
    expect(await refusal(open(node, user.accessToken, '198.51.100.7'))).toMatchObject({ code: 'rate_limited' });
  });

  it('refuses an address past SOCKET_CONNECTIONS_PER_IP before checking the token', async () => {
    const users = await Promise.all(Array.from({ length: 5 }, () => registerUser(node.url)));
    const address = '192.0.2.77';
    for (const user of users.slice(0, 4)) await open(node, user.accessToken, address);
    const refused = await refusal(open(node, users[4]!.accessToken, address));
    expect(refused).toMatchObject({ code: 'rate_limited', retryAfter: CONNECTIONS_RETRY_AFTER_SECONDS });
    expect(refused?.message).toMatch(/from your network/);
    // Refused before authentication: a bad token from that address costs no token check either.
    expect(await refusal(open(node, 'not-a-token', address))).toMatchObject({ code: 'rate_limited' });
    // The same user from another address is admitted.
    expect((await open(node, users[4]!.accessToken, '192.0.2.78')).connected).toBe(true);
    expect(await metric(node, 'edulure_abuse_refusals_total', 'limit="connections_per_address"')).toBe(2);
  });

  it('holds no place for a handshake refused later (bad token), so refusals never use the budget up', async () => {
    const address = '192.0.2.90';
    for (let i = 0; i < 6; i++) expect(await refusal(open(node, 'not-a-token', address))).toMatchObject({ code: 'unauthenticated' });
    const user = await registerUser(node.url);
    expect((await open(node, user.accessToken, address)).connected).toBe(true);
  });
});

describe('event flood', () => {
  let node: RunningNode;
  beforeAll(async () => {
    // Default flood guard (burst 200, 20 per second) and per-event budget; the bystander's sends are not limited.
    node = await start({ RATE_LIMIT_MESSAGES_PER_10S: '100000' });
  });

  it("closes a socket sending far past its budget after at most the burst, while another client's sends keep their pace", async () => {
    const flooder = await registerUser(node.url);
    const bystander = await registerUser(node.url);
    const { channels } = await seedCommunity(node, {
      members: [{ userId: bystander.user.id, role: 'owner' }, { userId: flooder.user.id }],
      channels: [{ name: 'general' }],
    });
    const flooding = await connectSocket(node.url, flooder.accessToken);
    opened.push(flooding);
    const sending = await connectSocket(node.url, bystander.accessToken);
    opened.push(sending);
    await emitOk(sending, 'channel:join', { channelId: channels.general, afterSeq: 0 });

    let sent = 0;
    const send = async () => {
      const started = performance.now();
      await emitOk(sending, 'message:send', { channelId: channels.general, clientId: `flood-${bystander.user.id}-${sent++}`, body: 'still here' });
      return performance.now() - started;
    };
    const baseline: number[] = [];
    for (let i = 0; i < 30; i++) baseline.push(await send());

    const handledBefore = await metric(node, 'edulure_socket_events_total', 'event="session:hello"');
    const closed = new Promise<string>((resolve) => flooding.once('disconnect', resolve));
    const floodStarted = performance.now();
    let emitted = 0;
    const flood = (async () => {
      // As fast as a client can: 100 events per turn of the event loop, up to 10,000.
      while (flooding.connected && emitted < 10_000) {
        for (let i = 0; i < 100; i++, emitted++) flooding.emit('session:hello', {}, () => {});
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const during: number[] = [];
    const sendsDuring = (async () => {
      while (during.length < 30) during.push(await send());
    })();
    expect(await withTimeout(closed, 5000)).toBe('transport close');
    const floodMs = performance.now() - floodStarted;
    await flood;
    await sendsDuring;

    const handled = (await metric(node, 'edulure_socket_events_total', 'event="session:hello"')) - handledBefore;
    // The burst, what refilled meanwhile, and the packets of the read in which the budget ran out.
    expect(handled).toBeLessThanOrEqual(200 + Math.ceil((20 * floodMs) / 1000) + 100);
    expect(await metric(node, 'edulure_abuse_disconnects_total', 'reason="event_flood"')).toBe(1);
    // The bystander was served throughout, at a pace comparable with its own baseline (generous: the flooding client
    // runs in this same process).
    expect(quantile(during, 0.5)).toBeLessThan(quantile(baseline, 0.5) * 10 + 100);
    console.info(
      `flood: disconnected after ${handled} handled events (${emitted} emitted) in ${floodMs.toFixed(0)} ms; ` +
        `bystander message:send p50/p99 ${quantile(baseline, 0.5).toFixed(1)}/${quantile(baseline, 0.99).toFixed(1)} ms before, ` +
        `${quantile(during, 0.5).toFixed(1)}/${quantile(during, 0.99).toFixed(1)} ms during and after`,
    );

    // The flooder's new connections on this node wait out a cool-down, told how long.
    const cooling = await refusal(connectSocket(node.url, flooder.accessToken));
    expect(cooling).toMatchObject({ code: 'rate_limited' });
    expect(cooling?.retryAfter).toBeGreaterThan(0);
    expect(cooling?.retryAfter).toBeLessThanOrEqual(30);
    // Another socket of the same user that did not flood is untouched, and other users connect.
    expect((await emitAck(sending, 'session:hello', {}, 3000)).ok).toBe(true);
  });

  it('closes a connection that sends a packet Socket.IO cannot decode, and the node keeps serving others', async () => {
    const user = await registerUser(node.url);
    const bystander = await connectSocket(node.url, user.accessToken);
    opened.push(bystander);
    const offender = await connectSocket(node.url, user.accessToken);
    opened.push(offender);
    const closed = new Promise<string>((resolve) => offender.once('disconnect', resolve));
    // An EVENT packet whose JSON is cut short, written straight onto the engine.
    (offender.io.engine as unknown as { write(data: string): void }).write('42["session:hello",{');
    expect(await withTimeout(closed, 3000)).toBe('transport close');
    expect((await emitAck(bystander, 'session:hello', {}, 3000)).ok).toBe(true);
  });
});

describe('slow consumer', () => {
  const CAP = 256 * 1024;
  let node: RunningNode;
  beforeAll(async () => {
    node = await start({
      SOCKET_MAX_BUFFERED_BYTES: String(CAP),
      RATE_LIMIT_MESSAGES_PER_10S: '1000000',
      RATE_LIMIT_EVENTS_PER_10S: '1000000',
      SOCKET_EVENT_BURST: '100000',
    });
  });

  it('closes a client that stops reading once its queue stays over the cap; the node stops holding for it and others still receive', async () => {
    const [sender, reader, stalled] = [await registerUser(node.url), await registerUser(node.url), await registerUser(node.url)] as [TestUser, TestUser, TestUser];
    const { channels } = await seedCommunity(node, {
      members: [{ userId: sender.user.id, role: 'owner' }, { userId: reader.user.id }, { userId: stalled.user.id }],
      channels: [{ name: 'general' }],
    });
    const sending = await connectSocket(node.url, sender.accessToken);
    const reading = await connectSocket(node.url, reader.accessToken);
    const stalling = await connectSocket(node.url, stalled.accessToken);
    opened.push(sending, reading, stalling);
    for (const socket of [sending, reading, stalling]) await emitOk(socket, 'channel:join', { channelId: channels.general, afterSeq: 0 });
    const received = collect(reading, 'message:created');

    // The client stops reading: its TCP socket is paused, so the kernel's buffers fill and then the node's.
    const tcp = (stalling.io.engine.transport as unknown as { ws: { _socket: NetSocket } }).ws._socket;
    tcp.pause();

    const body = 'x'.repeat(MESSAGE_MAX_LENGTH);
    let stored = 0;
    let peak = 0;
    const started = performance.now();
    let disconnectedAfterMs = 0;
    let storedAtDisconnect = 0;
    while (performance.now() - started < 20_000) {
      await Promise.all(
        Array.from({ length: 50 }, () =>
          emitOk(sending, 'message:send', { channelId: channels.general, clientId: `slow-${sender.user.id}-${stored++}`, body }),
        ),
      );
      peak = Math.max(peak, await metric(node, 'edulure_socket_buffered_bytes', 'stat="max"'));
      if ((await metric(node, 'edulure_abuse_disconnects_total', 'reason="slow_consumer"')) === 1) {
        disconnectedAfterMs = performance.now() - started;
        storedAtDisconnect = stored;
        break;
      }
    }
    expect(storedAtDisconnect).toBeGreaterThan(0);
    expect(peak).toBeGreaterThan(CAP);

    // The node holds nothing more for it while the channel goes on.
    for (let round = 0; round < 4; round++) {
      await Promise.all(
        Array.from({ length: 50 }, () =>
          emitOk(sending, 'message:send', { channelId: channels.general, clientId: `slow-${sender.user.id}-${stored++}`, body }),
        ),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, BUFFER_CHECK_INTERVAL_MS * 2));
    expect(await metric(node, 'edulure_socket_buffered_bytes', 'stat="max"')).toBeLessThan(CAP);
    expect(await metric(node, 'edulure_abuse_disconnects_total', 'reason="slow_consumer"')).toBe(1);
    await eventually(() => received.length === stored, 10_000, 'the reader to receive every message');
    console.info(
      `slow consumer: closed after ${storedAtDisconnect} messages of ${body.length} characters in ${disconnectedAfterMs.toFixed(0)} ms; ` +
        `largest queue seen ${peak} bytes (cap ${CAP})`,
    );

    // Once it reads again it finds the connection gone.
    const gone = new Promise<string>((resolve) => stalling.once('disconnect', resolve));
    tcp.resume();
    expect(await withTimeout(gone, 5000)).toBe('transport close');
  });
});
