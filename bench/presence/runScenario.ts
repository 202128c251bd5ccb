/**
 * One scenario against the running Edulure nodes: connect every client (fixed concurrency, spread over both nodes
 * and the load generators), each sending presence:watch right after connecting; wait until presence settles; collect
 * what every client heard; measure idle CPU with everyone connected and silent; disconnect everyone and wait until
 * the nodes are quiet again, so the next scenario starts from the same state.
 */
import path from 'node:path';
import { forkNode, machineCpuMs, probe, processCpuMs, profileServer, request, sleep, treeCpuMs, type Managed, type RedisHandle } from '../chat/processes.ts';
import { nowMs, type ProbeReply } from '../chat/protocol.ts';
import type { RunningSide } from '../chat/sides.ts';
import { distribution } from '../chat/stats.ts';
import type { PresenceBenchConfig } from './config.ts';
import { readNodeMetrics, waitForNoSockets, type NodeMetrics } from './metrics.ts';
import type { LoaderProgress, LoaderReady, LoaderReport } from './protocol.ts';
import { loaderOf, type Scenario } from './scenarios.ts';

export interface Infrastructure {
  side: RunningSide;
  redis: RedisHandle;
  /** False when REDIS_URL points at a Redis this bench did not start. */
  redisIsOurs: boolean;
  postmasterPid?: number;
}

type Distribution = ReturnType<typeof distribution>;

export interface CpuPercent {
  servers: number[];
  postgres: number | null;
  redis: number;
  loadGenerators: number[];
  /** Interrupt handling (mostly this bench's loopback traffic), charged to no process. */
  softirq: number;
  /** Process CPU on the machine not from this bench (other tenants, a test suite running alongside). */
  other: number;
}

export interface ScenarioResult {
  scenario: Scenario['name'];
  round: number;
  users: number;
  communitySize: number;
  watchedPerClient: { min: number; max: number; mean: number };
  connect: {
    /** From the first connect until every client was connected and its presence:watch answered (or failed). */
    connectedAndWatchedMs: number;
    connected: number;
    watched: number;
    perNode: number[];
    connectFailures: string[];
    watchErrors: Record<string, number>;
    watchSkipped: number;
    socketConnectMs: Distribution;
    watchAckMs: Distribution;
  };
  settle: {
    settled: boolean;
    /** From the first connect until the last presence:updated (followed by `quietMs` without any). */
    settledAfterMs: number;
    quietMs: number;
  };
  deliveries: {
    total: number;
    perClient: Distribution;
    mean: number;
    aboutThemselves: number;
    /** Updates about people the client neither watches nor is: each one a leak. */
    leaked: number;
    clientsWithLeaks: number;
    leakExamples: [string, string][];
    /** presence:watch ack entries for people the client did not ask about (leaks too). */
    ackExtras: number;
    ackEntries: number;
    /** Updates about a watched person repeating the status the client already showed (from the ack or an earlier update). */
    repeats: number;
    /** (client, watched person) pairs not shown online once settled, though everyone is connected. */
    notShownOnline: number;
    rewatches: number;
    duringIdle: number;
  };
  /** From the first connect until presence settled. */
  connectCpuPercent: CpuPercent;
  idle: { seconds: number; cpuPercent: CpuPercent; eventLoopUtilization: number[] };
  /** presence:watch as the nodes counted it (edulure_socket_events_total), by outcome, summed over nodes. */
  serverWatchEvents: Record<string, number>;
  disconnect: { socketsClosedAfterMs: number; quietAfterMs: number; quiet: boolean };
  clientDisconnects: number;
}

const pct = (ms: number, wallMs: number) => +((ms / wallMs) * 100).toFixed(2);

async function cpuSnapshot(infra: Infrastructure, loaders: Managed[]) {
  return {
    at: nowMs(),
    servers: infra.side.servers.map((s) => processCpuMs(s.child.pid!)),
    loaders: loaders.map((l) => processCpuMs(l.child.pid!)),
    postgres: infra.postmasterPid ? treeCpuMs(infra.postmasterPid) : null,
    redis: await infra.redis.cpuMs(),
    self: process.cpuUsage(),
    machine: machineCpuMs(),
  };
}
type CpuSnapshot = Awaited<ReturnType<typeof cpuSnapshot>>;

function cpuBetween(infra: Infrastructure, a: CpuSnapshot, b: CpuSnapshot): CpuPercent {
  const wall = b.at - a.at;
  const servers = b.servers.map((v, i) => v - a.servers[i]!);
  const loaders = b.loaders.map((v, i) => v - a.loaders[i]!);
  const postgres = b.postgres !== null && a.postgres !== null ? b.postgres - a.postgres : null;
  const redis = b.redis - a.redis;
  const self = (b.self.user + b.self.system - a.self.user - a.self.system) / 1000;
  const ours = [...servers, ...loaders].reduce((n, v) => n + v, 0) + (postgres ?? 0) + (infra.redisIsOurs ? redis : 0) + self;
  return {
    servers: servers.map((v) => pct(v, wall)),
    postgres: postgres === null ? null : pct(postgres, wall),
    redis: pct(redis, wall),
    loadGenerators: loaders.map((v) => pct(v, wall)),
    softirq: pct(b.machine.interrupts - a.machine.interrupts, wall),
    other: pct(Math.max(0, b.machine.processes - a.machine.processes - ours), wall),
  };
}

const progressOf = (loaders: Managed[]) =>
  Promise.all(loaders.map((l) => request<LoaderProgress>(l, { type: 'progress' }, (r) => r?.type === 'progress', 30_000)));

function watchEventDelta(before: NodeMetrics[], after: NodeMetrics[]): Record<string, number> {
  const delta: Record<string, number> = {};
  after.forEach((m, n) => {
    for (const [outcome, count] of Object.entries(m.watchEvents)) {
      const d = count - (before[n]?.watchEvents[outcome] ?? 0);
      if (d) delta[outcome] = (delta[outcome] ?? 0) + d;
    }
  });
  return delta;
}

export async function runScenario(
  cfg: PresenceBenchConfig,
  infra: Infrastructure,
  scenario: Scenario,
  round: number,
  log: (line: string) => void,
  options: { profileDir?: string } = {},
): Promise<ScenarioResult> {
  const { side } = infra;
  const tag = `${scenario.name} (round ${round + 1})`;
  const loaders = Array.from({ length: cfg.loadProcesses }, (_, k) =>
    forkNode(`presence-load-${k}`, path.join(import.meta.dirname, 'loadClient.ts'), {}, { probe: false }),
  );
  try {
    const metricsBefore = await readNodeMetrics(side.urls);
    const cpuStart = await cpuSnapshot(infra, loaders);
    const startedAt = nowMs();
    const shares = loaders.map((_, k) => Math.floor(cfg.connectConcurrency / cfg.loadProcesses) + (k < cfg.connectConcurrency % cfg.loadProcesses ? 1 : 0));
    const connecting = Promise.all(
      loaders.map((l, k) =>
        request<LoaderReady>(
          l,
          {
            type: 'init',
            urls: side.urls,
            userIds: scenario.userIds,
            clients: scenario.clients.filter((c) => loaderOf(cfg, c.user) === k),
            concurrency: shares[k],
            ackTimeoutMs: cfg.ackTimeoutMs,
            unansweredLimit: cfg.unansweredLimit,
          },
          (r) => r?.type === 'ready',
          cfg.connectTimeoutSeconds * 1000,
        ).catch((err: Error) => {
          throw new Error(`${tag}: clients were not all connected and watching within ${cfg.connectTimeoutSeconds} s: ${err.message}`);
        }),
      ),
    );
    // Progress while connecting, so a slow run says where it is.
    let finished = false;
    const reporter = (async () => {
      for (let waited = 0; !finished; waited += 250) {
        await sleep(250);
        if (finished || waited % 10_000 !== 0 || waited === 0) continue;
        const p = await progressOf(loaders).catch(() => []);
        log(`${tag}: ${p.reduce((n, x) => n + x.connected, 0)} connected, ${p.reduce((n, x) => n + x.watched, 0)} watching, ${p.reduce((n, x) => n + x.updates, 0)} updates so far`);
      }
    })();
    const ready = await connecting.finally(() => (finished = true));
    await reporter;
    const readyAt = Math.max(...ready.map((r) => r.doneAt));
    const connected = ready.reduce((n, r) => n + r.connected, 0);
    const watched = ready.reduce((n, r) => n + r.watched, 0);
    const watchErrors: Record<string, number> = {};
    for (const r of ready) for (const [code, count] of Object.entries(r.watchErrors)) watchErrors[code] = (watchErrors[code] ?? 0) + count;
    const watchSkipped = ready.reduce((n, r) => n + r.watchSkipped, 0);
    const connectFailures = ready.flatMap((r) => r.connectFailures).slice(0, 20);
    log(`${tag}: ${connected}/${scenario.clients.length} connected, ${watched} watching after ${((readyAt - startedAt) / 1000).toFixed(1)} s`);
    if (connectFailures.length) log(`${tag}: connect failures: ${connectFailures.slice(0, 3).join('; ')}`);
    if (Object.keys(watchErrors).length || watchSkipped) {
      log(
        `${tag}: presence:watch failed: ${JSON.stringify(watchErrors)}${watchSkipped ? `, not sent by ${watchSkipped} clients after ${cfg.unansweredLimit} unanswered in a row` : ''}` +
          (watchErrors.ack_timeout ? ` — no ack within ${cfg.ackTimeoutMs} ms: does the server handle presence:watch (realtime/handlers/presence.ts)?` : ''),
      );
    }

    // Settled: no presence:updated anywhere for quietMs.
    let lastUpdateAt = 0;
    let settled = false;
    let updatesAtSettle = 0;
    for (;;) {
      const progress = await progressOf(loaders);
      lastUpdateAt = Math.max(lastUpdateAt, ...progress.map((p) => p.lastUpdateAt));
      updatesAtSettle = progress.reduce((n, p) => n + p.updates, 0);
      const quietSince = Math.max(lastUpdateAt, readyAt);
      if (nowMs() - quietSince >= cfg.quietMs) {
        settled = true;
        break;
      }
      if (nowMs() - readyAt > cfg.settleTimeoutSeconds * 1000) break;
      await sleep(200);
    }
    const settledAt = Math.max(lastUpdateAt, readyAt);
    const cpuSettled = await cpuSnapshot(infra, loaders);
    log(`${tag}: presence ${settled ? 'settled' : `still arriving after ${cfg.settleTimeoutSeconds} s`} ${((settledAt - startedAt) / 1000).toFixed(1)} s after the first connect; ${updatesAtSettle} presence:updated received`);
    const reports = await Promise.all(loaders.map((l) => request<LoaderReport>(l, { type: 'collect' }, (r) => r?.type === 'collected', 60_000)));

    // Idle: everyone connected and silent.
    if (options.profileDir) await Promise.all(side.servers.map((s) => profileServer(s, 'start')));
    const idleFrom = await cpuSnapshot(infra, loaders);
    const eluFrom = await Promise.all(side.servers.map((s) => probe(s, false)));
    await sleep(cfg.idleSeconds * 1000);
    const idleTo = await cpuSnapshot(infra, loaders);
    const eluTo = await Promise.all(side.servers.map((s) => probe(s, false)));
    if (options.profileDir) {
      const file = (name: string) => path.join(options.profileDir!, `${name}-${scenario.name}-round${round + 1}-idle.cpuprofile`);
      await Promise.all(side.servers.map((s) => profileServer(s, 'stop', file(s.name))));
    }
    const afterIdle = await progressOf(loaders);
    const idleCpu = cpuBetween(infra, idleFrom, idleTo);
    const elu = (a: ProbeReply, b: ProbeReply) => {
      const active = b.elu.active - a.elu.active;
      return +(active / (active + b.elu.idle - a.elu.idle)).toFixed(4);
    };
    log(`${tag}: idle with ${connected} connected: cpu% nodes ${idleCpu.servers.join('/')} pg ${idleCpu.postgres ?? '-'} redis ${idleCpu.redis} (other ${idleCpu.other})`);
    const metricsAfter = await readNodeMetrics(side.urls);

    // Everyone leaves; the next scenario starts once the nodes have announced it and gone quiet.
    const closingAt = nowMs();
    await Promise.all(loaders.map((l) => request(l, { type: 'close' }, (r) => r?.type === 'closed', 30_000)));
    const socketsClosed = await waitForNoSockets(side.urls, 60_000);
    const socketsClosedAt = nowMs();
    const quiet = await waitForQuiet(infra, 60_000);
    const quietAt = nowMs();
    log(`${tag}: disconnected; sockets closed after ${((socketsClosedAt - closingAt) / 1000).toFixed(1)} s, nodes quiet after ${((quietAt - closingAt) / 1000).toFixed(1)} s`);
    if (!socketsClosed) log(`${tag}: WARNING: the nodes still count open sockets 60 s after the clients closed them`);
    if (!quiet) log(`${tag}: WARNING: the nodes were not quiet within 60 s of the disconnect; the next scenario may overlap`);

    const perClient = reports.map((r) => Float64Array.from(r.updatesPerClient));
    const total = reports.reduce((n, r) => n + r.updatesPerClient.reduce((a, b) => a + b, 0), 0);
    const leaked = reports.reduce((n, r) => n + r.leaksPerClient.reduce((a, b) => a + b, 0), 0);
    const watchCounts = scenario.clients.map((c) => c.watch.length);
    return {
      scenario: scenario.name,
      round,
      users: scenario.clients.length,
      communitySize: scenario.communitySize,
      watchedPerClient: {
        min: Math.min(...watchCounts),
        max: Math.max(...watchCounts),
        mean: +(watchCounts.reduce((a, b) => a + b, 0) / watchCounts.length).toFixed(2),
      },
      connect: {
        connectedAndWatchedMs: Math.round(readyAt - startedAt),
        connected,
        watched,
        perNode: side.urls.map((_, n) => scenario.clients.filter((c) => c.node === n).length),
        connectFailures,
        watchErrors,
        watchSkipped,
        socketConnectMs: distribution(reports.map((r) => r.connectMs)),
        watchAckMs: distribution(reports.map((r) => r.watchMs)),
      },
      settle: { settled, settledAfterMs: Math.round(settledAt - startedAt), quietMs: cfg.quietMs },
      deliveries: {
        total,
        perClient: distribution(perClient),
        mean: +(total / scenario.clients.length).toFixed(2),
        aboutThemselves: reports.reduce((n, r) => n + r.selfPerClient.reduce((a, b) => a + b, 0), 0),
        leaked,
        clientsWithLeaks: reports.reduce((n, r) => n + r.leaksPerClient.filter((v) => v > 0).length, 0),
        leakExamples: reports.flatMap((r) => r.leakExamples).slice(0, 5),
        ackExtras: reports.reduce((n, r) => n + r.ackExtras, 0),
        ackEntries: reports.reduce((n, r) => n + r.ackEntries, 0),
        repeats: reports.reduce((n, r) => n + r.repeats, 0),
        notShownOnline: reports.reduce((n, r) => n + r.notShownOnline, 0),
        rewatches: reports.reduce((n, r) => n + r.rewatches, 0),
        duringIdle: afterIdle.reduce((n, p) => n + p.updates, 0) - updatesAtSettle,
      },
      connectCpuPercent: cpuBetween(infra, cpuStart, cpuSettled),
      idle: { seconds: cfg.idleSeconds, cpuPercent: idleCpu, eventLoopUtilization: eluTo.map((b, n) => elu(eluFrom[n]!, b)) },
      serverWatchEvents: watchEventDelta(metricsBefore, metricsAfter),
      disconnect: {
        socketsClosedAfterMs: Math.round(socketsClosedAt - closingAt),
        quietAfterMs: Math.round(quietAt - closingAt),
        quiet: quiet && socketsClosed,
      },
      clientDisconnects: reports.reduce((n, r) => n + r.disconnects, 0),
    };
  } finally {
    await Promise.all(loaders.map((l) => l.stop()));
  }
}

/** CPU of the nodes, PostgreSQL and Redis over `seconds` with no client connected: what a node costs by itself. */
export async function measureIdleWithoutClients(infra: Infrastructure, seconds: number) {
  const from = await cpuSnapshot(infra, []);
  await sleep(seconds * 1000);
  const { servers, postgres, redis, other } = cpuBetween(infra, from, await cpuSnapshot(infra, []));
  return { seconds, cpuPercent: { servers, postgres, redis, other } };
}

/**
 * Quiet: two 1 s windows in a row in which no node spends more than 2 % of a core and Redis no more than 2 %: the
 * offline announcements are out and the presence store has settled.
 */
async function waitForQuiet(infra: Infrastructure, timeoutMs: number): Promise<boolean> {
  const deadline = nowMs() + timeoutMs;
  let quietWindows = 0;
  let from = await cpuSnapshot(infra, []);
  while (nowMs() < deadline) {
    await sleep(1000);
    const to = await cpuSnapshot(infra, []);
    const cpu = cpuBetween(infra, from, to);
    from = to;
    quietWindows = cpu.servers.every((v) => v <= 2) && cpu.redis <= 2 ? quietWindows + 1 : 0;
    if (quietWindows >= 2) return true;
  }
  return false;
}
