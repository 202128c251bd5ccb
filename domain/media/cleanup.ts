import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql, type ExpressionBuilder } from 'kysely';
import { db, type DB } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import { enqueueJob } from '../shared/jobs.ts';
import { removeStoredObjects } from './assets.ts';

declare module '../shared/jobs.ts' {
  interface JobPayloads {
    'assets.cleanup': Record<string, never>;
  }
}

export const ASSET_CLEANUP_TASK = 'assets.cleanup';
/** One key for the whole cluster: graphile-worker keeps at most one pending job per key. */
const JOB_KEY = 'assets.cleanup';
/** Rows removed per statement. */
const BATCH = 200;

/*
 * Scheduling: a self-re-enqueueing job with a job key, rather than graphile-worker's crontab. The queue already lives
 * in PostgreSQL and the job key keeps exactly one pending clean-up for the whole cluster, with no second scheduler to
 * configure (the runner is started without a crontab). Every node start queues it with `preserve_run_at`, so a
 * restart neither multiplies it nor postpones it; each run queues the next one FIRST, so a run that fails (and is
 * retried with backoff) never breaks the chain. Runs are idempotent: removing what is already gone is a no-op.
 */

/** At node start: make sure one clean-up is scheduled (keeping an earlier pending one as it is). */
export async function scheduleAssetCleanup(deps: Deps): Promise<void> {
  const runAt = new Date(Date.now() + Math.min(deps.media.cleanupIntervalMs, 10 * 60_000));
  await sql`select graphile_worker.add_job(
      ${ASSET_CLEANUP_TASK}, '{}'::json,
      run_at => ${runAt}::timestamptz,
      job_key => ${JOB_KEY}::text,
      job_key_mode => 'preserve_run_at'
    )`.execute(deps.orm.em.fork().getKysely());
}

/** The job handler: queues the next run, then cleans up. */
export function assetCleanupJob(deps: Deps) {
  return async () => {
    await enqueueJob(deps.orm.em.fork() as EntityManager, ASSET_CLEANUP_TASK, {}, {
      jobKey: JOB_KEY,
      runAt: new Date(Date.now() + deps.media.cleanupIntervalMs),
    });
    await cleanUpAssets(deps);
  };
}

/**
 * Removes uploads nobody finished (pending longer than `pendingMaxAgeMs`) and uploads nothing uses (ready, never
 * attached, older than `unattachedMaxAgeMs`), judged on the domain clock, with their stored objects; and spool files
 * left by a crashed upload. Each row is deleted only if it is still unattached when the delete runs (attachAssets
 * locks the row first), and its objects only after the row is gone, so nothing that is served or used loses its bytes.
 */
export async function cleanUpAssets(deps: Deps): Promise<{ removed: number; spoolFiles: number }> {
  const now = deps.clock.now().getTime();
  const pendingBefore = new Date(now - deps.media.pendingMaxAgeMs);
  const unattachedBefore = new Date(now - deps.media.unattachedMaxAgeMs);
  const q = db(deps.orm.em.fork());
  let removed = 0;
  for (;;) {
    const abandoned = (w: ExpressionBuilder<DB, 'assets'>) =>
      w.and([
        w('attached_at', 'is', null),
        w.or([
          w.and([w('status', '=', 'pending'), w('created_at', '<', pendingBefore)]),
          w.and([w('status', '=', 'ready'), w('created_at', '<', unattachedBefore)]),
        ]),
      ]);
    const rows = await q
      .deleteFrom('assets')
      .where('id', 'in', (eb) => eb.selectFrom('assets').select('id').where(abandoned).limit(BATCH))
      // Re-checked on the locked row: an asset attached (or finished) meanwhile stays.
      .where(abandoned)
      .returning(['id', 'storage_key', 'thumbnail_key'])
      .execute();
    for (const row of rows) await removeStoredObjects(deps, row);
    removed += rows.length;
    if (rows.length < BATCH) break;
  }
  // File times are the system's, so spool files are judged by the system clock.
  const spoolFiles = await sweepSpool(deps.media.tempDir, Date.now() - deps.media.pendingMaxAgeMs);
  if (removed || spoolFiles) deps.logger.info({ removed, spoolFiles }, 'removed abandoned and unused uploads');
  return { removed, spoolFiles };
}

async function sweepSpool(dir: string, before: number): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let swept = 0;
  for (const name of names) {
    const file = path.join(dir, name);
    const info = await stat(file).catch(() => null);
    if (info?.isFile() && info.mtimeMs < before) {
      await rm(file, { force: true });
      swept++;
    }
  }
  return swept;
}
