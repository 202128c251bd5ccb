import pg from 'pg';
import type { Logger } from '../../orm/database.ts';

/*
 * Jobs of a node that died. graphile-worker locks a job to the worker running it and, if that worker's process dies
 * (SIGKILL, a crash, a lost machine), leaves the lock for 4 hours before anyone may run the job again — a class
 * reminder or a notification that late is a lost one.
 *
 * Liveness by PostgreSQL session: each node holds one connection on which it takes a session advisory lock per worker
 * of its own (keyed by the id its jobs are locked with: graphile-worker locks them with its worker pool's id, one
 * pool per runner). PostgreSQL releases those locks the moment that session ends, which is what happens when the
 * process dies. Every node sweeps now and then: a worker holding jobs locked for longer than
 * `graceMs` whose advisory lock can be taken is dead, so its jobs are unlocked (graphile's force_unlock_workers) and run
 * again by whichever node takes them. Jobs are idempotent (durable listeners, notifications keyed once), so the rare
 * wrong guess — a live node whose liveness connection dropped for a moment — costs a repeat, never a loss.
 */

/** The advisory lock a live worker's node holds (hashtextextended of this, in its liveness session). */
export const workerLivenessKey = (workerId: string) => `edulure-job-worker:${workerId}`;
const lockKey = workerLivenessKey;

export interface AbandonedJobSweeper {
  /** This node's worker (by the id graphile-worker locks its jobs with); its advisory lock is taken at once. */
  own(workerId: string): void;
  /** One sweep now (tests; the timer calls it every `intervalMs`). Resolves with the workers released. */
  sweep(): Promise<string[]>;
  stop(): Promise<void>;
}

export function startAbandonedJobSweeper(options: {
  databaseUrl: string;
  logger: Logger;
  /** A job locked for less than this is never taken from its worker (its lock may not be recorded yet). */
  graceMs?: number;
  intervalMs?: number;
}): AbandonedJobSweeper {
  const { logger } = options;
  const graceMs = options.graceMs ?? 30_000;
  const mine = new Set<string>();
  let client: pg.Client | undefined;
  let connecting: Promise<pg.Client> | undefined;
  let opened = false;
  let stopped = false;
  /** The liveness session runs one statement at a time: every use is chained here. */
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: (c: pg.Client) => Promise<T>): Promise<T> => {
    const next = queue.then(async () => work(await session()));
    queue = next.catch(() => undefined);
    return next;
  };

  /** The liveness session: opened on demand, and again (retaking this node's locks) when it was lost. */
  async function session(): Promise<pg.Client> {
    if (stopped) throw new Error('the job liveness session is closed');
    if (client) return client;
    connecting ??= (async () => {
      const fresh = new pg.Client({ connectionString: options.databaseUrl, application_name: 'edulure-job-liveness' });
      fresh.on('error', (err) => {
        logger.warn({ err: String(err) }, 'job liveness connection lost; it is reopened with the next sweep');
        if (client === fresh) client = undefined;
      });
      await fresh.connect();
      // A replaced session retakes the locks the lost one held; on the first, own() takes each as its worker comes.
      if (opened) for (const id of mine) await fresh.query('select pg_advisory_lock(hashtextextended($1, 0))', [lockKey(id)]);
      opened = true;
      client = fresh;
      return fresh;
    })().finally(() => (connecting = undefined));
    return connecting;
  }

  async function sweep(): Promise<string[]> {
    if (stopped) return [];
    return serial((c) => sweepOn(c));
  }

  async function sweepOn(c: pg.Client): Promise<string[]> {
    const { rows } = await c.query<{ locked_by: string }>(
      `select distinct locked_by from graphile_worker._private_jobs
        where locked_by is not null and locked_at < now() - make_interval(secs => $1::double precision / 1000)`,
      [graceMs],
    );
    const released: string[] = [];
    for (const { locked_by: workerId } of rows) {
      if (mine.has(workerId)) continue;
      const key = lockKey(workerId);
      const { rows: got } = await c.query<{ free: boolean }>('select pg_try_advisory_lock(hashtextextended($1, 0)) as free', [key]);
      if (!got[0]?.free) continue;
      try {
        await c.query('select graphile_worker.force_unlock_workers($1::text[])', [[workerId]]);
        released.push(workerId);
      } finally {
        await c.query('select pg_advisory_unlock(hashtextextended($1, 0))', [key]);
      }
    }
    if (released.length) logger.warn({ workers: released }, 'released the jobs of job workers that died; they run again');
    return released;
  }

  const timer = setInterval(() => {
    sweep().catch((err: unknown) => logger.warn({ err: String(err) }, 'sweeping for abandoned jobs failed'));
  }, options.intervalMs ?? 15_000).unref();

  return {
    own(workerId) {
      mine.add(workerId);
      serial((c) => c.query('select pg_advisory_lock(hashtextextended($1, 0))', [lockKey(workerId)])).catch((err: unknown) => logger.warn({ err: String(err), workerId }, 'could not record a job worker as alive'));
    },
    sweep,
    async stop() {
      stopped = true;
      clearInterval(timer);
      const c = client ?? (await connecting?.catch(() => undefined));
      client = undefined;
      await c?.end().catch(() => undefined);
    },
  };
}
