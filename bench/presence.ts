/**
 * `npm run bench:presence`: presence for big communities, two scenarios against the same 2 Edulure nodes
 * (server/main.ts, one embedded PostgreSQL, one Redis) in one run:
 *
 *   1. communities of 20: BENCH_PRESENCE_USERS users (default 5,000) in communities of 20 members; each client shows
 *      (presence:watch) its 19 community mates;
 *   2. one community: as many other users, all members of one community; each client shows the first 20 members of
 *      the member list (the same for everyone) and 5 other members at random (a DM list).
 *
 * In each, every client connects (fixed concurrency, half on each node) and sends presence:watch once connected. The
 * bench measures the time until every client is connected and watching, until presence settles (no presence:updated
 * for 2 s), the presence:updated each client received — any about someone it neither watches nor is, is a leak —
 * then CPU with everyone connected and silent (BENCH_IDLE_SECONDS, default 20). Everyone disconnects, and the nodes
 * go quiet, before the next scenario. BENCH_ROUNDS > 1 repeats both, alternating which goes first.
 *
 * Targets: one-community connect time <= 1.5x communities-of-20; 0 leaks; idle CPU <= 1 % per node.
 * Prints a table and writes bench/results/presence-<date>[-quick][-profiled][-N].json. BENCH_QUICK=1: 500 users.
 * BENCH_CPU_PROFILE=1: each node records a CPU profile of the idle windows, summarised after the table (diagnosis).
 */
import { chmod, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EmbeddedPostgres } from '../orm/database.ts';
import { findPostmasterPid, sleep, startRedis, stopAll, type RedisHandle } from './chat/processes.ts';
import { summarizeProfiles } from './chat/profiles.ts';
import { seedChatBench } from './chat/seed.ts';
import { startEdulureSide, type RunningSide } from './chat/sides.ts';
import { loadPresenceBenchConfig } from './presence/config.ts';
import { evaluate, printTable } from './presence/report.ts';
import { measureIdleWithoutClients, runScenario, type ScenarioResult } from './presence/runScenario.ts';
import { buildScenario, orderOfRound, type Scenario, type ScenarioName } from './presence/scenarios.ts';
import { benchCleanup, ensureFileLimit, exitWhenDone, machineInfo, sourceState, startDatabase, writeResultFile } from './setup.ts';

const cfg = loadPresenceBenchConfig();
const log = (line: string) => process.stdout.write(`[bench:presence] ${line}\n`);

function commandLine(): string {
  const vars = Object.entries(process.env)
    .filter(([k, v]) => k.startsWith('BENCH_') && k !== 'BENCH_ULIMIT_RAISED' && v)
    .map(([k, v]) => `${k}=${v}`);
  return [...vars, 'npm run bench:presence'].join(' ');
}


async function main() {
  ensureFileLimit(cfg.users + 2048, log);
  const started = Date.now();
  const source = sourceState();
  const loadAverageAtStart = os.loadavg().map((v) => +v.toFixed(2));
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'edulure-bench-presence-'));
  await chmod(dataDir, 0o755);
  const db: { current?: EmbeddedPostgres; starting?: Promise<unknown> } = {};
  let redis: RedisHandle | undefined;
  let side: RunningSide | undefined;
  const cleanup = benchCleanup({
    dataDir,
    db,
    log,
    stopFirst: async () => {
      await side?.stop().catch(() => {});
      await stopAll();
      await redis?.stop().catch(() => {});
    },
  });

  try {
    log(
      `${cfg.users} users per scenario, ${cfg.rounds} round(s), connect concurrency ${cfg.connectConcurrency} over ${cfg.loadProcesses} load generators, ` +
        `idle ${cfg.idleSeconds} s`,
    );
    redis = await startRedis();
    const starting = startDatabase(dataDir, db);
    db.starting = starting;
    const database = await starting;
    const jwtKey = { kid: 'bench', secret: `bench-${crypto.randomUUID()}-${crypto.randomUUID()}` };
    // Each scenario has its own users, so the small communities' members are not also members of the big one.
    const seed = (communitySize: number) =>
      seedChatBench(database.url, { users: cfg.users, roomSize: cfg.smallCommunitySize, communitySize, jwtKey, tokenTtlSeconds: 4 * 3600 });
    const scenarios = new Map<ScenarioName, Scenario>([
      ['communities-of-20', buildScenario(cfg, 'communities-of-20', await seed(cfg.smallCommunitySize))],
      ['one-community', buildScenario(cfg, 'one-community', await seed(cfg.users))],
    ]);
    log(`seeded ${cfg.users} users in communities of ${cfg.smallCommunitySize} and ${cfg.users} in one community`);

    side = await startEdulureSide({
      databaseUrl: database.url,
      redisUrl: redis.url,
      nodes: cfg.nodes,
      jwtKeys: `${jwtKey.kid}:${jwtKey.secret}`,
      dataDir,
      runTag: Date.now().toString(36),
    });
    log(`edulure up on ${side.urls.join(', ')}`);
    const profileDir = cfg.cpuProfile ? await mkdtemp(path.join(os.tmpdir(), 'edulure-presence-profiles-')) : undefined;
    if (profileDir) log(`idle CPU profiles go to ${profileDir}`);
    const infra = { side, redis, redisIsOurs: !process.env.REDIS_URL, postmasterPid: findPostmasterPid() };
    // The nodes settle after start (migrations check, pools, first heartbeats) before anything is measured.
    await sleep(2000);

    // What the nodes cost with nobody connected (worker polling, presence heartbeats, timers): the floor under the
    // idle figures with clients.
    const idleWithoutClients = await measureIdleWithoutClients(infra, cfg.idleSeconds);
    log(`idle with no clients: cpu% nodes ${idleWithoutClients.cpuPercent.servers.join('/')} pg ${idleWithoutClients.cpuPercent.postgres ?? '-'} redis ${idleWithoutClients.cpuPercent.redis} (other ${idleWithoutClients.cpuPercent.other})`);

    const results: ScenarioResult[] = [];
    for (let round = 0; round < cfg.rounds; round++) {
      for (const name of orderOfRound(round)) results.push(await runScenario(cfg, infra, scenarios.get(name)!, round, log, { profileDir }));
    }
    await side.stop();
    side = undefined;
    const profiles = profileDir ? await summarizeProfiles(profileDir) : undefined;

    printTable(results);
    const { ratios, targets } = evaluate(cfg, results);
    console.log('ratios (one community / communities of 20):', ratios);
    for (const [name, t] of Object.entries(targets)) console.log(`target ${name}: ${t.met === null ? 'INCONCLUSIVE' : t.met ? 'MET' : 'NOT MET'} —`, JSON.stringify(t));
    const leakExamples = results.flatMap((r) => r.deliveries.leakExamples.map(([client, about]) => ({ scenario: r.scenario, client, about }))).slice(0, 5);
    if (leakExamples.length) console.log('leak examples (client user → user it heard about):', leakExamples);
    for (const summary of profiles ?? []) {
      console.log(`CPU profile ${summary.file} (${summary.totalMs} ms of CPU while idle):`);
      const list = (title: string, rows: { name: string; ms: number; percent: number }[]) =>
        console.log(`  ${title}: ${rows.slice(0, 10).map((r) => `${r.percent}% ${r.name}`).join(' | ')}`);
      list('self time by module', summary.byModule);
      list('by innermost package/project caller', summary.byCaller);
      list('project functions (inclusive, synchronous)', summary.projectFunctions);
    }

    const busy = results.filter((r) => r.connectCpuPercent.other > 25 || r.idle.cpuPercent.other > 25).map((r) => `${r.scenario}#${r.round + 1}`);
    const contention = busy.length
      ? `other processes used more than 25% of a core during ${busy.join(', ')}: times there are pessimistic`
      : null;
    if (contention) log(`WARNING: ${contention}`);

    const date = new Date().toISOString();
    const result = {
      benchmark: 'presence-big-communities',
      date,
      command: commandLine(),
      contention,
      machine: machineInfo(loadAverageAtStart),
      source,
      config: {
        ...cfg,
        connectTime: 'from the first connect until every client is connected and its presence:watch answered (or failed)',
        settle: `from the first connect until the last presence:updated, followed by ${cfg.quietMs} ms without any`,
        leaks: 'presence:updated about (and presence:watch ack entries for) people the receiving client neither watches nor is',
        cpuPercent: 'of one core; the machine has os.cpus().length cores',
      },
      idleWithoutClients,
      results,
      ratios,
      targets,
      ...(profiles ? { cpuProfiles: profiles, note: 'profiled run (BENCH_CPU_PROFILE): profiling costs CPU while idle; for diagnosis, not the record' } : {}),
      seconds: Math.round((Date.now() - started) / 1000),
    };
    const file = await writeResultFile(`presence-${date.slice(0, 10)}${cfg.quick ? '-quick' : ''}${cfg.cpuProfile ? '-profiled' : ''}`, result);
    log(`written ${path.relative(process.cwd(), file)} after ${result.seconds} s`);
  } finally {
    await cleanup();
  }
}

exitWhenDone('bench:presence', main());
