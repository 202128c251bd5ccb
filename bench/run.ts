/**
 * `npm run bench`: the authenticated REST read `GET /api/v1/me` (JWT verification, revocation check, one indexed
 * PostgreSQL read, JSON) on one Edulure node, against two references measured in the same run with the same
 * closed-loop load generator:
 *
 * - fair — a bare Koa app with a `pg` pool of Edulure's size doing the same work: verify the same bearer JWT, read the
 *   user by id, answer the same JSON (bench/baselineServer.ts). The target is Edulure ≥ 0.5× its throughput.
 * - floor — node:http answering the same body with no work at all: the ceiling no server can pass.
 *
 * Every side is warmed up, then measured twice in the order floor, fair, edulure, edulure, fair, floor, so that drift
 * over the run (another process, thermal state, a growing database cache) falls on all sides alike; each side's figures
 * are the mean of its two passes. Writes bench/results/http-<date>[-N].json.
 *
 * BENCH_CONCURRENCY (32) clients; BENCH_SECONDS (5) per measured pass; BENCH_WARMUP_SECONDS (2) per side.
 * BENCH_SERVERS=process runs each server in a child process of its own instead of beside the load generator, so the
 * generator's CPU is not charged to the servers (with 2 cores, the servers then share a core with PostgreSQL).
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { startEmbeddedPostgres, migrateWithLock, openOrm } from '../orm/database.ts';
import { createOrmConfig } from '../orm/mikro-orm.config.ts';
import type { BenchServer } from './baselineServer.ts';
import { runLoad, type LoadResult } from './load.ts';
import { startSide, startSideProcess, type SideSpec } from './rest/sides.ts';
import { freePort } from '../test/ports.ts';
import { sourceState, writeResultFile } from './setup.ts';

const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const durationMs = Number(process.env.BENCH_SECONDS ?? 5) * 1000;
const warmupMs = Number(process.env.BENCH_WARMUP_SECONDS ?? 2) * 1000;
const servers = process.env.BENCH_SERVERS === 'process' ? 'process' : 'inline';
const TARGET = 0.5;
const JWT_KEY = { kid: 'bench', secret: 'bench-secret-that-is-long-enough-0123456789' };

type SideName = 'floor' | 'fair' | 'edulure';
const ORDER: SideName[] = ['floor', 'fair', 'edulure', 'edulure', 'fair', 'floor'];

interface SideFigures extends LoadResult {
  passes: LoadResult[];
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** A side's figures over its passes: counts summed, rates and percentiles averaged (each pass weighs the same). */
function combine(passes: LoadResult[]): SideFigures {
  return {
    requests: passes.reduce((n, p) => n + p.requests, 0),
    errors: passes.reduce((n, p) => n + p.errors, 0),
    seconds: +passes.reduce((n, p) => n + p.seconds, 0).toFixed(3),
    perSecond: Math.round(mean(passes.map((p) => p.perSecond))),
    p50Ms: +mean(passes.map((p) => p.p50Ms)).toFixed(2),
    p95Ms: +mean(passes.map((p) => p.p95Ms)).toFixed(2),
    p99Ms: +mean(passes.map((p) => p.p99Ms)).toFixed(2),
    passes,
  };
}

/** `a` relative to `b`: throughput a/b (higher is better for a), latencies a/b (lower is better for a). */
function ratio(a: LoadResult, b: LoadResult) {
  return {
    throughput: +(a.perSecond / b.perSecond).toFixed(3),
    p50: +(a.p50Ms / b.p50Ms).toFixed(2),
    p99: +(a.p99Ms / b.p99Ms).toFixed(2),
  };
}



const start = (spec: SideSpec) => (servers === 'process' ? startSideProcess(spec) : startSide(spec));

const dataDir = await mkdtemp(path.join(os.tmpdir(), 'edulure-bench-'));
await chmod(dataDir, 0o755);
const pg = await startEmbeddedPostgres({ dataDir, port: await freePort() });
const started: BenchServer[] = [];
try {
  const orm = await openOrm(pg.url, { poolMax: 2 });
  await migrateWithLock(orm, pg.url);
  await orm.close(true);
  // The pool a node opens (openOrm without options): the fair baseline gets as many connections.
  const poolMax = createOrmConfig({ databaseUrl: pg.url }).pool?.max;
  if (!poolMax) throw new Error('no pool size in the ORM config');

  const edulure = await start({ kind: 'edulure', databaseUrl: pg.url, jwtKey: JWT_KEY });
  started.push(edulure);
  const registered = await fetch(`${edulure.url}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'bench@example.test', password: 'a bench passphrase', displayName: 'Bench' }),
  }).then((r) => r.json() as Promise<{ accessToken: string }>);
  const headers = { authorization: `Bearer ${registered.accessToken}` };
  const readMe = async (url: string) => {
    const response = await fetch(`${url}/api/v1/me`, { headers });
    if (response.status !== 200) throw new Error(`${url}/api/v1/me answered ${response.status}`);
    return response.json() as Promise<unknown>;
  };
  const body = await readMe(edulure.url);
  const fair = await start({ kind: 'koa-pg', databaseUrl: pg.url, jwtSecret: JWT_KEY.secret, poolMax });
  started.push(fair);
  const floor = await start({ kind: 'floor', body });
  started.push(floor);
  const sides: Record<SideName, BenchServer> = { floor, fair, edulure };
  // Same request, same answer: otherwise the comparison would not be between equals.
  for (const name of ['fair', 'floor'] as const) {
    if (!isDeepStrictEqual(await readMe(sides[name].url), body)) throw new Error(`the ${name} side answers another body than Edulure`);
  }

  // Every side gets the same request (the floor ignores the token).
  const load = (name: SideName, ms: number) => runLoad({ url: `${sides[name].url}/api/v1/me`, headers, concurrency, durationMs: ms });
  for (const name of ['floor', 'fair', 'edulure'] as const) await load(name, warmupMs);
  const passes: Record<SideName, LoadResult[]> = { floor: [], fair: [], edulure: [] };
  for (const name of ORDER) {
    const pass = await load(name, durationMs);
    passes[name].push(pass);
    console.log(`${name.padEnd(7)} ${String(pass.perSecond).padStart(6)} req/s  p50 ${pass.p50Ms} ms  p99 ${pass.p99Ms} ms`);
  }
  const figures = { floor: combine(passes.floor), fair: combine(passes.fair), edulure: combine(passes.edulure) };

  const result = {
    benchmark: 'http-authenticated-read',
    date: new Date().toISOString(),
    command: `${servers === 'process' ? 'BENCH_SERVERS=process ' : ''}npm run bench`,
    machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version, loadAverage: os.loadavg() },
    source: sourceState(),
    concurrency,
    secondsPerPass: durationMs / 1000,
    warmupSeconds: warmupMs / 1000,
    servers,
    order: ORDER,
    poolMax,
    ...figures,
    ratios: {
      edulureVsFair: ratio(figures.edulure, figures.fair),
      edulureVsFloor: ratio(figures.edulure, figures.floor),
      fairVsFloor: ratio(figures.fair, figures.floor),
    },
    target: { edulureVsFairThroughput: TARGET, met: figures.edulure.perSecond / figures.fair.perSecond >= TARGET },
  };
  console.table(
    Object.fromEntries(
      Object.entries(figures).map(([name, f]) => [name, { perSecond: f.perSecond, p50Ms: f.p50Ms, p95Ms: f.p95Ms, p99Ms: f.p99Ms, errors: f.errors }]),
    ),
  );
  console.log('edulure / fair: ', result.ratios.edulureVsFair, result.target.met ? '(target met)' : `(target ${TARGET} not met)`);
  console.log('edulure / floor:', result.ratios.edulureVsFloor);
  console.log('fair / floor:   ', result.ratios.fairVsFloor);
  const file = await writeResultFile(`http-${result.date.slice(0, 10)}`, result);
  console.log(`written ${path.relative(process.cwd(), file)}`);
} finally {
  for (const server of started.reverse()) await server.close().catch((err: unknown) => console.error('closing a side failed:', err));
  await pg.stop();
  await rm(dataDir, { recursive: true, force: true });
}
