import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { rooms, type SessionRevokedPayload } from '../contracts/realtime.ts';
import { freshTestDatabase } from '../test/db.ts';
import {
  api,
  call,
  connectSocket,
  eventually,
  nextEvent,
  registerUser,
  type ClientSocket,
  type EventPayload,
  type ServerEvent,
} from '../test/factories.ts';
import { startNode, type RunningNode } from '../test/nodes.ts';
import { freePort } from '../test/ports.ts';

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;

/**
 * A node whose Redis is down when it starts: it must start (and say it is not ready), survive broadcasts meanwhile,
 * and join the cluster once Redis comes up — rooms and revocations included. Needs its own redis-server to control.
 */
describe.skipIf(!hasRedisServer)('Redis outage at start (skipped without a redis-server binary on PATH)', () => {
  const nodes: RunningNode[] = [];
  const sockets: ClientSocket[] = [];
  let redis: ChildProcess | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);

  const databases: Awaited<ReturnType<typeof freshTestDatabase>>[] = [];

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    for (const socket of sockets) socket.close();
    await Promise.all(nodes.map((n) => n.close()));
    redis?.kill('SIGTERM');
    for (const database of databases) await database.drop();
  });


  it('starts without Redis, then serves cluster broadcasts and revocations once Redis is back', async () => {
    const port = await freePort();
    const redisUrl = `redis://127.0.0.1:${port}`;
    const clusterId = randomBytes(6).toString('hex');

    // A database of its own, so nothing else touches the sessions this test revokes.
    const database = await freshTestDatabase('outage');
    databases.push(database);
    const databaseUrl = database.url;
    const early = await startNode({ databaseUrl, env: { REDIS_URL: redisUrl }, clusterId });
    nodes.push(early);
    // Broadcasting while Redis is down must neither throw nor leave a rejected promise behind.
    const ghost: SessionRevokedPayload = { sessionId: crypto.randomUUID(), reason: 'revoked' };
    expect(() => early.node.deps.publisher.toRoom(rooms.user(crypto.randomUUID()), 'session:revoked', ghost)).not.toThrow();
    // The readiness check fails once ioredis gives up on the queued PING, by which time the adapter's PUBLISH
    // (same retry limit) has failed too.
    expect((await api(early.url, 'GET', '/health/ready')).status).toBe(503);
    await new Promise((r) => setTimeout(r, 200));
    expect(unhandled, 'no unhandled rejections while Redis is down').toEqual([]);

    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    await eventually(async () => (await api(early.url, 'GET', '/health/ready')).status === 200, 10_000, 'node to become ready');

    const late = await startNode({ databaseUrl, env: { REDIS_URL: redisUrl }, clusterId });
    nodes.push(late);
    const user = await registerUser(late.url);
    const socket = await connectSocket(early.url, user.accessToken);
    sockets.push(socket);

    // Room broadcast from the other node reaches the node that started without Redis. Its subscription may still be
    // on the way right after reconnecting, so publish until one arrives.
    const payload: SessionRevokedPayload = { sessionId: crypto.randomUUID(), reason: 'revoked' };
    const received = nextEvent(socket, 'session:revoked', 5000);
    const publishing = setInterval(() => late.node.deps.publisher.toRoom(rooms.user(user.user.id), 'session:revoked', payload), 50);
    try {
      expect(await received).toEqual(payload);
    } finally {
      clearInterval(publishing);
    }

    // So does a revocation through the session bus.
    const revoked = eventMatching(socket, 'session:revoked', (p) => p.sessionId === user.sessionId, 3000);
    const disconnected = nextEvent(socket, 'disconnect', 3000);
    expect((await call(late, 'POST', '/auth/logout', user)).status).toBe(204);
    expect(await revoked).toEqual({ sessionId: user.sessionId, reason: 'logout' });
    expect(await disconnected).toBe('io server disconnect');
    expect(unhandled).toEqual([]);
  });
});

/** The first `event` whose payload passes `accept` (earlier, unrelated deliveries are skipped). */
function eventMatching<E extends ServerEvent>(
  socket: ClientSocket,
  event: E,
  accept: (payload: EventPayload<E>) => boolean,
  timeoutMs: number,
): Promise<EventPayload<E>> {
  type T = EventPayload<E>;
  const target = socket as unknown as { on(e: string, cb: (p: T) => void): void; off(e: string, cb: (p: T) => void): void };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      target.off(event, listener);
      reject(new Error(`no matching ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (payload: T) => {
      if (!accept(payload)) return;
      clearTimeout(timer);
      target.off(event, listener);
      resolve(payload);
    };
    target.on(event, listener);
  });
}
