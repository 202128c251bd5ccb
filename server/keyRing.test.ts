import { link, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import type { AuthResult } from '../contracts/auth.ts';
import type { JwtKey } from '../domain/auth/tokens.ts';
import { testDatabaseUrl } from '../test/db.ts';
import { call, ok, registerUser } from '../test/factories.ts';
import { testEnv } from '../test/nodes.ts';
import { ensureDataDir, resolveJwtKeys } from './bootstrap.ts';
import { createNode } from './node.ts';

// Lets one test take hard links away, as on a filesystem that has none; every other call is the real link().
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return { ...actual, link: vi.fn(actual.link) };
});

const logger = pino({ level: 'silent' });
const dirs: string[] = [];

async function freshDataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'edulure-keys-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  vi.mocked(link).mockReset();
});
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** What server/main.ts does before it composes a node, minus the database: no JWT_KEYS, a DATA_DIR. */
function devKeyRing(dataDir: string): Promise<JwtKey[]> {
  return resolveJwtKeys(testEnv({ DATA_DIR: dataDir }), dataDir, logger);
}

async function expectOneRingOnDisk(dataDir: string, rings: JwtKey[][]) {
  const onDisk = JSON.parse(await readFile(path.join(dataDir, 'jwt-keys.json'), 'utf8')) as JwtKey[];
  for (const ring of rings) expect(ring).toEqual(onDisk);
  expect((await stat(path.join(dataDir, 'jwt-keys.json'))).mode & 0o777).toBe(0o600);
  // Nothing but the ring is left behind: every temporary file was removed.
  expect(await readdir(dataDir)).toEqual(['jwt-keys.json']);
}

describe('development JWT key ring in DATA_DIR', () => {
  it('gives twenty nodes starting together on a fresh DATA_DIR one and the same ring', async () => {
    const dataDir = await freshDataDir();
    const rings = await Promise.all(Array.from({ length: 20 }, () => devKeyRing(dataDir)));
    expect(rings[0]).toHaveLength(1);
    expect(rings[0]![0]!.secret.length).toBeGreaterThanOrEqual(32);
    await expectOneRingOnDisk(dataDir, rings);
  });

  it('agrees on one ring where the filesystem has no hard links', async () => {
    vi.mocked(link).mockRejectedValue(Object.assign(new Error('operation not permitted'), { code: 'EPERM' }));
    const dataDir = await freshDataDir();
    const rings = await Promise.all(Array.from({ length: 20 }, () => devKeyRing(dataDir)));
    expect(vi.mocked(link)).toHaveBeenCalled();
    await expectOneRingOnDisk(dataDir, rings);
  });

  it('keeps the ring already in DATA_DIR, so sessions survive a restart', async () => {
    const dataDir = await freshDataDir();
    const first = await devKeyRing(dataDir);
    expect(await devKeyRing(dataDir)).toEqual(first);
  });

  it('waits for a ring that is still being written instead of making its own', async () => {
    const dataDir = await freshDataDir();
    const file = path.join(dataDir, 'jwt-keys.json');
    const ring: JwtKey[] = [{ kid: 'written-late', secret: 'a-secret-that-is-long-enough-0123456789abcdef' }];
    const text = JSON.stringify(ring);
    await writeFile(file, text.slice(0, 10));
    const resolving = devKeyRing(dataDir);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await writeFile(file, text);
    expect(await resolving).toEqual(ring);
  });

  it('refuses a ring that stays unreadable and says how to recover', async () => {
    const dataDir = await freshDataDir();
    await writeFile(path.join(dataDir, 'jwt-keys.json'), '');
    await expect(devKeyRing(dataDir)).rejects.toThrow(/jwt-keys\.json is not a valid JWT key ring\. Delete it .* or set JWT_KEYS/);
  });
});

describe('two nodes started at once on one DATA_DIR without JWT_KEYS', () => {
  /** Composes a node the way server/main.ts does, with the key ring from DATA_DIR, on this worker's database. */
  async function startDevNode(dataDir: string) {
    const env = testEnv({ DATA_DIR: dataDir });
    const jwtKeys = await resolveJwtKeys(env, await ensureDataDir(env), logger);
    const node = await createNode({
      env,
      databaseUrl: await testDatabaseUrl(),
      jwtKeys,
      publicUrl: 'http://localhost:3000',
      allowedOrigins: ['http://localhost:3000'],
      logger,
    });
    const port = await node.listen(0, '127.0.0.1');
    return { url: `http://127.0.0.1:${port}`, close: () => node.close() };
  }

  it("accept each other's access tokens", async () => {
    const dataDir = await freshDataDir();
    const [a, b] = await Promise.all([startDevNode(dataDir), startDevNode(dataDir)]);
    try {
      const onA = await registerUser(a.url);
      expect((await call(b.url, 'GET', '/me', onA)).status).toBe(200);

      const signedInOnB = await ok(call<AuthResult>(b.url, 'POST', '/auth/login', null, { email: onA.user.email, password: onA.password }));
      const onB = { ...signedInOnB, password: onA.password };
      expect((await call(a.url, 'GET', '/me', onB)).status).toBe(200);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
