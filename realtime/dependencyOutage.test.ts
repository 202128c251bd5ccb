import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AckResult, ErrorBody } from '../contracts/errors.ts';
import { migrateWithLock, openOrm, startEmbeddedPostgres, type EmbeddedPostgres } from '../orm/database.ts';
import { seedCommunity } from '../test/communities.ts';
import { api, call, connectSocket, emitAck, emitOk, eventually, nextEvent, registerUser, type ClientSocket, type TestUser } from '../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../test/nodes.ts';
import { freePort } from '../test/ports.ts';

const hasRedisServer = spawnSync('redis-server', ['--version']).status === 0;

/** Low, so the bound is visible; every answer during an outage must come within it (plus a generous margin). */
const TIMEOUT_MS = 500;
const ANSWER_BOUND_MS = TIMEOUT_MS + 1500;

/**
 * Two nodes on a Redis and a PostgreSQL of this test's own (never the shared ones), each stopped and started again:
 * every socket event and REST request answers within DEPENDENCY_TIMEOUT_MS, with `unavailable` and retryAfter when it
 * cannot be served (never `internal`, never silence); what degrades keeps working; nothing refused is stored later;
 * both nodes recover without a restart.
 */
describe.skipIf(!hasRedisServer)('dependency outages (skipped without a redis-server binary on PATH)', () => {
  let redisPort: number;
  let redis: ChildProcess | undefined;
  let pgPort: number;
  let pgDir: string;
  let pg: EmbeddedPostgres | undefined;
  let databaseUrl: string;
  const nodes: RunningNode[] = [];
  const sockets: ClientSocket[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  let a: RunningNode;
  let b: RunningNode;
  let alice: TestUser;
  let bob: TestUser;
  let channelId: string;
  let aliceSocket: ClientSocket;
  let bobSocket: ClientSocket;

  const startRedis = async () => {
    redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: 'ignore',
    });
    await waitForPort(redisPort);
  };
  const startPostgres = async () => {
    pg = await startEmbeddedPostgres({ dataDir: pgDir, port: pgPort, database: 'edulure' });
    return pg.url;
  };

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    redisPort = await freePort();
    await startRedis();
    pgPort = await freePort();
    pgDir = await mkdtemp(path.join(os.tmpdir(), 'edulure-outage-pg-'));
    // When tests run as root, PostgreSQL runs as the `postgres` user, which must be able to enter this directory.
    await chmod(pgDir, 0o755);
    databaseUrl = await startPostgres();
    const orm = await openOrm(databaseUrl, { poolMax: 2 });
    await migrateWithLock(orm, databaseUrl);
    await orm.close(true);

    const clusterId = randomBytes(6).toString('hex');
    const env = {
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      DEPENDENCY_TIMEOUT_MS: String(TIMEOUT_MS),
      RATE_LIMIT_MESSAGES_PER_10S: '1000',
      RATE_LIMIT_EVENTS_PER_10S: '10000',
    };
    [a, b] = await Promise.all([startNode({ databaseUrl, env, clusterId }), startNode({ databaseUrl, env, clusterId })]);
    nodes.push(a, b);
    alice = await registerUser(a.url, { displayName: 'Alice Outage' });
    bob = await registerUser(b.url, { displayName: 'Bob Outage' });
    const community = await seedCommunity(a, {
      members: [
        { userId: alice.user.id, role: 'owner' },
        { userId: bob.user.id, role: 'member' },
      ],
      channels: [{ name: 'general' }],
    });
    channelId = community.channels.general;
    aliceSocket = await connectSocket(a.url, alice.accessToken);
    bobSocket = await connectSocket(b.url, bob.accessToken);
    sockets.push(aliceSocket, bobSocket);
    await emitOk(aliceSocket, 'channel:join', { channelId, afterSeq: 0 });
    await emitOk(bobSocket, 'channel:join', { channelId, afterSeq: 0 });
  }, 120_000);

  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await Promise.all(nodes.map((n) => n.close()));
    redis?.kill('SIGTERM');
    await pg?.stop().catch(() => {});
    if (pgDir) await rm(pgDir, { recursive: true, force: true });
    process.off('unhandledRejection', onUnhandled);
  }, 60_000);

  /** An ack, and how long it took; a missing ack fails the test (the bound is the point). */
  async function timedAck(socket: ClientSocket, event: Parameters<typeof emitAck>[1], payload: unknown) {
    const started = Date.now();
    const ack = (await emitAck(socket, event, payload as never, ANSWER_BOUND_MS)) as AckResult<unknown>;
    return { ack, ms: Date.now() - started };
  }

  function expectUnavailable(ack: AckResult<unknown>): ErrorBody {
    expect(ack.ok, JSON.stringify(ack)).toBe(false);
    const error = (ack as { ok: false; error: ErrorBody }).error;
    expect(error.code).toBe('unavailable');
    expect(error.retryAfter).toBeGreaterThan(0);
    return error;
  }

  /**
   * Served, or refused `unavailable`: the only two answers allowed while a dependency is away. Presence refuses with
   * its own `unavailable` (domain/presence), which carries no retryAfter yet.
   */
  function expectServedOrUnavailable(ack: AckResult<unknown>, options: { retryAfter: boolean }) {
    if (ack.ok) return;
    if (options.retryAfter) expectUnavailable(ack);
    else expect(ack.error.code, JSON.stringify(ack)).toBe('unavailable');
  }

  async function metric(node: RunningNode, line: RegExp): Promise<number> {
    const text = (await api<string>(node.url, 'GET', '/metrics')).body as unknown as string;
    const found = String(text)
      .split('\n')
      .find((l) => line.test(l));
    return found ? Number(found.split(' ').pop()) : 0;
  }

  it('Redis frozen: a command without a reply is given up after the timeout, and the send falls back', async () => {
    redis!.kill('SIGSTOP');
    try {
      const send = await timedAck(aliceSocket, 'message:send', { channelId, clientId: `redis-frozen-${alice.user.id}`, body: 'while redis is frozen' });
      expect(send.ms).toBeLessThan(ANSWER_BOUND_MS);
      expect(send.ack.ok, JSON.stringify(send.ack)).toBe(true);
      const started = Date.now();
      const history = await call(b, 'GET', `/channels/${channelId}/messages?afterSeq=0&limit=50`, bob);
      expect(Date.now() - started).toBeLessThan(ANSWER_BOUND_MS);
      expect(history.status).toBe(200);
    } finally {
      redis!.kill('SIGCONT');
    }
    for (const node of nodes) await eventually(async () => (await api(node.url, 'GET', '/health/ready')).status === 200, 10_000, 'readiness');
  }, 30_000);

  it('Redis away: rate limits and revocations fall back, nothing hangs, and both nodes recover without a restart', async () => {
    redis!.kill('SIGKILL');
    await new Promise<void>((resolve) => redis!.once('exit', () => resolve()));
    for (const node of nodes) {
      await eventually(async () => (await api(node.url, 'GET', '/health/ready')).status === 503, 5000, 'readiness to fail');
      const ready = await api<{ checks: Record<string, string> }>(node.url, 'GET', '/health/ready');
      expect(ready.body.checks.redis).toMatch(/^failing/);
    }

    // A message needs PostgreSQL only: it is stored (its budget counted in this node's memory meanwhile).
    const send = await timedAck(aliceSocket, 'message:send', { channelId, clientId: `redis-down-${alice.user.id}`, body: 'while redis is away' });
    expect(send.ms).toBeLessThan(ANSWER_BOUND_MS);
    expect(send.ack.ok, JSON.stringify(send.ack)).toBe(true);
    const join = await timedAck(bobSocket, 'channel:join', { channelId, afterSeq: 0 });
    expect(join.ack.ok, JSON.stringify(join.ack)).toBe(true);
    // Presence and the rest: served or refused at once, never `internal`, never silence.
    for (const [event, payload] of [
      ['presence:watch', { add: [bob.user.id], remove: [] }],
      ['presence:set', { status: 'away' }],
      ['typing:start', { channelId }],
    ] as const) {
      const { ack, ms } = await timedAck(aliceSocket, event, payload);
      expect(ms, event).toBeLessThan(ANSWER_BOUND_MS);
      expectServedOrUnavailable(ack, { retryAfter: !event.startsWith('presence:') });
    }
    // REST: the session check reads the database instead of Redis.
    const started = Date.now();
    const history = await call<{ data: { clientId: string }[] }>(b, 'GET', `/channels/${channelId}/messages?afterSeq=0&limit=50`, bob);
    expect(Date.now() - started).toBeLessThan(ANSWER_BOUND_MS);
    expect(history.status).toBe(200);
    expect(history.body.data.map((m) => m.clientId)).toContain(`redis-down-${alice.user.id}`);
    expect(await metric(a, /^edulure_dependency_fallbacks_total\{dependency="redis",feature="rate_limits"\}/)).toBeGreaterThan(0);
    expect(await metric(b, /^edulure_dependency_fallbacks_total\{dependency="redis",feature="revocations"\}/)).toBeGreaterThan(0);

    await startRedis();
    for (const node of nodes) await eventually(async () => (await api(node.url, 'GET', '/health/ready')).status === 200, 10_000, 'readiness');
    // Cross-node delivery again: the subscriptions come back by themselves. Sends until one is heard on the other node.
    await eventually(
      async () => {
        const heard = nextEvent(bobSocket, 'message:created', 400).then(() => true, () => false);
        await emitOk(aliceSocket, 'message:send', { channelId, clientId: `redis-back-${randomBytes(4).toString('hex')}`, body: 'redis is back' });
        return heard;
      },
      10_000,
      'a message delivered across nodes',
    );
    expect(unhandled).toEqual([]);
  }, 60_000);

  it('PostgreSQL away: answers `unavailable` with retryAfter within the timeout, stores nothing it refused, recovers', async () => {
    await pg!.stop();
    pg = undefined;

    const refusedClientIds: string[] = [];
    const sends = await Promise.all(
      Array.from({ length: 6 }, (_, i) => {
        const clientId = `pg-down-${i}-${randomBytes(4).toString('hex')}`;
        const socket = i % 2 ? bobSocket : aliceSocket;
        return timedAck(socket, 'message:send', { channelId, clientId, body: `while postgres is away ${i}` }).then((r) => ({ ...r, clientId }));
      }),
    );
    for (const { ack, ms, clientId } of sends) {
      expect(ms).toBeLessThan(ANSWER_BOUND_MS);
      expect(expectUnavailable(ack).details).toEqual({ dependency: 'postgres' });
      refusedClientIds.push(clientId);
    }
    for (const [event, payload] of [
      ['channel:join', { channelId, afterSeq: 0 }],
      ['presence:watch', { add: [bob.user.id], remove: [] }],
    ] as const) {
      const { ack, ms } = await timedAck(aliceSocket, event, payload);
      expect(ms, event).toBeLessThan(ANSWER_BOUND_MS);
      expectServedOrUnavailable(ack, { retryAfter: !event.startsWith('presence:') });
    }
    const started = Date.now();
    const history = await call<{ error: ErrorBody }>(a, 'GET', `/channels/${channelId}/messages?afterSeq=0&limit=50`, alice);
    expect(Date.now() - started).toBeLessThan(ANSWER_BOUND_MS);
    expect(history.status).toBe(503);
    expect(history.body.error.code).toBe('unavailable');
    expect(history.headers.get('retry-after')).toBe(String(history.body.error.retryAfter));
    const ready = await api<{ checks: Record<string, string> }>(a.url, 'GET', '/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.checks.database).toMatch(/^failing/);
    expect(await metric(a, /^edulure_dependency_failures_total\{dependency="postgres"\}/)).toBeGreaterThan(0);

    databaseUrl = await startPostgres();
    for (const node of nodes) await eventually(async () => (await api(node.url, 'GET', '/health/ready')).status === 200, 15_000, 'readiness');
    // Both nodes serve again without a restart.
    const after = await emitOk(aliceSocket, 'message:send', { channelId, clientId: `pg-back-a-${alice.user.id}`, body: 'postgres is back' });
    await emitOk(bobSocket, 'message:send', { channelId, clientId: `pg-back-b-${bob.user.id}`, body: 'postgres is back too' });
    expect(after.channelId).toBe(channelId);
    // Nothing refused shows up later.
    await new Promise((r) => setTimeout(r, TIMEOUT_MS * 2));
    const late = await dbOf(a).selectFrom('messages').select('client_id').where('client_id', 'in', refusedClientIds).execute();
    expect(late).toEqual([]);
    expect(unhandled).toEqual([]);
  }, 90_000);
});

function waitForPort(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listens on ${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}
