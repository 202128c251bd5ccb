/**
 * What the socket drills share (bench/chaos.ts: a node killed; bench/rolling.ts: both nodes restarted in turn): the
 * setup — Redis, an embedded PostgreSQL with pg_stat_statements, the seeded rooms, two Edulure processes, the load
 * generators with every client connected and joined — the open-loop schedule, and the drain at the end that collects
 * what the clients saw and what PostgreSQL stored.
 */
import { chmod, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { EmbeddedPostgres } from '../../orm/database.ts';
import { forkNode, request, sleep, startRedis, stopAll, type Managed, type RedisHandle } from '../chat/processes.ts';
import { nowMs } from '../chat/protocol.ts';
import { seedChatBench } from '../chat/seed.ts';
import { startEdulureSide, type RunningSide } from '../chat/sides.ts';
import { benchCleanup, ensureFileLimit, startDatabase } from '../setup.ts';
import type { ChaosConfig } from './config.ts';
import { pgStatements } from './monitor.ts';
import { buildConnections, buildPlan, NODES, ownerOf, type Plan } from './plan.ts';
import type { ChaosFinalSync, ChaosProgress, ChaosReady, ChaosReport, ConnSpec, ToChaosClient } from './protocol.ts';
import { readStoredState, type StoredState } from './verify.ts';

/** Applied events must hold still this long before the drain counts as settled. */
const QUIET_MS = 2000;

export const sleepUntil = (at: number) => sleep(Math.max(0, at - nowMs()));

/** The load generators, addressed together. */
export function generators(loaders: Managed[]) {
  let progressId = 0;
  const ask = <T>(msg: ToChaosClient | ((k: number) => ToChaosClient), type: string, timeoutMs: number) =>
    Promise.all(loaders.map((lc, k) => request<T>(lc, typeof msg === 'function' ? msg(k) : msg, (r) => r?.type === type, timeoutMs)));
  return {
    ask,
    async progress() {
      const id = ++progressId;
      const all = await Promise.all(
        loaders.map((lc) => request<ChaosProgress>(lc, { type: 'progress', id }, (r) => r?.type === 'progress' && r.id === id, 30_000)),
      );
      const sum = (key: Exclude<keyof ChaosProgress, 'type' | 'id' | 'loopDelayMaxMs'>) => all.reduce((n, p) => n + p[key], 0);
      return {
        connected: sum('connected'),
        sent: sum('sent'),
        acked: sum('acked'),
        failed: sum('failed'),
        unsettled: sum('unsettled'),
        lostConnection: sum('lostConnection'),
        recovering: sum('recovering'),
        held: sum('held'),
        syncing: sum('syncing'),
        applied: sum('applied'),
        loopDelayMaxMs: Math.max(...all.map((p) => p.loopDelayMaxMs)),
      };
    },
  };
}

export type Generators = ReturnType<typeof generators>;

export interface Drill {
  side: RunningSide;
  redis: RedisHandle;
  loaders: Managed[];
  load: Generators;
  conns: ConnSpec[];
  channelIds: string[];
  userIds: string[];
  statsClient: pg.Client;
  stats: ReturnType<typeof pgStatements>;
  connectSeconds: number;
  /** Stops everything the drill started (also on SIGINT/SIGTERM); safe to call more than once. */
  cleanup(): Promise<void>;
}

/** Everything up and every client connected and joined; on failure, what was started is stopped before the throw. */
export async function setUpDrill(cfg: ChaosConfig, options: { name: string; log: (line: string) => void; serverEnv?: Record<string, string> }): Promise<Drill> {
  const { log } = options;
  // Each server and load generator holds about half the sockets.
  ensureFileLimit(cfg.connections + 2048, log);
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `edulure-bench-${options.name}-`));
  await chmod(dataDir, 0o755);
  const db: { current?: EmbeddedPostgres; starting?: Promise<unknown> } = {};
  const started: { redis?: RedisHandle; side?: RunningSide; statsClient?: pg.Client } = {};
  const loaders: Managed[] = [];
  const cleanup = benchCleanup({
    dataDir,
    db,
    log,
    stopFirst: async () => {
      await Promise.all(loaders.map((lc) => lc.stop().catch(() => {})));
      await started.side?.stop().catch(() => {});
      await stopAll();
      await started.statsClient?.end().catch(() => {});
      await started.redis?.stop().catch(() => {});
    },
  });
  try {
    const redis = (started.redis = await startRedis());
    const starting = startDatabase(dataDir, db, { statistics: true });
    db.starting = starting;
    const database = await starting;
    const jwtKey = { kid: 'bench', secret: `bench-${crypto.randomUUID()}-${crypto.randomUUID()}` };
    const data = await seedChatBench(database.url, {
      users: cfg.connections,
      roomSize: cfg.roomSize,
      communitySize: cfg.roomSize,
      jwtKey,
      tokenTtlSeconds: 3600,
    });
    log(`seeded ${data.userIds.length} users, ${data.channelIds.length} channels`);
    const side = (started.side = await startEdulureSide({
      databaseUrl: database.url,
      redisUrl: redis.url,
      nodes: NODES,
      jwtKeys: `${jwtKey.kid}:${jwtKey.secret}`,
      dataDir,
      runTag: Date.now().toString(36),
      ...(options.serverEnv ? { env: options.serverEnv } : {}),
    }));
    log(`edulure up on ${side.urls.join(', ')}`);
    const statsClient = (started.statsClient = new pg.Client({ connectionString: database.url }));
    await statsClient.connect();
    await statsClient.query('create extension if not exists pg_stat_statements');

    for (let k = 0; k < cfg.loadProcesses; k++) {
      loaders.push(forkNode(`${options.name}-load-${k}`, path.join(import.meta.dirname, 'loadClient.ts'), {}, { probe: false }));
    }
    const load = generators(loaders);
    const conns = buildConnections(cfg, data);
    const connectStarted = Date.now();
    const ready = await load.ask<ChaosReady>(
      (k) => ({
        type: 'init',
        urls: side.urls,
        conns: conns.filter((c) => ownerOf(cfg, c.index) === k),
        roomSize: cfg.roomSize,
        connectConcurrency: cfg.connectConcurrency,
        ackTimeoutMs: cfg.ackTimeoutMs,
        gapGraceMs: cfg.gapGraceMs,
      }),
      'ready',
      600_000,
    );
    const joined = ready.reduce((n, r) => n + r.joined, 0);
    const failures = ready.flatMap((r) => r.failures);
    if (joined !== conns.length) throw new Error(`only ${joined}/${conns.length} clients joined: ${failures.slice(0, 5).join('; ')}`);
    const connectSeconds = +((Date.now() - connectStarted) / 1000).toFixed(1);
    log(`${joined} clients connected and joined in ${connectSeconds} s`);
    return {
      side,
      redis,
      loaders,
      load,
      conns,
      channelIds: data.channelIds,
      userIds: data.userIds,
      statsClient,
      stats: pgStatements(statsClient),
      connectSeconds,
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Hands the whole run's schedule to the load generators; the first send goes 1.5 s from now. */
export async function scheduleLoad(cfg: ChaosConfig, drill: Drill, log: (line: string) => void): Promise<{ plan: Plan; giveUpAt: number }> {
  const plan = buildPlan(cfg, nowMs() + 1500);
  const giveUpAt = plan.endAt + cfg.giveUpSeconds * 1000;
  await drill.load.ask(
    (k) => ({ type: 'schedule', totalMessages: plan.sends.length, sends: plan.sends.filter((s) => ownerOf(cfg, s.conn) === k), giveUpAt }),
    'scheduled',
    60_000,
  );
  log(`${plan.sends.length} messages scheduled over ${((plan.endAt - plan.startAt) / 1000).toFixed(1)} s`);
  return { plan, giveUpAt };
}

export interface Collected {
  reports: ChaosReport[];
  finals: ChaosFinalSync[];
  stored: StoredState;
  drainSeconds: number;
}

/**
 * After the last scheduled send: waits until every send is acked or given up, nothing is held or syncing, every
 * client is connected and applied events hold still (or the drain deadline passes); then collects the clients'
 * reports, PostgreSQL's state, and one last catch-up per client, and stops the load generators and the servers.
 */
export async function drainAndCollect(cfg: ChaosConfig, drill: Drill, at: { endAt: number; giveUpAt: number }, log: (line: string) => void): Promise<Collected> {
  const { load } = drill;
  const drainDeadline = at.giveUpAt + cfg.drainSeconds * 1000;
  let lastApplied = -1;
  let quietSince = nowMs();
  for (;;) {
    await sleep(250);
    const p = await load.progress();
    if (p.applied !== lastApplied) {
      lastApplied = p.applied;
      quietSince = nowMs();
    }
    const settled = p.unsettled === 0 && p.held === 0 && p.syncing === 0 && p.connected === drill.conns.length;
    if (settled && nowMs() - quietSince >= QUIET_MS) break;
    if (nowMs() > drainDeadline) {
      log(`drain deadline: ${p.unsettled} sends unsettled, ${p.held} events held, ${p.syncing} syncing, ${p.connected} connected`);
      break;
    }
  }
  const drainSeconds = +((nowMs() - at.endAt) / 1000).toFixed(1);
  const reports = await load.ask<ChaosReport>({ type: 'collect' }, 'collected', 120_000);
  const stored = await readStoredState(drill.statsClient, drill.channelIds);
  const finals = await load.ask<ChaosFinalSync>({ type: 'finalSync' }, 'finalSynced', 300_000);
  await load.ask({ type: 'close' }, '', 3000).catch(() => {});
  await Promise.all(drill.loaders.map((lc) => lc.stop()));
  await drill.side.stop();
  return { reports, finals, stored, drainSeconds };
}
