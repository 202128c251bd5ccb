/**
 * One side of the chat bench, in three parts so the orchestrator can alternate the sides step by step on a shared
 * machine: `prepareSide` connects every client through the load-generator processes (reading heap per connection on
 * the way), measures the idle cost and warms up; `ladderStep` runs one message rate; `finishSide` collects the
 * PostgreSQL figures and profiles and closes the generators. Both sides go through exactly this code.
 */
import path from 'node:path';
import type { ChatBenchConfig } from './config.ts';
import { heapGrowthPerConnection } from './heapSnapshots.ts';
import { forkNode, heapSnapshot, probe, processCpuMs, profileServer, request, sleep, treeCpuMs, type Managed } from './processes.ts';
import type { ConnSpec, InitReport, ProbeReply } from './protocol.ts';
import type { RunningSide } from './sides.ts';
import { ownerOf, runStep, type Background, type CpuSources, type StepResult } from './step.ts';

export type { CpuSources, StepResult } from './step.ts';

export interface SideResult {
  side: string;
  connections: {
    requested: number;
    connected: number;
    joined: number;
    /** Time to connect and join each half of the clients (heap reads in between not included). */
    connectSecondsPerHalf: number[];
    perNode: number[];
  };
  heap: {
    /** Per node, at 0, half and all connections: heapUsed and RSS after a forced GC. */
    perNode: { heapUsed: number[]; rss: number[]; connections: number[] }[];
    /** Marginal: (heap at all − heap at half) / connections added, summed over nodes. The headline figure. */
    heapPerConnectionBytes: number;
    /** (heap at all − heap with none) / all connections: includes one-off warm-up of the connect path. */
    heapPerConnectionIncludingWarmupBytes: number;
    rssPerConnectionBytes: number;
    metricsHeapUsedAfter?: (number | null)[];
    /** BENCH_HEAP_PROFILE: node 0's heap growth per connection (second half), by constructor / closure name. */
    snapshotGrowthNode0?: Awaited<ReturnType<typeof heapGrowthPerConnection>>;
  };
  /** CPU (% of one core) with every client connected and joined but no messages. */
  idleCpuPercent: { servers: number[]; postgres: number | null; redis: number };
  steps: StepResult[];
  stoppedBecause: string;
  pgTopStatements?: unknown[];
  /** Edulure: WAL writes and fsyncs over the ladder, primers included (pg_stat_io; reported with up to ~1 s delay). */
  pgWal?: { messages: number; fsyncs: number; fsyncsPerMessage: number; meanFsyncMs: number; writes: number; meanWriteMs: number };
}

export interface PreparedSide {
  running: RunningSide;
  loaders: Managed[];
  cpu: CpuSources;
  result: SideResult;
  /** Set once a step failed: the side takes no further steps. */
  done: boolean;
  /** Messages sent by primers (unrecorded, but they reach PostgreSQL like the others). */
  primerMessages: number;
  walBefore?: Awaited<ReturnType<NonNullable<CpuSources['pgStats']>['wal']>>;
}

const cpuPercent = (ms: number, wallMs: number) => +((ms / wallMs) * 100).toFixed(1);

export function buildConnections(cfg: ChatBenchConfig, data?: { channelIds: string[]; tokens: string[] }): ConnSpec[] {
  return Array.from({ length: cfg.connections }, (_, index) => {
    const room = Math.floor(index / cfg.roomSize);
    return {
      index,
      // Consecutive members alternate between the nodes, so every room has members on both.
      node: index % cfg.nodes,
      room,
      position: index % cfg.roomSize,
      channelId: data?.channelIds[room],
      token: data?.tokens[index],
    };
  });
}

/** The processes of a prepared side, as background for the other side's steps. */
export function backgroundOf(side: PreparedSide | undefined): Background {
  if (!side) return { pids: [] };
  return {
    pids: [...side.running.servers, ...side.loaders].map((m) => m.child.pid!),
    ...(side.cpu.postmasterPid ? { postmasterPid: side.cpu.postmasterPid } : {}),
  };
}

export async function prepareSide(
  cfg: ChatBenchConfig,
  running: RunningSide,
  conns: ConnSpec[],
  cpu: CpuSources,
  log: (line: string) => void,
  options: { profileDir?: string; background: Background },
): Promise<PreparedSide> {
  const { servers } = running;
  const loaders: Managed[] = [];
  const side: PreparedSide = { running, loaders, cpu, done: false, primerMessages: 0, result: undefined as unknown as SideResult };
  await sleep(1000);
  for (let k = 0; k < cfg.loadProcesses; k++) {
    loaders.push(forkNode(`load-${running.side}-${k}`, path.join(import.meta.dirname, 'loadClient.ts'), {}, { probe: false }));
  }
  // Heap is read (after a forced GC) with no clients, with half of them and with all: the second half gives the
  // marginal cost of a connection, free of one-off warm-up (compiled code, caches, pools) that the first pays.
  const snapshotFile = (when: string) => path.join(options.profileDir!, `${servers[0]!.name}-${when}.heapsnapshot`);
  const memory = async (when: string) => {
    await sleep(2000);
    if (cfg.heapProfile) await heapSnapshot(servers[0]!, snapshotFile(when));
    return Promise.all(servers.map((s) => probe(s, true)));
  };
  const half = Math.floor(conns.length / 2);
  const phases = [conns.slice(0, half), conns.slice(half)];
  const snapshots = [await memory('none')];
  let connected = 0;
  let joined = 0;
  const connectSecondsPerHalf: number[] = [];
  if (cfg.cpuProfile) await Promise.all(servers.map((s) => profileServer(s, 'start')));
  for (const [p, phase] of phases.entries()) {
    const started = Date.now();
    const ready = await Promise.all(
      loaders.map((lc, k) =>
        request<InitReport>(
          lc,
          {
            type: 'init',
            side: running.side,
            urls: running.urls,
            conns: phase.filter((c) => ownerOf(cfg, c.index) === k),
            connectConcurrency: cfg.connectConcurrency,
            timeoutMs: 30_000,
          },
          (r) => r?.type === 'ready',
          600_000,
        ),
      ),
    );
    connectSecondsPerHalf.push(+((Date.now() - started) / 1000).toFixed(1));
    connected += ready.reduce((n, r) => n + r.connected, 0);
    joined += ready.reduce((n, r) => n + r.joined, 0);
    const failures = ready.flatMap((r) => r.failures);
    if (failures.length) throw new Error(`${running.side}: clients failed to connect or join: ${failures.slice(0, 5).join('; ')}`);
    if (p === 1 && cfg.cpuProfile) {
      await Promise.all(servers.map((s) => profileServer(s, 'stop', path.join(options.profileDir!, `${s.name}-connect.cpuprofile`))));
    }
    snapshots.push(await memory(p === 0 ? 'half' : 'all'));
  }
  log(`${running.side}: ${connected} connected, ${joined} joined (halves in ${connectSecondsPerHalf.join(' s and ')} s)`);
  if (joined !== conns.length) throw new Error(`${running.side}: only ${joined}/${conns.length} clients joined`);

  const metricsHeapUsedAfter = await running.metricsHeapUsed?.();
  let heapGrowth: Awaited<ReturnType<typeof heapGrowthPerConnection>> | undefined;
  if (cfg.heapProfile) {
    heapGrowth = await heapGrowthPerConnection(snapshotFile('half'), snapshotFile('all'), phases[1]!.filter((c) => c.node === 0).length);
    log(`${running.side}: node 0 heap growth per connection by constructor: ${heapGrowth.top.slice(0, 12).map((r) => `${r.name} ${r.bytesPerConnection} B`).join(' | ')}`);
  }
  const [none, halfway, all] = snapshots as [ProbeReply[], ProbeReply[], ProbeReply[]];
  const perNodeConns = servers.map((_, n) => conns.filter((c) => c.node === n).length);
  const heapPerNode = servers.map((_, n) => ({
    heapUsed: [none[n]!.memory.heapUsed, halfway[n]!.memory.heapUsed, all[n]!.memory.heapUsed],
    rss: [none[n]!.memory.rss, halfway[n]!.memory.rss, all[n]!.memory.rss],
    connections: [0, phases[0]!.filter((c) => c.node === n).length, perNodeConns[n]!],
  }));
  const growth = (key: 'heapUsed' | 'rss', from: 0 | 1) =>
    Math.round(heapPerNode.reduce((sum, h) => sum + h[key][2]! - h[key][from]!, 0) / (from === 0 ? conns.length : conns.length - half));
  const heap: SideResult['heap'] = {
    perNode: heapPerNode,
    heapPerConnectionBytes: growth('heapUsed', 1),
    heapPerConnectionIncludingWarmupBytes: growth('heapUsed', 0),
    rssPerConnectionBytes: growth('rss', 1),
    ...(metricsHeapUsedAfter ? { metricsHeapUsedAfter } : {}),
    ...(heapGrowth ? { snapshotGrowthNode0: heapGrowth } : {}),
  };
  log(`${running.side}: heap per connection ${heap.heapPerConnectionBytes} B marginal, ${heap.heapPerConnectionIncludingWarmupBytes} B including warm-up`);

  // Connected and idle: what holding the connections costs (pings, presence heartbeats…) before any message.
  const idleFrom = {
    servers: servers.map((s) => processCpuMs(s.child.pid!)),
    pg: cpu.postmasterPid ? treeCpuMs(cpu.postmasterPid) : null,
    redis: await cpu.redis.cpuMs(),
    at: Date.now(),
  };
  await sleep(cfg.idleSeconds * 1000);
  const idleWall = Date.now() - idleFrom.at;
  const idleCpuPercent = {
    servers: servers.map((s, n) => cpuPercent(processCpuMs(s.child.pid!) - idleFrom.servers[n]!, idleWall)),
    postgres: idleFrom.pg !== null ? cpuPercent(treeCpuMs(cpu.postmasterPid!) - idleFrom.pg, idleWall) : null,
    redis: cpuPercent((await cpu.redis.cpuMs()) - idleFrom.redis, idleWall),
  };
  log(`${running.side}: idle, connected: cpu servers ${idleCpuPercent.servers.join('/')}% pg ${idleCpuPercent.postgres ?? '-'}% redis ${idleCpuPercent.redis}%`);

  await runStep(cfg, running, loaders, cpu, options.background, 0, cfg.warmupRate, cfg.warmupSeconds);
  await cpu.pgStats?.reset();
  side.walBefore = await cpu.pgStats?.wal();
  if (cfg.cpuProfile) await Promise.all(servers.map((s) => profileServer(s, 'start')));
  side.result = {
    side: running.side,
    connections: { requested: conns.length, connected, joined, connectSecondsPerHalf, perNode: perNodeConns },
    heap,
    idleCpuPercent,
    steps: [],
    stoppedBecause: `reached the top of the ladder (${cfg.rates.at(-1)} msg/s)`,
  };
  return side;
}

/** Runs one rate on a side that has not failed yet; a failing step (p99, reach, acks, duplicates) ends its ladder. */
export async function ladderStep(cfg: ChatBenchConfig, side: PreparedSide, index: number, rate: number, background: Background, log: (line: string) => void) {
  if (side.done) return;
  // The sides take turns, so each sits idle for the other's step; a short unrecorded primer at the same rate
  // brings it back to steady state first (e.g. pg-pool closes connections idle for 10 s, reopening costs a fork).
  if (cfg.primerSeconds > 0) {
    const primer = await runStep(cfg, side.running, side.loaders, side.cpu, background, 1000 + index, rate, cfg.primerSeconds);
    side.primerMessages += primer.sent;
  }
  const step = await runStep(cfg, side.running, side.loaders, side.cpu, background, index + 1, rate, cfg.stepSeconds);
  side.result.steps.push(step);
  const c = step.cpuPercent;
  log(
    `${side.running.side.padEnd(8)} ${String(rate).padStart(5)} msg/s: reach ${step.reach.toFixed(4)}, p50 ${step.e2eMs.p50} ms, p99 ${step.e2eMs.p99} ms, ` +
      `${step.appliedMs ? `applied p99 ${step.appliedMs.p99} ms, ` : ''}ack p99 ${step.ackMs.p99} ms, lag p99 ${step.generatorLagMs.p99} ms; ` +
      `cpu% nodes ${c.servers.join('/')} pg ${c.postgres ?? '-'} redis ${c.redis} load ${c.loadGenerators.join('/')} softirq ${c.softirq} other ${c.other}`,
  );
  if (step.pgTop) {
    log(`         postgres ${step.pgExecMsPerMessage} ms planning + execution per message; top: ${step.pgTop.map((q) => `${q.meanMs} ms × ${q.callsPerMessage}/msg ${q.query.slice(0, 48)}`).join(' | ')}`);
  }
  const failedAcks = Object.values(step.ackErrors).reduce((a, b) => a + b, 0);
  if (step.reach < 1 || failedAcks > 0 || step.duplicates > 0) {
    side.done = true;
    side.result.stoppedBecause = `at ${rate} msg/s: reach ${step.reach.toFixed(4)}, ${failedAcks} failed acks, ${step.duplicates} duplicates`;
  } else if (!(step.e2eMs.p99 <= cfg.p99ThresholdMs)) {
    side.done = true;
    side.result.stoppedBecause = `at ${rate} msg/s: p99 ${step.e2eMs.p99} ms > ${cfg.p99ThresholdMs} ms`;
  }
}

export async function finishSide(cfg: ChatBenchConfig, side: PreparedSide, options: { profileDir?: string }): Promise<SideResult> {
  const { cpu, result } = side;
  // Per-message PostgreSQL figures cover everything since the reset: measured steps and their primers.
  const sentTotal = result.steps.reduce((n, s) => n + s.sent, 0) + side.primerMessages;
  const pgTopStatements = await cpu.pgStats?.top(sentTotal);
  if (pgTopStatements) result.pgTopStatements = pgTopStatements;
  if (cpu.pgStats && side.walBefore) {
    await sleep(1500); // backends flush their I/O statistics about once a second
    const w = await cpu.pgStats.wal();
    const before = side.walBefore;
    const fsyncs = w.fsyncs - before.fsyncs;
    const writes = w.writes - before.writes;
    result.pgWal = {
      messages: sentTotal,
      fsyncs,
      fsyncsPerMessage: +(fsyncs / Math.max(1, sentTotal)).toFixed(2),
      meanFsyncMs: +((w.fsyncMs - before.fsyncMs) / Math.max(1, fsyncs)).toFixed(3),
      writes,
      meanWriteMs: +((w.writeMs - before.writeMs) / Math.max(1, writes)).toFixed(3),
    };
  }
  if (cfg.cpuProfile && options.profileDir) {
    await Promise.all(side.running.servers.map((s) => profileServer(s, 'stop', path.join(options.profileDir!, `${s.name}.cpuprofile`))));
  }
  await closeLoaders(side);
  return result;
}

export async function closeLoaders(side: { loaders: Managed[] }) {
  await Promise.all(side.loaders.map((lc) => request(lc, { type: 'close' }, () => false, 3000).catch(() => {})));
  await Promise.all(side.loaders.map((lc) => lc.stop()));
}
