import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ConnectErrorData, SessionRevokedPayload } from '../contracts/realtime.ts';
import { rooms } from '../contracts/realtime.ts';
import { api, connectSocket, nextEvent, registerUser, type ClientSocket } from '../test/factories.ts';
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
      const received = nextEvent<SessionRevokedPayload>(aliceOnB, 'session:revoked', 2000);
      nodeA.node.deps.publisher.toRoom(rooms.user(alice.user.id), 'session:revoked', payload);
      expect(await received).toEqual(payload);

      // Bob is in a different room; a round trip on his socket after Alice's delivery shows nothing was queued for him.
      expect((await bobOnB.timeout(2000).emitWithAck('session:hello', {})).ok).toBe(true);
      expect(bobGotIt).toBe(false);
      expect(aliceOnB.connected).toBe(true);
    });

    it.each([
      ['POST /auth/logout by session 1', 'logout'],
      ['DELETE /auth/sessions/:id of session 1 by session 2', 'revoked'],
    ] as const)('%s on node A: session 1 sockets get session:revoked then disconnect; session 2 stays', async (_label, reason) => {
      const user = await registerUser(nodeA.url);
      const login = await api(nodeA.url, 'POST', '/api/v1/auth/login', {
        body: { email: user.user.email, password: user.password },
      });
      expect(login.status).toBe(200);
      const session1 = { id: user.sessionId, accessToken: user.accessToken };
      const session2 = { id: login.body.sessionId as string, accessToken: login.body.accessToken as string };

      const s1OnB = await open(nodeB, session1.accessToken);
      const s2OnB = await open(nodeB, session2.accessToken);
      const s1OnA = await open(nodeA, session1.accessToken);
      const s1OnBWatch = watchRevocation(s1OnB);
      const s1OnAWatch = watchRevocation(s1OnA);
      let s2Revoked = false;
      s2OnB.on('session:revoked', () => (s2Revoked = true));

      const res =
        reason === 'logout'
          ? await api(nodeA.url, 'POST', '/api/v1/auth/logout', { token: session1.accessToken })
          : await api(nodeA.url, 'DELETE', `/api/v1/auth/sessions/${session1.id}`, { token: session2.accessToken });
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
        expect(watch.seen[0]!.value).toEqual({ sessionId: session1.id, reason });
        expect(watch.seen[1]!.value).toBe('io server disconnect');
        for (const s of watch.seen) expect(s.at - respondedAt).toBeLessThan(REVOCATION_BUDGET_MS);
      }

      // Session 2 shares the user's room but not the session's: still connected and answering.
      expect(s2OnB.connected).toBe(true);
      expect(await s2OnB.timeout(2000).emitWithAck('session:hello', {})).toMatchObject({
        ok: true,
        data: { sessionId: session2.id },
      });
      expect(s2Revoked).toBe(false);

      // Session 1's access token is still within its TTL, but no node accepts it any more.
      await expectRefused(nodeA, session1.accessToken);
      await expectRefused(nodeB, session1.accessToken);
      // Nor does REST on the other node.
      expect((await api(nodeB.url, 'GET', '/api/v1/me', { token: session1.accessToken })).status).toBe(401);
    });

    it("reusing a refresh token on node A disconnects the session's socket on node B", async () => {
      const user = await registerUser(nodeA.url);
      const rotated = await api(nodeA.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: user.refreshToken } });
      expect(rotated.status).toBe(200);
      const socket = await open(nodeB, rotated.body.accessToken);
      const watch = watchRevocation(socket);

      const replay = await api(nodeA.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: user.refreshToken } });
      const respondedAt = Date.now();
      expect(replay.status).toBe(401);
      expect(replay.body.error.code).toBe('unauthenticated');

      await withTimeout(watch.done, REVOCATION_BUDGET_MS, 'reuse revocation to reach node B');
      expect(watch.seen.map((s) => s.event)).toEqual(['session:revoked', 'disconnect']);
      expect(watch.seen[0]!.value).toEqual({ sessionId: user.sessionId, reason: 'reuse_detected' });
      expect(watch.seen[1]!.value).toBe('io server disconnect');
      for (const s of watch.seen) expect(s.at - respondedAt).toBeLessThan(REVOCATION_BUDGET_MS);
      await expectRefused(nodeB, rotated.body.accessToken);
    });
  },
);
