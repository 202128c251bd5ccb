/**
 * `npm run bench:chat`: chat fan-out, Edulure against a bare Socket.IO baseline measured in the same run.
 *
 *   (a) baseline: 2 processes of Socket.IO 4.8 + @socket.io/redis-adapter (bench/chat/baselineServer.ts) — join a
 *       room, broadcast to it, ack; no auth, no persistence;
 *   (b) Edulure: 2 processes of server/main.ts sharing one embedded PostgreSQL and one Redis — the full path
 *       (handshake auth, validation, rate limiters, authorization, seq allocation and insert in a transaction,
 *       broadcast after commit).
 *
 * The same load generator (bench/chat/loadClient.ts, separate processes) drives both: BENCH_CONNECTIONS clients
 * (default 5000) spread over both nodes, rooms of 20 with members on both nodes, an open-loop message rate stepped
 * upward (the two sides alternate step by step, both staying connected); each message's sender is a random member
 * of a random room. Latency is measured at every receiver from the scheduled send time carried in the body. The
 * sender's own copy is delivered by both servers but not counted: a message's expected deliveries are its room's
 * members minus the sender. A side stops climbing at its first step with p99 over the threshold or reach below 1.
 *
 * Prints a table and writes bench/results/chat-<date>[-suffixes][-N].json (-quick with BENCH_QUICK=1; BENCH_NODES=1
 * puts every connection on one node, -1-node).
 */
import { chmod, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { EmbeddedPostgres } from '../orm/database.ts';
import { loadChatBenchConfig } from './chat/config.ts';
import { findPostmasterPid, sleep, startRedis, stopAll, type RedisHandle } from './chat/processes.ts';
import { compare, printSteps } from './chat/report.ts';
import { benchCleanup, commandLine, ensureFileLimit, exitWhenDone, machineInfo, sourceState, startDatabase, writeResultFile } from './setup.ts';
import { backgroundOf, buildConnections, finishSide, ladderStep, prepareSide, type CpuSources, type PreparedSide, type SideResult } from './chat/runSide.ts';
import { summarizeProfiles, type ProfileSummary } from './chat/profiles.ts';
import { seedChatBench } from './chat/seed.ts';
import { startBaselineSide, startEdulureSide, type RunningSide } from './chat/sides.ts';

const cfg = loadChatBenchConfig();
const log = (line: string) => process.stdout.write(`[bench:chat] ${line}\n`);

/**
 * The mentions stored over the run and the notifications they made, once the notification jobs have drained (the
 * count holds still for 2 s, at most 60 s): exactly one per mention is the product's promise.
 */
async function mentionNotifications(client: pg.Client): Promise<{ mentions: number; notifications: number }> {
  const read = async () => {
    const { rows } = await client.query<{ mentions: string; notifications: string }>(
      `select (select count(*) from message_mentions) as mentions, (select count(*) from notifications where kind = 'mention') as notifications`,
    );
    return { mentions: Number(rows[0]!.mentions), notifications: Number(rows[0]!.notifications) };
  };
  let last = await read();
  for (let waited = 0; waited < 60_000; waited += 2_000) {
    await sleep(2_000);
    const now = await read();
    if (now.notifications === last.notifications && now.notifications >= now.mentions) return now;
    last = now;
  }
  return last;
}

function pgStatsOf(client: pg.Client): NonNullable<CpuSources['pgStats']> {
  return {
    async reset() {
      await client.query('select pg_stat_statements_reset()');
    },
    async commits() {
      const { rows } = await client.query<{ n: string }>(`select coalesce(sum(calls), 0) as n from pg_stat_statements where query ilike 'commit%'`);
      return Number(rows[0]!.n);
    },
    async snapshot() {
      const { rows } = await client.query<{ queryid: string; query: string; calls: string; total_ms: number }>(
        `select queryid::text, query, calls, total_exec_time + total_plan_time as total_ms from pg_stat_statements
         where dbid = (select oid from pg_database where datname = current_database()) and query not ilike '%pg_stat%'`,
      );
      return new Map(rows.map((r) => [r.queryid, { query: r.query.replace(/\s+/g, ' ').slice(0, 90), calls: Number(r.calls), totalMs: r.total_ms }]));
    },
    async wal() {
      const { rows } = await client.query<{ fsyncs: string | null; fsync_ms: number | null; writes: string | null; write_ms: number | null }>(
        `select sum(fsyncs) as fsyncs, sum(fsync_time) as fsync_ms, sum(writes) as writes, sum(write_time) as write_ms from pg_stat_io where object = 'wal'`,
      );
      const r = rows[0]!;
      return { fsyncs: Number(r.fsyncs ?? 0), fsyncMs: Number(r.fsync_ms ?? 0), writes: Number(r.writes ?? 0), writeMs: Number(r.write_ms ?? 0) };
    },
    async top(messages: number) {
      const { rows } = await client.query<{ query: string; calls: string; total_ms: number; mean_ms: number; plan_ms: number }>(
        `select query, calls, total_exec_time + total_plan_time as total_ms, (total_exec_time + total_plan_time) / greatest(calls, 1) as mean_ms,
                total_plan_time as plan_ms
         from pg_stat_statements
         where dbid = (select oid from pg_database where datname = current_database()) and query not ilike '%pg_stat%'
         order by total_exec_time + total_plan_time desc limit 12`,
      );
      return rows.map((r) => ({
        query: r.query.replace(/\s+/g, ' ').slice(0, 160),
        calls: Number(r.calls),
        callsPerMessage: +(Number(r.calls) / Math.max(1, messages)).toFixed(2),
        totalMs: +r.total_ms.toFixed(1),
        meanMs: +r.mean_ms.toFixed(3),
        planMs: +r.plan_ms.toFixed(1),
      }));
    },
  };
}

/** Which server code was measured: others may be editing the tree while the bench runs. */
async function main() {
  // Each server and load generator holds about half the sockets.
  ensureFileLimit(cfg.connections + 2048, log);
  const started = Date.now();
  const source = sourceState();
  const loadAverageAtStart = os.loadavg().map((v) => +v.toFixed(2));
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'edulure-bench-chat-'));
  await chmod(dataDir, 0o755);
  const db: { current?: EmbeddedPostgres; starting?: Promise<unknown> } = {};
  let redis: RedisHandle | undefined;
  const running: RunningSide[] = [];
  let statsClient: pg.Client | undefined;
  const cleanup = benchCleanup({
    dataDir,
    db,
    log,
    stopFirst: async () => {
      await Promise.all(running.map((r) => r.stop().catch(() => {})));
      await stopAll();
      await statsClient?.end().catch(() => {});
      await redis?.stop().catch(() => {});
    },
  });

  try {
    log(
      `${cfg.connections} connections, rooms of ${cfg.roomSize}, communities of ${cfg.communitySize}, ` +
        `rates ${cfg.rates.join(', ')} msg/s, ${cfg.stepSeconds} s per step`,
    );
    redis = await startRedis();
    const runTag = Date.now().toString(36);
    const profileDir = cfg.cpuProfile || cfg.heapProfile ? await mkdtemp(path.join(os.tmpdir(), 'edulure-chat-profiles-')) : undefined;
    if (profileDir) log(`profiles and snapshots go to ${profileDir}`);
    const redisIsOurs = !process.env.REDIS_URL;
    const prepared: { baseline?: PreparedSide; edulure?: PreparedSide } = {};

    // Both sides are brought up and connected one after the other (each measured while the other sits idle),
    // then stay up so the ladder can alternate them step by step: on a shared machine, background load then
    // falls on both sides alike instead of on whichever side happened to run during it.
    if (cfg.sides.includes('baseline')) {
      const side = await startBaselineSide({ redisUrl: redis.url, nodes: cfg.nodes, runTag });
      running.push(side);
      log(`baseline up on ${side.urls.join(', ')}`);
      prepared.baseline = await prepareSide(cfg, side, buildConnections(cfg), { redis, redisIsOurs }, log, { profileDir, background: { pids: [] } });
    }
    if (cfg.sides.includes('edulure')) {
      const starting = startDatabase(dataDir, db, { statistics: true });
      db.starting = starting;
      const database = await starting;
      const jwtKey = { kid: 'bench', secret: `bench-${crypto.randomUUID()}-${crypto.randomUUID()}` };
      const data = await seedChatBench(database.url, {
        users: cfg.connections,
        roomSize: cfg.roomSize,
        communitySize: cfg.communitySize,
        jwtKey,
        tokenTtlSeconds: 3600,
      });
      log(`seeded ${data.userIds.length} users, ${data.channelIds.length} channels, communities of ${cfg.communitySize}`);
      const side = await startEdulureSide({
        databaseUrl: database.url,
        redisUrl: redis.url,
        nodes: cfg.nodes,
        jwtKeys: `${jwtKey.kid}:${jwtKey.secret}`,
        dataDir,
        runTag,
      });
      running.push(side);
      log(`edulure up on ${side.urls.join(', ')}`);
      statsClient = new pg.Client({ connectionString: database.url });
      await statsClient.connect();
      await statsClient.query('create extension if not exists pg_stat_statements');
      const cpu: CpuSources = { redis, redisIsOurs, postmasterPid: findPostmasterPid(), pgStats: pgStatsOf(statsClient) };
      prepared.edulure = await prepareSide(cfg, side, buildConnections(cfg, data), cpu, log, { profileDir, background: backgroundOf(prepared.baseline) });
    }

    // Redis commands slower than 1 ms during the ladder (both sides share this Redis; they take turns).
    const slowlogOn = await redis.resetSlowlog(1000).catch(() => false);
    for (const [i, rate] of cfg.rates.entries()) {
      // Alternate which side goes first, so neither always follows the other's heaviest step.
      const order = i % 2 === 0 ? (['baseline', 'edulure'] as const) : (['edulure', 'baseline'] as const);
      for (const name of order) {
        const side = prepared[name];
        if (!side || side.done) continue;
        await ladderStep(cfg, side, i, rate, backgroundOf(prepared[name === 'baseline' ? 'edulure' : 'baseline']), log);
      }
      if (Object.values(prepared).every((s) => s.done)) break;
    }

    const redisSlowlog = slowlogOn ? await redis.slowlog() : undefined;
    const results: Record<string, SideResult> = {};
    const profiles: Record<string, ProfileSummary[]> = {};
    for (const name of ['baseline', 'edulure'] as const) {
      const side = prepared[name];
      if (!side) continue;
      results[name] = await finishSide(cfg, side, { profileDir });
      if (cfg.cpuProfile && profileDir) profiles[name] = (await summarizeProfiles(profileDir)).filter((p) => path.basename(p.file).startsWith(name));
    }
    const notifications = statsClient && cfg.mentionEvery > 0 ? await mentionNotifications(statsClient) : undefined;
    if (notifications) log(`mentions: ${notifications.mentions} stored, ${notifications.notifications} mention notifications (exactly one each expected)`);
    await Promise.all(running.map((r) => r.stop()));
    running.length = 0;

    const sides = Object.values(results);
    printSteps(sides);
    const comparison = results.baseline && results.edulure ? compare(cfg, results.baseline, results.edulure) : undefined;
    if (comparison) {
      console.log('ratios (edulure / baseline):', comparison.ratios);
      for (const [name, t] of Object.entries(comparison.targets)) console.log(`target ${name}: ${t.met === null ? 'INCONCLUSIVE' : t.met ? 'MET' : 'NOT MET'} —`, JSON.stringify(t));
    }
    if (results.edulure?.pgTopStatements) {
      console.log('PostgreSQL, top statements by total time over the Edulure ladder (primers included):');
      console.table(results.edulure.pgTopStatements);
      if (results.edulure.pgWal) console.log('PostgreSQL WAL over the Edulure ladder (primers included):', results.edulure.pgWal);
    }
    if (redisSlowlog?.length) {
      console.log('Redis commands slower than 1 ms during the ladder:');
      console.table(redisSlowlog.slice(0, 10));
    }

    for (const [name, summaries] of Object.entries(profiles)) {
      for (const summary of summaries) {
        const phase = summary.file.endsWith('-connect.cpuprofile') ? 'while connecting and joining' : 'over the measured steps';
        console.log(`CPU profile ${summary.file} (${summary.totalMs} ms of CPU ${phase}, idle excluded):`);
        const list = (title: string, rows: { name: string; ms: number; percent: number }[]) =>
          console.log(`  ${title}: ${rows.slice(0, 10).map((r) => `${r.percent}% ${r.name}`).join(' | ')}`);
        list('self time by module', summary.byModule);
        list('by innermost package/project caller', summary.byCaller);
        list('project functions (inclusive, synchronous)', summary.projectFunctions);
      }
      if (!summaries.length) log(`${name}: no CPU profile was written`);
    }

    // On a shared machine other tenants' CPU shows up as `other`; say so when it may have moved the figures.
    const busySteps = Object.values(results).flatMap((r) => r.steps.filter((s) => s.cpuPercent.other > 25).map((s) => `${r.side}@${s.rate}`));
    const contention = busySteps.length
      ? `other processes used more than 25% of a core during ${busySteps.length} step(s) (${busySteps.join(', ')}): figures there are pessimistic`
      : null;
    if (contention) log(`WARNING: ${contention}`);

    const date = new Date().toISOString();
    const result = {
      benchmark: 'chat-fanout',
      date,
      command: commandLine('bench:chat'),
      contention,
      machine: machineInfo(loadAverageAtStart),
      source,
      config: {
        ...cfg,
        rooms: Math.ceil(cfg.connections / cfg.roomSize),
        deliveriesCounted: 'room members other than the sender (the sender also receives its own message on both sides; not counted)',
        latency: 'e2e: receipt at each receiver minus the scheduled send time; ack: ack at the sender minus the scheduled send time',
        heapPerConnection:
          'heapUsed after a forced GC in each server, read with 0, half and all clients connected and joined; per connection = growth from half to all / connections added (marginal); the figure including warm-up divides growth from 0 by all connections',
      },
      ...results,
      ...(redisSlowlog ? { redisSlowlog } : {}),
      ...(notifications ? { notifications } : {}),
      ...(comparison ?? {}),
      ...(profileDir ? { cpuProfiles: profiles, note: 'profiled run (BENCH_CPU_PROFILE / BENCH_HEAP_PROFILE): profiling slows the servers; for diagnosis, not the record' } : {}),
      seconds: Math.round((Date.now() - started) / 1000),
    };
    // Anything but the default full run gets a suffix, so a diagnostic run never overwrites the record of the day.
    const suffix = [
      cfg.quick ? '-quick' : '',
      cfg.sides.length === 1 ? `-${cfg.sides[0]}-only` : '',
      cfg.communitySize !== cfg.roomSize ? `-community${cfg.communitySize}` : '',
      cfg.nodes !== 2 ? `-${cfg.nodes}-node` : '',
      profileDir ? '-profiled' : '',
    ].join('');
    const file = await writeResultFile(`chat-${date.slice(0, 10)}${suffix}`, result);
    log(`written ${path.relative(process.cwd(), file)} after ${result.seconds} s`);
  } finally {
    await cleanup();
  }
}

exitWhenDone('bench:chat', main());
