/**
 * `npm run bench`: the authenticated REST path (`GET /api/v1/me`: JWT verification, revocation check, one indexed
 * PostgreSQL read, JSON) against a bare node:http server answering the same body, measured in the same run with the
 * same closed-loop load generator. Prints and writes bench/results/http-<date>.json with the ratios.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { startEmbeddedPostgres, migrateWithLock, openOrm } from '../orm/database.ts';
import { parseEnv } from '../server/env.ts';
import { createNode } from '../server/node.ts';
import { startBaselineServer } from './baselineServer.ts';
import { runLoad } from './load.ts';
import { freePort } from '../test/ports.ts';

const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const durationMs = Number(process.env.BENCH_SECONDS ?? 8) * 1000;

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'edulure-bench-'));
await chmod(dataDir, 0o755);
const pg = await startEmbeddedPostgres({ dataDir, port: await freePort() });
try {
  const orm = await openOrm(pg.url, { poolMax: 2 });
  await migrateWithLock(orm, pg.url);
  await orm.close(true);

  const parsed = parseEnv({ NODE_ENV: 'production', LOG_LEVEL: 'silent', RATE_LIMIT_AUTH_PER_MINUTE: '1000000' });
  if (!('env' in parsed)) throw new Error('bad bench env');
  const node = await createNode({
    env: parsed.env,
    databaseUrl: pg.url,
    jwtKeys: [{ kid: 'bench', secret: 'bench-secret-that-is-long-enough-0123456789' }],
    publicUrl: 'http://localhost',
    allowedOrigins: [],
    logger: pino({ level: 'silent' }),
  });
  const port = await node.listen(0, '127.0.0.1');
  const edulureUrl = `http://127.0.0.1:${port}`;
  const registered = await fetch(`${edulureUrl}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'bench@example.test', password: 'a bench passphrase', displayName: 'Bench' }),
  }).then((r) => r.json() as Promise<{ accessToken: string; user: unknown }>);
  const baseline = await startBaselineServer({ user: registered.user });

  const headers = { authorization: `Bearer ${registered.accessToken}` };
  // Warm both up so JIT and pools are steady before measuring.
  await runLoad({ url: `${baseline.url}/`, concurrency, durationMs: 1500 });
  await runLoad({ url: `${edulureUrl}/api/v1/me`, headers, concurrency, durationMs: 1500 });
  const base = await runLoad({ url: `${baseline.url}/`, concurrency, durationMs });
  const edulure = await runLoad({ url: `${edulureUrl}/api/v1/me`, headers, concurrency, durationMs });
  await baseline.close();
  await node.close();

  const result = {
    benchmark: 'http-authenticated-read',
    date: new Date().toISOString(),
    command: 'npm run bench',
    machine: { cpus: os.cpus().length, node: process.version },
    concurrency,
    seconds: durationMs / 1000,
    baseline: base,
    edulure,
    ratios: {
      throughput: +(edulure.perSecond / base.perSecond).toFixed(3),
      p50: +(edulure.p50Ms / base.p50Ms).toFixed(2),
      p99: +(edulure.p99Ms / base.p99Ms).toFixed(2),
    },
  };
  console.table({ baseline: base, edulure });
  console.log('ratios (edulure / baseline):', result.ratios);
  const dir = path.join(import.meta.dirname, 'results');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `http-${result.date.slice(0, 10)}.json`);
  await writeFile(file, JSON.stringify(result, null, 2) + '\n');
  console.log(`written ${path.relative(process.cwd(), file)}`);
} finally {
  await pg.stop();
  await rm(dataDir, { recursive: true, force: true });
}
