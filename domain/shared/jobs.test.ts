import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrm, type Logger, type Orm } from '../../orm/database.ts';
import { db } from '../../orm/db.ts';
import { freshTestDatabase } from '../../test/db.ts';
import { eventually } from '../../test/factories.ts';
import { createEventBus, type EventBus } from './events.ts';
import { startAbandonedJobSweeper, workerLivenessKey } from './abandonedJobs.ts';
import { startJobRunner, type JobRunner } from './jobRunner.ts';
import { countFailedJobs } from './jobs.ts';

/*
 * The outbox end to end on a database of its own: durable events recorded in a transaction become jobs, and a runner
 * (graphile-worker) drains them into durable listeners.
 */

let database: Awaited<ReturnType<typeof freshTestDatabase>>;
let orm: Orm;
let bus: EventBus;
let runner: JobRunner;
const logged: { level: 'warn' | 'error'; obj: unknown; msg?: string }[] = [];
const logger: Logger = {
  info() {},
  warn: (obj, msg) => void logged.push({ level: 'warn', obj, msg }),
  error: (obj, msg) => void logged.push({ level: 'error', obj, msg }),
};

/** Post ids the durable listener of post.deleted was called with, in order. */
const forgotten: string[] = [];
/** What the listener of post.deleted waits for first, by post id: a job that runs as long as a test wants. */
const runningUntil = new Map<string, Promise<void>>();
/** The attempt numbers seen by a durable listener that always fails. */
const failingAttempts: number[] = [];

beforeAll(async () => {
  database = await freshTestDatabase('jobs');
  orm = await openOrm(database.url, { poolMax: 3 });
  bus = createEventBus(logger);
  bus.onDurable('post.deleted', 'forgetPost', async ({ postId }) => {
    await runningUntil.get(postId);
    forgotten.push(postId);
  });
  bus.onDurable(
    'post.hidden',
    'alwaysFails',
    async ({ postId }, job) => {
      failingAttempts.push(job.attempts);
      throw new Error(`search index refused ${postId}`);
    },
    { maxAttempts: 2 },
  );
  runner = await startJobRunner({ databaseUrl: database.url, handlers: { 'domain-event': bus.deliverDurable }, logger, pollIntervalMs: 100 });
});

afterAll(async () => {
  await runner?.stop();
  await orm?.close(true);
  await database?.drop();
});

/** The queue as graphile-worker keeps it (its own schema, no entity); `waiting`: backed off, not due yet. */
async function queuedJobs() {
  const { rows } = await sql<{ id: number; attempts: number; max_attempts: number; last_error: string | null; waiting: boolean; locked: boolean }>`
    select id, attempts, max_attempts, last_error, run_at > now() as waiting, locked_at is not null as locked
    from graphile_worker.jobs order by id
  `.execute(db(orm.em.fork()));
  return rows;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('durable domain events through the job queue', () => {
  it('a job recorded in a transaction that rolls back never exists; one that commits runs once', async () => {
    const rolledBack = crypto.randomUUID();
    await expect(
      orm.em.fork().transactional(async (tx) => {
        await bus.record(tx, 'post.deleted', { communityId: 'c1', postId: rolledBack, version: 2 });
        expect(await countInTransaction(tx)).toBe(1); // queued, but only inside this transaction
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await queuedJobs()).toEqual([]);

    const committed = crypto.randomUUID();
    await orm.em.fork().transactional((tx) => bus.record(tx, 'post.deleted', { communityId: 'c1', postId: committed, version: 2 }));
    await eventually(() => forgotten.includes(committed), 5000, 'the committed job to run');
    // Several more polls: nothing runs it again, and the finished job is gone from the queue.
    await pause(500);
    expect(forgotten).toEqual([committed]);
    expect(await queuedJobs()).toEqual([]);
  });

  it('a failing listener is retried with backoff and, after maxAttempts, stays visible as failed', async () => {
    expect(await countFailedJobs(orm.em.fork())).toBe(0);
    const postId = crypto.randomUUID();
    await orm.em.fork().transactional((tx) => bus.record(tx, 'post.hidden', { communityId: 'c1', postId, version: 2 }));

    await eventually(() => failingAttempts.length === 1, 5000, 'the first attempt');
    await eventually(
      async () => {
        const [job] = await queuedJobs();
        return job?.locked === false && job.last_error !== null;
      },
      5000,
      'the failure to be recorded',
    );
    const [afterFirst] = await queuedJobs();
    // Backed off (about e^1 seconds), so not due yet; not counted as failed while attempts remain.
    expect(afterFirst).toMatchObject({ attempts: 1, max_attempts: 2, waiting: true, last_error: expect.stringContaining(`search index refused ${postId}`) });
    expect(await countFailedJobs(orm.em.fork())).toBe(0);
    expect(logged.some((l) => l.level === 'warn' && l.msg === 'job failed; it will be retried')).toBe(true);

    // Make the retry due now instead of waiting out the backoff.
    await sql`select graphile_worker.reschedule_jobs(array[${afterFirst!.id}]::bigint[], run_at => now())`.execute(db(orm.em.fork()));
    await eventually(() => failingAttempts.length === 2, 5000, 'the retry');
    await eventually(async () => (await countFailedJobs(orm.em.fork())) === 1, 5000, 'the job to count as failed');

    // The dead letter: still there with its last error, never run again.
    await pause(500);
    expect(failingAttempts).toEqual([1, 2]);
    const [dead] = await queuedJobs();
    expect(dead).toMatchObject({ id: afterFirst!.id, attempts: 2, max_attempts: 2, last_error: expect.stringContaining('search index refused') });
    expect(logged).toContainEqual(
      expect.objectContaining({ level: 'error', obj: expect.objectContaining({ task: 'domain-event', attempts: 2 }) }),
    );
  });
});

describe('jobs of a node that died', () => {
  /** A post.deleted job, committed already locked by `workerId` a minute ago (as a worker that then died would leave it). */
  async function lockedJob(workerId: string): Promise<string> {
    const postId = crypto.randomUUID();
    await orm.em.fork().transactional(async (tx) => {
      await bus.record(tx, 'post.deleted', { communityId: 'c1', postId, version: 2 });
      await sql`update graphile_worker._private_jobs set locked_at = now() - interval '1 minute', locked_by = ${workerId}
        where payload->'payload'->>'postId' = ${postId}`.execute(db(tx));
    });
    return postId;
  }

  it('are released and run soon, while a live worker keeps its own', async () => {
    // This node's runner holds one advisory lock, for its worker pool (the id its jobs are locked with), in its
    // liveness session.
    await eventually(async () => {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from pg_locks l join pg_stat_activity a on a.pid = l.pid
        where l.locktype = 'advisory' and a.application_name = 'edulure-job-liveness' and a.datname = current_database()
      `.execute(db(orm.em.fork()));
      return rows[0]!.n === 1;
    }, 10_000, 'the runner\'s worker pool holds its liveness lock');
    const sweeper = startAbandonedJobSweeper({ databaseUrl: database.url, logger, graceMs: 1_000, intervalMs: 60_000 });
    // A live node: its liveness session holds its worker's advisory lock.
    const alive = new pg.Client({ connectionString: database.url });
    await alive.connect();
    try {
      await alive.query('select pg_advisory_lock(hashtextextended($1, 0))', [workerLivenessKey('worker-alive')]);
      const ofDead = await lockedJob('worker-dead');
      const ofAlive = await lockedJob('worker-alive');
      await pause(300);
      expect(forgotten).not.toContain(ofDead); // locked: graphile itself would wait 4 hours

      expect(await sweeper.sweep()).toEqual(['worker-dead']);
      await eventually(async () => forgotten.includes(ofDead), 10_000, 'the dead worker\'s job ran');
      expect(forgotten).not.toContain(ofAlive);

      // That node dies too (its session ends): the next sweep releases its job.
      await alive.end();
      expect(await sweeper.sweep()).toEqual(['worker-alive']);
      await eventually(async () => forgotten.includes(ofAlive), 10_000, 'the second job ran');
      expect(forgotten.filter((id) => id === ofDead || id === ofAlive)).toHaveLength(2);
      expect(logged.some((l) => l.msg?.startsWith('released the jobs of job workers that died'))).toBe(true);
    } finally {
      await alive.end().catch(() => undefined);
      await sweeper.stop();
    }
  });
});

describe('jobs of a live node', () => {
  it('a job its runner is running stays its own, however long it runs', async () => {
    const postId = crypto.randomUUID();
    let finish!: () => void;
    runningUntil.set(postId, new Promise<void>((resolve) => (finish = resolve)));
    await orm.em.fork().transactional((tx) => bus.record(tx, 'post.deleted', { communityId: 'c1', postId, version: 2 }));
    await eventually(async () => (await queuedJobs()).some((job) => job.locked), 5000, 'the job to start');
    // Another node's sweeper, with a grace shorter than the job has been running.
    const sweeper = startAbandonedJobSweeper({ databaseUrl: database.url, logger, graceMs: 300, intervalMs: 60_000 });
    try {
      await pause(600);
      expect(await sweeper.sweep()).toEqual([]);
      finish();
      await eventually(() => forgotten.includes(postId), 5000, 'the job to finish');
      await pause(300);
      expect(forgotten.filter((id) => id === postId)).toHaveLength(1);
    } finally {
      finish();
      await sweeper.stop();
    }
  });
});

async function countInTransaction(tx: EntityManager): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from graphile_worker.jobs`.execute(db(tx));
  return rows[0]!.n;
}
