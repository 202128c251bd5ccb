import { EventEmitter } from 'node:events';
import { Logger as WorkerLogger, run, type TaskList, type WorkerEvents } from 'graphile-worker';
import pg from 'pg';
import type { Logger } from '../../orm/database.ts';
import { startAbandonedJobSweeper } from './abandonedJobs.ts';
import type { JobHandler, JobHandlers, JobName } from './jobs.ts';

export interface JobRunnerOptions {
  databaseUrl: string;
  /** The tasks this node runs. A task missing here is left for nodes that have it (e.g. e-mail without SMTP). */
  handlers: JobHandlers;
  logger: Logger;
  /** Jobs run at once on this node. */
  concurrency?: number;
  /** How often due retries and scheduled jobs are looked for; new jobs arrive at once through LISTEN/NOTIFY. */
  pollIntervalMs?: number;
  /** Jobs of a dead node's workers are released for others after this long (abandonedJobs.ts; default 30 s)… */
  abandonedAfterMs?: number;
  /** …looked for this often (default 15 s). */
  abandonedSweepMs?: number;
}

export interface JobRunner {
  /** Graceful: takes no new jobs and waits for the running ones; call before the database goes away. */
  stop(): Promise<void>;
}

/**
 * Runs queued jobs on this node with graphile-worker. Every node runs one; they share the queue through PostgreSQL.
 * The runner has its own small pool, so a burst of jobs never starves requests of ORM connections.
 */
export async function startJobRunner(options: JobRunnerOptions): Promise<JobRunner> {
  const { logger } = options;
  const concurrency = options.concurrency ?? 4;
  const taskList: TaskList = {};
  for (const [name, handler] of Object.entries(options.handlers) as [JobName, JobHandler<JobName>][]) {
    taskList[name] = (payload, helpers) =>
      handler(payload as never, { id: helpers.job.id, attempts: helpers.job.attempts, maxAttempts: helpers.job.max_attempts });
  }

  const events: WorkerEvents = new EventEmitter();
  const abandoned = startAbandonedJobSweeper({
    databaseUrl: options.databaseUrl,
    logger,
    graceMs: options.abandonedAfterMs,
    intervalMs: options.abandonedSweepMs,
  });
  // graphile-worker locks each job with its worker pool's id (locked_by), one pool per runner: that is what this node
  // proves alive.
  events.on('pool:create', ({ workerPool }) => abandoned.own(workerPool.id));
  events.on('job:error', ({ job, error }) => {
    if (job.attempts < job.max_attempts) {
      logger.warn({ task: job.task_identifier, jobId: job.id, attempt: job.attempts, err: String(error) }, 'job failed; it will be retried');
    }
  });
  events.on('job:failed', ({ job, error }) => {
    logger.error(
      { task: job.task_identifier, jobId: job.id, attempts: job.attempts, err: String(error) },
      'job failed for good; it stays in graphile_worker.jobs with its last error (counted in edulure_jobs_failed)',
    );
  });

  // Our own pool, so stop() can wait until it is closed. One connection listens for new jobs; the others take and
  // finish them. A connection lost while idle is only logged: pg replaces it, and a query on it fails (and retries).
  const pgPool = new pg.Pool({ connectionString: options.databaseUrl, max: concurrency + 2 });
  const connectionLost = (err: Error) => logger.warn({ err: String(err) }, 'job runner lost a database connection');
  pgPool.on('error', connectionLost);
  pgPool.on('connect', (client) => client.on('error', connectionLost));

  const runner = await run({
    pgPool,
    taskList,
    concurrency,
    noHandleSignals: true,
    pollInterval: options.pollIntervalMs ?? 2000,
    crontab: '',
    events,
    logger: workerLogger(logger),
  }).catch(async (err: unknown) => {
    await abandoned.stop();
    await pgPool.end();
    throw err;
  });
  logger.info({ tasks: Object.keys(taskList), concurrency }, 'job runner started');
  return {
    async stop() {
      await runner.stop();
      // After the running jobs finished: until then the liveness session keeps them this node's.
      await abandoned.stop();
      await pgPool.end();
    },
  };
}

/**
 * graphile-worker's own messages, in our log. Messages about a single job are left out: the job events above log
 * those with the task and job id, at the level they deserve (a retried job is a warning, not an error).
 */
function workerLogger(logger: Logger): WorkerLogger {
  return new WorkerLogger((scope) => (level, message, meta) => {
    if (scope.jobId) return;
    const entry = { component: 'job-runner', ...scope, ...meta };
    if (level === 'error') logger.error(entry, message);
    else if (level === 'warning') logger.warn(entry, message);
  });
}
