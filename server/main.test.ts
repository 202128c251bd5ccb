import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { AuthResult } from '../contracts/auth.ts';
import { DEMO_ACCOUNTS } from '../orm/seeders/demoData.ts';
import { call, ok } from '../test/factories.ts';
import { freePort } from '../test/ports.ts';
import { spawnServer, waitForOk } from '../test/processes.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('server/main with nothing configured', () => {
  it('starts embedded PostgreSQL, seeds demo data once, and reuses the data on the next start', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'edulure-main-'));
    await chmod(dataDir, 0o755);
    dirs.push(dataDir);
    const env = {
      PORT: String(await freePort()),
      EMBEDDED_PG_PORT: String(await freePort()),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
    };
    const base = `http://127.0.0.1:${env.PORT}`;
    const learner = DEMO_ACCOUNTS[0]!;

    const first = spawnServer(env);
    try {
      const readyAfter = await waitForOk(`${base}/health/ready`, first, 60_000);
      expect(readyAfter).toBeLessThan(60_000);
      expect(first.output()).toContain('DEMO ONLY');
      expect(first.output()).toContain(learner.email);
      const login = await call(base, 'POST', '/auth/login', null, { email: learner.email, password: learner.password });
      expect(login.status).toBe(200);
      const password = 'a durable passphrase';
      const registered = await ok(
        call<AuthResult>(base, 'POST', '/auth/register', null, { email: `keeper-${Date.now()}@example.test`, password, displayName: 'Keeper' }),
        201,
      );
      const keeper = { ...registered, password };
      // Graceful stop on SIGTERM exits 0 and takes the embedded PostgreSQL down with it.
      expect(await first.stop('SIGTERM')).toBe(0);

      const second = spawnServer(env);
      try {
        await waitForOk(`${base}/health/ready`, second, 60_000);
        expect(second.output()).not.toContain('DEMO ONLY');
        const again = await call(base, 'POST', '/auth/login', null, { email: keeper.user.email, password });
        expect(again.status).toBe(200);
        // Tokens from before the restart stay valid: the dev key ring was persisted in DATA_DIR.
        const me = await call(base, 'GET', '/me', keeper);
        expect(me.status).toBe(200);
        expect(await second.stop('SIGINT')).toBe(0);
      } finally {
        await second.stop('SIGKILL');
      }
    } finally {
      await first.stop('SIGKILL');
    }
  }, 150_000);

  it('refuses to start with a bad environment and names every problem', async () => {
    const server = spawnServer({ PORT: 'not-a-port', ALLOWED_ORIGINS: 'nope', LOG_LEVEL: 'loud' });
    const code = await server.exited;
    expect(code).toBe(1);
    expect(server.output()).toMatch(/PORT:/);
    expect(server.output()).toMatch(/ALLOWED_ORIGINS:/);
    expect(server.output()).toMatch(/LOG_LEVEL:/);
  });
});
