/**
 * One step of the message-rate ladder on one side: build the (seeded, identical for both sides) schedule, hand each
 * load generator the sends of its clients, wait for every delivery and ack (or the drain deadline), then merge the
 * generators' samples and read CPU of every process involved.
 */
import type { ChatBenchConfig } from './config.ts';
import { machineCpuMs, probe, processCpuMs, request, sleep, treeCpuMs, type Managed, type RedisHandle } from './processes.ts';
import { nowMs, type ProbeReply, type ProgressReport, type ScheduledSend, type StepReport } from './protocol.ts';
import type { RunningSide } from './sides.ts';
import { distribution, seededRandom } from './stats.ts';

export interface CpuSources {
  redis: RedisHandle;
  /** False when REDIS_URL points at a Redis this bench did not start (its CPU may be spent on others too). */
  redisIsOurs: boolean;
  /** The embedded postmaster (Edulure side only): CPU of the whole PostgreSQL process tree. */
  postmasterPid?: number;
  /** Edulure side: statistics straight from PostgreSQL. */
  pgStats?: {
    reset(): Promise<void>;
    commits(): Promise<number>;
    wal(): Promise<{ fsyncs: number; fsyncMs: number; writes: number; writeMs: number }>;
    snapshot(): Promise<Map<string, { query: string; calls: number; totalMs: number }>>;
    top(messages: number): Promise<unknown[]>;
  };
}

export interface StepResult {
  rate: number;
  seconds: number;
  sent: number;
  acked: number;
  ackErrors: Record<string, number>;
  expected: number;
  received: number;
  reach: number;
  duplicates: number;
  /** Edulure: deliveries that arrived after one with a higher seq in the same channel (held back by the client). */
  outOfOrder: number;
  echoes: number;
  deliveriesPerSecond: number;
  e2eMs: ReturnType<typeof distribution>;
  /** Edulure: until the event could be applied in seq order (held back behind a later-arriving predecessor). */
  appliedMs?: ReturnType<typeof distribution>;
  /** Edulure: events waiting for a predecessor at the end of the step, over all connections (a gap if not 0). */
  heldBack?: number;
  /** The five 100 ms windows (by scheduled send time, ms after the step's start) with the worst e2e latency. */
  worstWindows: { atMs: number; worstMs: number }[];
  ackMs: ReturnType<typeof distribution>;
  generatorLagMs: ReturnType<typeof distribution>;
  drainMs: number;
  /** CPU in % of one core over the step (start → everything delivered); the machine has os.cpus().length cores. */
  cpuPercent: {
    servers: number[];
    postgres: number | null;
    redis: number;
    loadGenerators: number[];
    /** The other side's idle servers and generators (both sides stay connected; steps alternate). */
    idleSide: number;
    /** Interrupt handling, mostly loopback networking of this bench; not charged to any process. */
    softirq: number;
    /** Process CPU on the machine not from this bench: other tenants of a shared machine. */
    other: number;
  };
  eventLoopUtilization: number[];
  /** Per server: the longest event-loop delay and the garbage collector's pauses during the step. */
  stalls?: ProbeReply['sinceLastProbe'][];
  /** Edulure: PostgreSQL commits per sent message in this step. */
  commitsPerMessage?: number | null;
  /** Edulure: statements with the most execution time in this step (pg_stat_statements; lock waits count as time). */
  pgTop?: { query: string; callsPerMessage: number; meanMs: number; msPerMessage: number }[];
  /** Edulure: PostgreSQL execution time of all statements per sent message in this step. */
  pgExecMsPerMessage?: number;
  /** Client connections closed since they connected (cumulative over the run); any is a failure. */
  disconnects: number;
}

/** Processes of the side that is not being measured: they sit idle but share the machine. */
export interface Background {
  pids: number[];
  postmasterPid?: number;
}

const cpuPercent = (ms: number, wallMs: number) => +((ms / wallMs) * 100).toFixed(1);
const roomCount = (cfg: ChatBenchConfig) => Math.ceil(cfg.connections / cfg.roomSize);
const roomMembers = (cfg: ChatBenchConfig, room: number) => Math.min(cfg.roomSize, cfg.connections - room * cfg.roomSize);
/** Which load generator owns a connection: spread so each room's members sit in every generator. */
export const ownerOf = (cfg: ChatBenchConfig, conn: number) => Math.floor(conn / cfg.nodes) % cfg.loadProcesses;

type PgSnapshot = Map<string, { query: string; calls: number; totalMs: number }>;

function pgDelta(before: PgSnapshot, after: PgSnapshot, messages: number): Pick<StepResult, 'pgTop' | 'pgExecMsPerMessage'> {
  const rows = [...after].map(([id, a]) => {
    const b = before.get(id) ?? { calls: 0, totalMs: 0 };
    return { query: a.query, calls: a.calls - b.calls, totalMs: a.totalMs - b.totalMs };
  });
  const total = rows.reduce((n, r) => n + r.totalMs, 0);
  return {
    pgExecMsPerMessage: +(total / messages).toFixed(3),
    pgTop: rows
      .filter((r) => r.calls > 0)
      .sort((x, y) => y.totalMs - x.totalMs)
      .slice(0, 4)
      .map((r) => ({
        query: r.query,
        callsPerMessage: +(r.calls / messages).toFixed(2),
        meanMs: +(r.totalMs / r.calls).toFixed(3),
        msPerMessage: +(r.totalMs / messages).toFixed(3),
      })),
  };
}

function worstWindows(reports: StepReport[], startAt: number) {
  const worst = new Map<number, number>();
  for (const r of reports) for (const [w, ms] of r.worstByWindow) worst.set(w, Math.max(worst.get(w) ?? 0, ms));
  return [...worst]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([w, ms]) => ({ atMs: Math.round(w * 100 - startAt), worstMs: +ms.toFixed(1) }));
}

export async function runStep(
  cfg: ChatBenchConfig,
  running: RunningSide,
  loaders: Managed[],
  cpu: CpuSources,
  background: Background,
  step: number,
  rate: number,
  seconds: number,
): Promise<StepResult> {
  // The same seed for the same step on both sides: identical rooms, senders and send times (relative to start).
  const random = seededRandom(cfg.seed * 1_000_003 + step * 7919 + rate);
  const total = Math.max(1, Math.round(rate * seconds));
  const startAt = nowMs() + 500;
  const perLoader: ScheduledSend[][] = loaders.map(() => []);
  let expected = 0;
  const rooms = roomCount(cfg);
  for (let m = 0; m < total; m++) {
    const room = Math.floor(random() * rooms);
    const members = roomMembers(cfg, room);
    const conn = room * cfg.roomSize + Math.floor(random() * members);
    expected += members - 1;
    const send: ScheduledSend = { m, at: startAt + (m * 1000) / rate, conn, room };
    if (cfg.mentionEvery > 0 && members > 1 && m % cfg.mentionEvery === 0) {
      send.mention = room * cfg.roomSize + ((conn - room * cfg.roomSize + 1) % members);
    }
    perLoader[ownerOf(cfg, conn)]!.push(send);
  }

  const cpuAt = async () => ({
    servers: running.servers.map((s) => processCpuMs(s.child.pid!)),
    loaders: loaders.map((l) => processCpuMs(l.child.pid!)),
    postgres: cpu.postmasterPid ? treeCpuMs(cpu.postmasterPid) : null,
    redis: await cpu.redis.cpuMs(),
    background: background.pids.reduce((n, pid) => n + processCpuMs(pid), 0) + (background.postmasterPid ? treeCpuMs(background.postmasterPid) : 0),
    elu: await Promise.all(running.servers.map((s) => probe(s, false))),
    commits: cpu.pgStats ? await cpu.pgStats.commits() : null,
    self: process.cpuUsage(),
    machine: machineCpuMs(),
  });
  type CpuSnapshot = Awaited<ReturnType<typeof cpuAt>>;
  const ours = (a: CpuSnapshot, b: CpuSnapshot) =>
    b.servers.reduce((n, v, i) => n + v - a.servers[i]!, 0) +
    b.loaders.reduce((n, v, i) => n + v - a.loaders[i]!, 0) +
    (b.postgres ?? 0) -
    (a.postgres ?? 0) +
    (cpu.redisIsOurs ? b.redis - a.redis : 0) +
    (b.background - a.background) +
    (b.self.user + b.self.system - a.self.user - a.self.system) / 1000;
  const cpuBefore = await cpuAt();
  const pgBefore = await cpu.pgStats?.snapshot();
  await Promise.all(
    loaders.map((lc, k) =>
      request<ProgressReport>(
        lc,
        { type: 'step', step, totalMessages: total, roomSize: cfg.roomSize, sends: perLoader[k] },
        (r) => r?.type === 'progress' && r.step === step,
        30_000,
      ),
    ),
  );
  const endAt = startAt + (total * 1000) / rate;
  await sleep(Math.max(0, endAt - nowMs()));
  const deadline = endAt + cfg.drainSeconds * 1000;
  for (;;) {
    const progress = await Promise.all(
      loaders.map((lc) => request<ProgressReport>(lc, { type: 'progress', step }, (r) => r?.type === 'progress' && r.step === step, 30_000)),
    );
    const received = progress.reduce((n, p) => n + p.received, 0);
    const settled = progress.reduce((n, p) => n + p.acked + p.ackFailed, 0);
    if ((received >= expected && settled >= total) || nowMs() > deadline) break;
    await sleep(100);
  }
  const drainMs = Math.max(0, nowMs() - endAt);
  const reports = await Promise.all(
    loaders.map((lc) => request<StepReport>(lc, { type: 'collect', step }, (r) => r?.type === 'collected' && r.step === step, 60_000)),
  );
  const cpuAfter = await cpuAt();
  const wallMs = nowMs() - startAt;
  const pgAfter = await cpu.pgStats?.snapshot();

  const sum = (key: 'sent' | 'acked' | 'received' | 'echoes' | 'duplicates' | 'outOfOrder') => reports.reduce((n, r) => n + r[key], 0);
  const ackErrors: Record<string, number> = {};
  for (const r of reports) for (const [code, n] of Object.entries(r.ackErrors)) ackErrors[code] = (ackErrors[code] ?? 0) + n;
  const received = sum('received');
  const elu = (a: ProbeReply, b: ProbeReply) => {
    const active = b.elu.active - a.elu.active;
    const idle = b.elu.idle - a.elu.idle;
    return +(active / (active + idle)).toFixed(3);
  };
  const commits = cpuBefore.commits !== null && cpuAfter.commits !== null ? cpuAfter.commits - cpuBefore.commits : null;
  const processBusy = cpuAfter.machine.processes - cpuBefore.machine.processes;
  return {
    rate,
    seconds,
    sent: sum('sent'),
    acked: sum('acked'),
    ackErrors,
    expected,
    received,
    reach: +(received / expected).toFixed(6),
    duplicates: sum('duplicates'),
    outOfOrder: sum('outOfOrder'),
    echoes: sum('echoes'),
    deliveriesPerSecond: Math.round(received / ((endAt - startAt + drainMs) / 1000)),
    e2eMs: distribution(reports.map((r) => r.e2e)),
    ...(running.side === 'edulure'
      ? { appliedMs: distribution(reports.map((r) => r.applied)), heldBack: reports.reduce((n, r) => n + r.heldBack, 0) }
      : {}),
    worstWindows: worstWindows(reports, startAt),
    ackMs: distribution(reports.map((r) => r.ack)),
    generatorLagMs: distribution(reports.map((r) => r.lag)),
    drainMs: Math.round(drainMs),
    cpuPercent: {
      servers: cpuAfter.servers.map((v, n) => cpuPercent(v - cpuBefore.servers[n]!, wallMs)),
      postgres: cpuAfter.postgres !== null && cpuBefore.postgres !== null ? cpuPercent(cpuAfter.postgres - cpuBefore.postgres, wallMs) : null,
      redis: cpuPercent(cpuAfter.redis - cpuBefore.redis, wallMs),
      loadGenerators: cpuAfter.loaders.map((v, n) => cpuPercent(v - cpuBefore.loaders[n]!, wallMs)),
      idleSide: cpuPercent(cpuAfter.background - cpuBefore.background, wallMs),
      softirq: cpuPercent(cpuAfter.machine.interrupts - cpuBefore.machine.interrupts, wallMs),
      other: cpuPercent(Math.max(0, processBusy - ours(cpuBefore, cpuAfter)), wallMs),
    },
    eventLoopUtilization: cpuAfter.elu.map((b, n) => elu(cpuBefore.elu[n]!, b)),
    stalls: cpuAfter.elu.map((b) => b.sinceLastProbe),
    ...(commits !== null ? { commitsPerMessage: +(commits / Math.max(1, sum('sent'))).toFixed(2) } : {}),
    ...(pgBefore && pgAfter ? pgDelta(pgBefore, pgAfter, Math.max(1, sum('sent'))) : {}),
    disconnects: reports.reduce((n, r) => n + r.disconnects, 0),
  };
}
