import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AuthResult } from '../contracts/auth.ts';
import type { ErrorResponse } from '../contracts/errors.ts';
import { rooms, type ConnectErrorData, type SessionRevokedPayload } from '../contracts/realtime.ts';
import { api, call, connectSocket, emitAck, nextEvent, ok, registerUser, type ClientSocket, type TestUser } from '../test/factories.ts';
import { startCluster, type RunningNode } from '../test/nodes.ts';
import { withTimeout } from '../domain/shared/time.ts';

/** How long a revocation may take to reach a socket on another node, measured from the HTTP response. */
const REVOCATION_BUDGET_MS = 1000;

describe.skipIf(!inject('redisUrl'))(
  'cluster of two nodes over one Redis (skipped when REDIS_URL is unset and no redis-server is on PATH)',
  () => {
    let cluster: Awaited<ReturnType<typeof startCluster>>;
    let nodeA: RunningNode;
    let nodeB: RunningNode;
    const opened: ClientSocket[] = [];

    beforeAll(async () => {
      cluster = await startCluster(2);
      [nodeA, nodeB] = cluster.nodes as [RunningNode, RunningNode];
    });
    afterAll(async () => {
      for (const socket of opened) socket.close();
      await cluster?.close();
    });

    async function open(node: RunningNode, token: string) {
      const socket = await connectSocket(node.url, token);
      opened.push(socket);
      return socket;
    }

    /** Records, in arrival order and with timestamps, the revocation and the disconnect of one socket. */
    function watchRevocation(socket: ClientSocket) {
      const seen: { event: 'session:revoked' | 'disconnect'; at: number; value: unknown }[] = [];
      const done = new Promise<void>((resolve) => {
        socket.on('session:revoked', (payload) => seen.push({ event: 'session:revoked', at: Date.now(), value: payload }));
        socket.on('disconnect', (reason) => {
          seen.push({ event: 'disconnect', at: Date.now(), value: reason });
          resolve();
        });
      });
      return { seen, done };
    }

    async function expectRefused(node: RunningNode, token: string) {
      const outcome = await connectSocket(node.url, token).then(
        (socket) => {
          opened.push(socket);
          return undefined;
        },
        (err: Error & { data?: ConnectErrorData }) => err,
      );
      expect(outcome, `reconnect to ${node.url} should be refused`).toBeInstanceOf(Error);
      expect(outcome!.data).toMatchObject({ code: 'unauthenticated' });
    }

    /** Both nodes answer the same readiness check; proves they really share Redis. */
    it('both nodes are ready with Redis', async () => {
      for (const node of [nodeA, nodeB]) {
        const ready = await api(node.url, 'GET', '/health/ready');
        expect(ready.status).toBe(200);
        expect(ready.body.checks).toMatchObject({ database: 'ok', redis: 'ok' });
      }
    });

    it("delivers an event published through node A to the user's room on node B, and to nobody else", async () => {
      const alice = await registerUser(nodeA.url);
      const bob = await registerUser(nodeA.url);
      const aliceOnB = await open(nodeB, alice.accessToken);
      const bobOnB = await open(nodeB, bob.accessToken);
      let bobGotIt = false;
      bobOnB.on('session:revoked', () => (bobGotIt = true));

      // A harmless payload: it names a session that does not exist, so nothing is actually revoked.
      const payload: SessionRevokedPayload = { sessionId: crypto.randomUUID(), reason: 'revoked' };
      const received = nextEvent(aliceOnB, 'session:revoked', 2000);
      nodeA.node.deps.publisher.toRoom(rooms.user(alice.user.id), 'session:revoked', payload);
      expect(await received).toEqual(payload);

      // Bob is in a different room; a round trip on his socket after Alice's delivery shows nothing was queued for him.
      expect((await emitAck(bobOnB, 'session:hello', {}, 2000)).ok).toBe(true);
      expect(bobGotIt).toBe(false);
      expect(aliceOnB.connected).toBe(true);
    });

    it.each([
      ['POST /auth/logout by session 1', 'logout'],
      ['DELETE /auth/sessions/:id of session 1 by session 2', 'revoked'],
    ] as const)('%s on node A: session 1 sockets get session:revoked then disconnect; session 2 stays', async (_label, reason) => {
      const session1 = await registerUser(nodeA.url);
      const login = await ok(call<AuthResult>(nodeA, 'POST', '/auth/login', null, { email: session1.user.email, password: session1.password }));
      const session2: TestUser = { ...login, password: session1.password };

      const s1OnB = await open(nodeB, session1.accessToken);
      const s2OnB = await open(nodeB, session2.accessToken);
      const s1OnA = await open(nodeA, session1.accessToken);
      const s1OnBWatch = watchRevocation(s1OnB);
      const s1OnAWatch = watchRevocation(s1OnA);
      let s2Revoked = false;
      s2OnB.on('session:revoked', () => (s2Revoked = true));

      const res =
        reason === 'logout'
          ? await call(nodeA, 'POST', '/auth/logout', session1)
          : await call(nodeA, 'DELETE', `/auth/sessions/${session1.sessionId}`, session2);
      const respondedAt = Date.now();
      expect(res.status).toBe(204);

      await withTimeout(Promise.all([s1OnBWatch.done, s1OnAWatch.done]), REVOCATION_BUDGET_MS, 'revocation to reach both nodes');
      for (const [where, watch] of [
        ['node B', s1OnBWatch],
        ['node A', s1OnAWatch],
      ] as const) {
        expect(
          watch.seen.map((s) => s.event),
          `${where}: session:revoked must arrive before the disconnect`,
        ).toEqual(['session:revoked', 'disconnect']);
        expect(watch.seen[0]!.value).toEqual({ sessionId: session1.sessionId, reason });
        expect(watch.seen[1]!.value).toBe('io server disconnect');
        for (const s of watch.seen) expect(s.at - respondedAt).toBeLessThan(REVOCATION_BUDGET_MS);
      }

      // Session 2 shares the user's room but not the session's: still connected and answering.
      expect(s2OnB.connected).toBe(true);
      expect(await emitAck(s2OnB, 'session:hello', {}, 2000)).toMatchObject({ ok: true, data: { sessionId: session2.sessionId } });
      expect(s2Revoked).toBe(false);

      // Session 1's access token is still within its TTL, but no node accepts it any more.
      await expectRefused(nodeA, session1.accessToken);
      await expectRefused(nodeB, session1.accessToken);
      // Nor does REST on the other node.
      expect((await call(nodeB, 'GET', '/me', session1)).status).toBe(401);
    });

    it("reusing a refresh token on node A disconnects the session's socket on node B", async () => {
      const user = await registerUser(nodeA.url);
      const rotated = await ok(call<AuthResult>(nodeA, 'POST', '/auth/refresh', null, { refreshToken: user.refreshToken }));
      const socket = await open(nodeB, rotated.accessToken);
      const watch = watchRevocation(socket);

      const replay = await call<ErrorResponse>(nodeA, 'POST', '/auth/refresh', null, { refreshToken: user.refreshToken });
      const respondedAt = Date.now();
      expect(replay.status).toBe(401);
      expect(replay.body.error.code).toBe('unauthenticated');

      await withTimeout(watch.done, REVOCATION_BUDGET_MS, 'reuse revocation to reach node B');
      expect(watch.seen.map((s) => s.event)).toEqual(['session:revoked', 'disconnect']);
      expect(watch.seen[0]!.value).toEqual({ sessionId: user.sessionId, reason: 'reuse_detected' });
      expect(watch.seen[1]!.value).toBe('io server disconnect');
      for (const s of watch.seen) expect(s.at - respondedAt).toBeLessThan(REVOCATION_BUDGET_MS);
      await expectRefused(nodeB, rotated.accessToken);
    });
  },
);
