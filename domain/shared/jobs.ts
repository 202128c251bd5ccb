import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from 'kysely';
import type { Db } from '../../orm/db.ts';

/*
 * The job queue: work that must happen after a change commits and must survive a crash (e-mail, durable domain
 * events). Jobs live in PostgreSQL beside the data, in graphile-worker's schema (installed by migrateWithLock), so a
 * job is queued in the same transaction as the change that causes it: it exists iff that transaction commits (a
 * transactional outbox with no table of our own). Every node runs a job runner (domain/shared/jobRunner.ts); runners
 * take jobs with FOR UPDATE SKIP LOCKED, so nodes sharing one database never run a job twice at once.
 *
 * A job that throws is retried with exponential backoff (about e^attempt seconds: 3 s, 7 s, 20 s, … capped at ~6 h)
 * up to its maxAttempts. After the last attempt it stays in `graphile_worker.jobs` with its `last_error` — the dead
 * letter: counted in /metrics (edulure_jobs_failed) and logged, never lost. Once the cause is fixed, retry it with
 * `select graphile_worker.reschedule_jobs(array[<id>], run_at => now(), attempts => 0)`, or drop it with
 * `graphile_worker.complete_jobs(array[<id>])`. Handlers are idempotent, because a job can run again after a crash
 * between doing its work and being marked done.
 *
 * Each feature declares its tasks next to the code that queues them, merging into `JobPayloads`:
 *
 *     declare module '../shared/jobs.ts' {
 *       interface JobPayloads { 'email.send': { outboxId: string } }
 *     }
 */

// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by each feature that queues jobs
export interface JobPayloads {}

export type JobName = keyof JobPayloads & string;

export interface JobOptions {
  /** At most one pending job per key: queueing again with the same key replaces the pending one. */
  jobKey?: string;
  /** Not before this time. */
  runAt?: Date;
  maxAttempts?: number;
}

/** About 16 hours of retries with graphile-worker's backoff before a job counts as failed. */
export const DEFAULT_MAX_ATTEMPTS = 12;

/** The job being run, as its handler sees it. `attempts` counts this one (1 on the first run). */
export interface JobInfo {
  id: string;
  attempts: number;
  maxAttempts: number;
}

export type JobHandler<T extends JobName> = (payload: JobPayloads[T], job: JobInfo) => Promise<void>;
export type JobHandlers = { [T in JobName]?: JobHandler<T> };

/** Where a job is queued: a transaction's EntityManager, or the typed builder bound to it (`db(tx)`). */
export type JobSource = EntityManager | Db;

/**
 * Queues a job in `source`'s transaction (outside a transaction it is committed at once). The payload travels as JSON.
 */
export async function enqueueJob<T extends JobName>(
  source: JobSource,
  task: T,
  payload: JobPayloads[T],
  options: JobOptions = {},
): Promise<void> {
  // getKysely() is bound to em's transaction when there is one (as is db(tx)), so the job commits or rolls back with
  // the change.
  const runner = 'getKysely' in source ? source.getKysely() : source;
  await sql`select graphile_worker.add_job(
      ${task},
      ${JSON.stringify(payload)}::json,
      run_at => ${options.runAt ?? null}::timestamptz,
      max_attempts => ${options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS}::smallint,
      job_key => ${options.jobKey ?? null}::text
    )`.execute(runner);
}

/**
 * Queues the next run of a periodic job (a sweep), `everyMs` from now, one pending cluster-wide by `key`: at start-up
 * with 'preserve_run_at' (a restart neither adds nor delays one), from the run itself with 'replace' — first thing, so
 * a run that fails (and is retried) never breaks the chain. The queue runs on the database's clock (graphile compares
 * run_at with now()), so the next run is real time.
 */
/** The jobs that take no payload: the periodic ones. */
export type PeriodicJobName = { [T in JobName]: JobPayloads[T] extends Record<string, never> ? T : never }[JobName];

export async function queuePeriodicJob(
  em: EntityManager,
  task: PeriodicJobName,
  key: string,
  everyMs: number,
  mode: 'replace' | 'preserve_run_at',
): Promise<void> {
  await sql`select graphile_worker.add_job(
      ${task}, '{}'::json,
      run_at => ${new Date(Date.now() + everyMs)}::timestamptz,
      job_key => ${key}::text,
      job_key_mode => ${mode}::text
    )`.execute(em.getKysely());
}

/**
 * A sweep that runs every `everyMs`, once cluster-wide: `schedule` queues it at start-up (a restart neither adds nor
 * delays a run), and its job re-queues the next run first, then does the work (queuePeriodicJob).
 */
export function periodicSweep<T extends PeriodicJobName, D extends { orm: { em: EntityManager } }>(
  task: T,
  key: string,
  everyMs: number,
  run: (deps: D) => Promise<unknown>,
): { schedule(deps: D): Promise<void>; job(deps: D): JobHandler<T> } {
  const queueNext = (deps: D, mode: 'replace' | 'preserve_run_at') => queuePeriodicJob(deps.orm.em.fork(), task, key, everyMs, mode);
  return {
    schedule: (deps) => queueNext(deps, 'preserve_run_at'),
    job: (deps) => async () => {
      await queueNext(deps, 'replace');
      await run(deps);
    },
  };
}

/** Jobs that used up their attempts and wait for a person: the dead letter. */
export async function countFailedJobs(em: EntityManager): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from graphile_worker.jobs where attempts >= max_attempts and locked_at is null
  `.execute(em.getKysely());
  return rows[0]?.n ?? 0;
}
