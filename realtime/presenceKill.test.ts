import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { PresenceList } from '../contracts/chat.ts';
import { openOrm } from '../orm/database.ts';
import { db } from '../orm/db.ts';
import { testDatabaseUrl } from '../test/db.ts';
import { call, collect, connectSocket, eventually, registerUsers, watchPresence, type ClientSocket } from '../test/factories.ts';
import { freePort } from '../test/ports.ts';
import { spawnServer, waitForOk, type ServerProcess } from '../test/processes.ts';

/** The promise made to users: a killed node's users show offline within this. */
const CONVERGENCE_BUDGET_MS = 30_000;
// Short but realistic: a node refreshes its liveness every ~700 ms and is presumed dead after 2 s without it.
const PRESENCE_ENV = { PRESENCE_NODE_TTL_MS: '2000', PRESENCE_SWEEP_INTERVAL_MS: '500', PRESENCE_COALESCE_MS: '100' };

describe.skipIf(!inject('redisUrl'))('presence after a node is killed (real processes; skipped without Redis)', () => {
  const processes: ServerProcess[] = [];
  const sockets: ClientSocket[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await Promise.all(processes.map((p) => p.stop('SIGKILL')));
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function start(shared: Record<string, string>) {
    const port = await freePort();
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'edulure-presence-'));
    await chmod(dataDir, 0o755);
    dirs.push(dataDir);
    const server = spawnServer({ ...shared, PORT: String(port), DATA_DIR: dataDir });
    processes.push(server);
    const url = `http://127.0.0.1:${port}`;
    return { server, url, ready: waitForOk(`${url}/health/ready`, server, 60_000) };
  }

  it('a user connected to a SIGKILLed process is announced offline on the surviving one, and REST agrees', async () => {
    const databaseUrl = await testDatabaseUrl();
    const shared = {
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      REDIS_URL: inject('redisUrl'),
      // Both processes form one cluster of their own in the test Redis.
      REDIS_KEY_PREFIX: `edulure-test-kill-${randomBytes(6).toString('hex')}`,
      JWT_KEYS: `presence-test:${randomBytes(32).toString('hex')}`,
      SEED_DEMO: 'never',
      RATE_LIMIT_AUTH_PER_MINUTE: '100000',
      ...PRESENCE_ENV,
    };
    const [doomed, survivor] = await Promise.all([start(shared), start(shared)]);
    await Promise.all([doomed.ready, survivor.ready]);

    const [x, observer] = await registerUsers(survivor.url, 2);
    const communityId = randomUUID();
    const orm = await openOrm(databaseUrl, { poolMax: 1 });
    try {
      const q = db(orm.em.fork());
      await q
        .insertInto('communities')
        .values({ id: communityId, slug: `kill-${randomBytes(6).toString('hex')}`, name: 'Kill test', visibility: 'public' })
        .execute();
      await q
        .insertInto('community_members')
        .values([x, observer].map((u) => ({ community_id: communityId, user_id: u.user.id })))
        .execute();
    } finally {
      await orm.close(true);
    }

    const observerSocket = await connectSocket(survivor.url, observer.accessToken);
    sockets.push(observerSocket);
    await watchPresence(observerSocket, [x]);
    const heard = collect(observerSocket, 'presence:updated');
    sockets.push(await connectSocket(doomed.url, x.accessToken));
    const about = () => heard.filter((u) => u.userId === x.user.id).map((u) => u.status);
    await eventually(() => about().length > 0, 5000, 'x online at the observer');
    expect(about()).toEqual(['online']);
    const listed = () => call<PresenceList>(survivor.url, 'GET', `/communities/${communityId}/presence`, observer);
    expect((await listed()).body.data).toContainEqual({ userId: x.user.id, status: 'online' });

    const killedAt = Date.now();
    expect(await doomed.server.stop('SIGKILL')).toBeNull();
    await eventually(() => about().length > 1, CONVERGENCE_BUDGET_MS, 'x offline at the observer');
    const convergedAfter = Date.now() - killedAt;
    expect(about()).toEqual(['online', 'offline']);
    expect(convergedAfter).toBeLessThan(CONVERGENCE_BUDGET_MS);
    // Through liveness expiry (TTL 2 s, last refreshed ≤ ~0.7 s before the kill), not some other path.
    expect(convergedAfter).toBeGreaterThan(1000);
    process.stderr.write(`[presence] killed node's user announced offline after ${convergedAfter} ms\n`);
    const after = await listed();
    expect(after.status).toBe(200);
    expect(after.body.data.map((e) => e.userId)).not.toContain(x.user.id);
    expect(after.body.data).toContainEqual({ userId: observer.user.id, status: 'online' });
  }, 120_000);
});
