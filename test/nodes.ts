import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { PoolClient } from 'pg';
import pino from 'pino';
import { db, type Db } from '../orm/db.ts';
import { parseEnv, type Env } from '../server/env.ts';
import { createNode, type EdulureNode } from '../server/node.ts';
import type { Clock } from '../domain/shared/time.ts';
import { testDatabaseUrl, testRedisUrl } from './db.ts';

const TEST_JWT_KEYS = [{ kid: 'test', secret: 'test-secret-that-is-long-enough-0123456789' }];

export function testEnv(overrides: Record<string, string | undefined> = {}): Env {
  // Every test client comes from 127.0.0.1, so per-IP budgets are lifted unless a test sets them.
  const parsed = parseEnv({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    RATE_LIMIT_AUTH_PER_MINUTE: '100000',
    // Closing a test node hands its sockets over at once unless a test sets a handover.
    SHUTDOWN_HANDOVER_MS: '0',
    SOCKET_CONNECTIONS_PER_IP: '100000',
    ...overrides,
  });
  if ('problems' in parsed) throw new Error(`bad test env: ${JSON.stringify(parsed.problems)}`);
  return parsed.env;
}

export interface RunningNode {
  node: EdulureNode;
  url: string;
  close(): Promise<void>;
}

export interface StartNodeOptions {
  env?: Record<string, string | undefined>;
  /** Share a Redis key prefix to form one cluster; omit for a node on its own. */
  clusterId?: string;
  redis?: boolean;
  /** Defaults to this worker's database. */
  databaseUrl?: string;
  /** Shared by every node of a cluster when given to startCluster (attendance, early starts). */
  clock?: Clock;
}

/** Starts a real node (Koa + Socket.IO) on an ephemeral port against this worker's database. */
export async function startNode(options: StartNodeOptions = {}): Promise<RunningNode> {
  const redisUrl = options.redis ? testRedisUrl() : undefined;
  if (options.redis && !redisUrl) throw new Error('this test needs Redis');
  // Each node (or cluster, which passes one) keeps its files — uploaded assets, spooled uploads — in a DATA_DIR of
  // its own, removed when it closes.
  const ownDataDir = options.env?.DATA_DIR ? undefined : await mkdtemp(path.join(os.tmpdir(), 'edulure-test-data-'));
  const env = testEnv({ REDIS_URL: redisUrl, ...(ownDataDir ? { DATA_DIR: ownDataDir } : {}), ...options.env });
  const node = await createNode({
    env,
    databaseUrl: options.databaseUrl ?? (await testDatabaseUrl()),
    jwtKeys: TEST_JWT_KEYS,
    publicUrl: 'http://localhost:3000',
    allowedOrigins: ['http://localhost:3000'],
    redisKeyPrefix: `edulure-test-${options.clusterId ?? randomBytes(6).toString('hex')}`,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const port = await node.listen(0, '127.0.0.1');
  const close = async () => {
    await node.close();
    if (ownDataDir) await rm(ownDataDir, { recursive: true, force: true });
  };
  return { node, url: `http://127.0.0.1:${port}`, close };
}

/** Several nodes sharing PostgreSQL and Redis: one cluster, as behind a load balancer. */
export async function startCluster(size: number, options: Omit<StartNodeOptions, 'clusterId' | 'redis'> = {}) {
  const clusterId = randomBytes(6).toString('hex');
  // One DATA_DIR for the cluster, as nodes sharing a volume: an asset stored through one node is served by any.
  const dataDir = options.env?.DATA_DIR ?? (await mkdtemp(path.join(os.tmpdir(), 'edulure-test-cluster-')));
  const env = { ...options.env, DATA_DIR: dataDir };
  const nodes = await Promise.all(Array.from({ length: size }, () => startNode({ ...options, env, clusterId, redis: true })));
  const close = async () => {
    await Promise.all(nodes.map((n) => n.close()));
    if (!options.env?.DATA_DIR) await rm(dataDir, { recursive: true, force: true });
  };
  return { nodes, close };
}

/**
 * The typed query builder over a running node's database (its own pool, outside any transaction), for rows a test
 * writes or reads straight from the tables: `await dbOf(node).selectFrom('messages')…`.
 */
export function dbOf(node: RunningNode): Db {
  return db(node.node.orm.em.fork());
}

/**
 * The SQL text of every statement the node's pool sends while `work` runs (BEGIN and COMMIT included), seen at the pg
 * client, so the ORM's own queries and the typed builder's are counted alike. For claims such as "the channel list
 * costs one statement whatever the number of channels".
 */
export async function statementsDuring(
  node: RunningNode,
  work: () => Promise<unknown>,
  options: { ownContextOnly?: boolean } = {},
): Promise<string[]> {
  const pool = await node.node.orm.em.getConnection().getNativeClient();
  const statements: string[] = [];
  // `ownContextOnly`: only statements issued in `work`'s own async context (its timers included), for work called
  // in-process — a job the node's runner picks up meanwhile (notifications of messages just sent) is other work. Work
  // done through HTTP runs in the server's context, so it is counted whole (the default).
  const context = new AsyncLocalStorage<true>();
  const watched = new Map<PoolClient, PoolClient['query']>();
  const watch = (client: PoolClient) => {
    if (watched.has(client)) return;
    const query = client.query;
    watched.set(client, query);
    client.query = ((...args: [string | { text: string }, ...unknown[]]) => {
      if (!options.ownContextOnly || context.getStore()) statements.push(typeof args[0] === 'string' ? args[0] : args[0].text);
      return (query as (...a: unknown[]) => unknown).apply(client, args);
    }) as PoolClient['query'];
  };
  pool.on('acquire', watch);
  try {
    await context.run(true, work);
  } finally {
    pool.off('acquire', watch);
    for (const [client, query] of watched) client.query = query;
  }
  return statements;
}
