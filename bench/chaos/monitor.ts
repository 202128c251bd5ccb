/**
 * What the drill reads from the machine and from PostgreSQL at its marks (load start, kill, storm over, load end):
 * CPU of every process involved (from /proc, as the chat bench does) and pg_stat_statements, reset at the kill so the
 * storm's statements — the catch-up reads of channel_events above all — are counted on their own.
 */
import type pg from 'pg';
import { machineCpuMs, probe, processCpuMs, treeCpuMs, type Managed, type RedisHandle } from '../chat/processes.ts';
import { nowMs } from '../chat/protocol.ts';

export interface CpuReading {
  at: number;
  servers: number[];
  /** Each server's event-loop idle and active time so far (ms), through the probe preloaded into it. */
  loops: { idle: number; active: number }[];
  postgres: number | null;
  redis: number;
  loaders: number[];
  self: number;
  machine: { processes: number; interrupts: number };
}

export interface CpuWindow {
  seconds: number;
  /** % of one core; the machine has os.cpus().length cores. A killed server reads 0 after its death. */
  servers: number[];
  /** Share of the window each server's event loop was busy (1: saturated; a killed server counts until its death). */
  eventLoopUtilization: number[];
  postgres: number | null;
  redis: number;
  loadGenerators: number[];
  /** Interrupt handling, mostly loopback networking of this drill; not charged to any process. */
  softirq: number;
  /** Process CPU on the machine not from this drill: other tenants of a shared machine. */
  other: number;
}

export interface CpuSources {
  servers: Managed[];
  loaders: Managed[];
  postmasterPid?: number;
  redis: RedisHandle;
  redisIsOurs: boolean;
}

/**
 * A server's CPU so far. A killed one is gone from /proc: its last reading stands (taken at the kill), so a window
 * across its death charges it only with what it used before.
 */
export function cpuReader(sources: CpuSources) {
  const lastServer = sources.servers.map(() => 0);
  const lastLoop = sources.servers.map(() => ({ idle: 0, active: 0 }));
  const alive = (s: Managed) => s.child.exitCode === null && s.child.signalCode === null;
  return async function read(): Promise<CpuReading> {
    await Promise.all(
      sources.servers.map(async (s, n) => {
        if (!alive(s)) return;
        const { elu } = await probe(s, false);
        lastLoop[n] = { idle: elu.idle, active: elu.active };
      }),
    );
    const servers = sources.servers.map((s, n) => {
      if (alive(s)) lastServer[n] = processCpuMs(s.child.pid!);
      return lastServer[n]!;
    });
    const self = process.cpuUsage();
    return {
      at: nowMs(),
      servers,
      loops: lastLoop.map((l) => ({ ...l })),
      postgres: sources.postmasterPid ? treeCpuMs(sources.postmasterPid) : null,
      redis: await sources.redis.cpuMs(),
      loaders: sources.loaders.map((l) => processCpuMs(l.child.pid!)),
      self: (self.user + self.system) / 1000,
      machine: machineCpuMs(),
    };
  };
}

const percent = (ms: number, wallMs: number) => +((ms / Math.max(1, wallMs)) * 100).toFixed(1);

export function cpuWindow(a: CpuReading, b: CpuReading, redisIsOurs: boolean): CpuWindow {
  const wall = b.at - a.at;
  const servers = b.servers.map((v, n) => v - a.servers[n]!);
  const loaders = b.loaders.map((v, n) => v - a.loaders[n]!);
  const postgres = a.postgres !== null && b.postgres !== null ? b.postgres - a.postgres : null;
  const redis = b.redis - a.redis;
  const ours =
    servers.reduce((x, y) => x + y, 0) + loaders.reduce((x, y) => x + y, 0) + (postgres ?? 0) + (redisIsOurs ? redis : 0) + (b.self - a.self);
  return {
    seconds: +(wall / 1000).toFixed(2),
    servers: servers.map((v) => percent(v, wall)),
    eventLoopUtilization: b.loops.map((l, n) => {
      const active = l.active - a.loops[n]!.active;
      const idle = l.idle - a.loops[n]!.idle;
      return active + idle > 0 ? +(active / (active + idle)).toFixed(3) : 0;
    }),
    postgres: postgres === null ? null : percent(postgres, wall),
    redis: percent(redis, wall),
    loadGenerators: loaders.map((v) => percent(v, wall)),
    softirq: percent(b.machine.interrupts - a.machine.interrupts, wall),
    other: percent(Math.max(0, b.machine.processes - a.machine.processes - ours), wall),
  };
}

export interface StatementStats {
  query: string;
  calls: number;
  rows: number;
  totalMs: number;
}

/** A statement that reads channel events: the catch-up of `channel:join` (however the server shapes it). */
export const readsChannelEvents = (query: string) => /\bfrom\s+"?channel_events"?/i.test(query) && !/^\s*insert\b/i.test(query);

export function pgStatements(client: pg.Client) {
  return {
    async reset() {
      await client.query('select pg_stat_statements_reset()');
    },
    /** Every statement of the bench database since the reset (the drill's own statistics queries left out). */
    async snapshot(): Promise<StatementStats[]> {
      const { rows } = await client.query<{ query: string; calls: string; rows: string; total_ms: number }>(
        `select query, calls, rows, total_exec_time + total_plan_time as total_ms from pg_stat_statements
         where dbid = (select oid from pg_database where datname = current_database()) and query not ilike '%pg_stat%'`,
      );
      return rows.map((r) => ({ query: r.query.replace(/\s+/g, ' '), calls: Number(r.calls), rows: Number(r.rows), totalMs: +r.total_ms.toFixed(1) }));
    },
  };
}

/** The catch-up reads and the busiest statements of a snapshot. */
export function summarizeStatements(stats: StatementStats[]) {
  const catchUp = stats.filter((s) => readsChannelEvents(s.query));
  return {
    catchUpQueries: catchUp.reduce((n, s) => n + s.calls, 0),
    catchUpRows: catchUp.reduce((n, s) => n + s.rows, 0),
    catchUpMs: +catchUp.reduce((n, s) => n + s.totalMs, 0).toFixed(1),
    catchUpStatements: catchUp.map((s) => ({ ...s, query: s.query.slice(0, 200) })),
    allCalls: stats.reduce((n, s) => n + s.calls, 0),
    allMs: +stats.reduce((n, s) => n + s.totalMs, 0).toFixed(1),
    topByTime: [...stats]
      .sort((a, b) => b.totalMs - a.totalMs)
      .slice(0, 8)
      .map((s) => ({ ...s, query: s.query.slice(0, 140) })),
  };
}

/** Windows in which processes outside the drill used more than a quarter of a core: figures there are pessimistic. */
export function contentionOf(cpu: Record<string, CpuWindow>, log: (line: string) => void): string | null {
  const busy = Object.entries(cpu).filter(([, c]) => c.other > 25).map(([w]) => w);
  const contention = busy.length ? `other processes used more than 25% of a core during: ${busy.join(', ')} — figures there are pessimistic` : null;
  if (contention) log(`WARNING: ${contention}`);
  return contention;
}
