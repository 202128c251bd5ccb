/**
 * `npm run search:reindex`: rebuilds the search index from the source tables without a moment of downtime —
 * PostgreSQL's `search_documents` in place (every searchable item upserted, then what this run did not touch removed),
 * and Meilisearch (when MEILI_URL is set) as a fresh index swapped in for the live one. Repairs anything a missed
 * event left stale. Uses DATABASE_URL, or the embedded PostgreSQL in DATA_DIR (stop `npm start` first: they share it).
 */
import pino from 'pino';
import { createMeiliSearch } from '../domain/search/meili.ts';
import { createSearchIndexer } from '../domain/search/indexer.ts';
import { systemClock } from '../domain/shared/time.ts';
import { migrateWithLock, openOrm } from '../orm/database.ts';
import { ensureDataDir, resolveDatabase } from '../server/bootstrap.ts';
import { loadEnv } from '../server/env.ts';

const env = loadEnv();
const logger = pino({ level: env.LOG_LEVEL === 'info' ? 'warn' : env.LOG_LEVEL });
const database = await resolveDatabase(env, await ensureDataDir(env), logger);
const BAR_WIDTH = 30;

/** A progress bar on a terminal; a line per 10 % otherwise (CI logs). */
function progress(label: string) {
  let lastTenth = -1;
  const started = performance.now();
  return (done: number, total: number) => {
    const share = total ? Math.min(done / total, 1) : 1;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (process.stdout.isTTY) {
      const filled = Math.round(share * BAR_WIDTH);
      process.stdout.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${done}/${total} ${seconds}s`);
    } else if (Math.floor(share * 10) > lastTenth) {
      lastTenth = Math.floor(share * 10);
      process.stdout.write(`${label}: ${done}/${total} (${Math.round(share * 100)} %) ${seconds}s\n`);
    }
  };
}

try {
  const orm = await openOrm(database.url, { poolMax: 4 });
  try {
    await migrateWithLock(orm, database.url);
    const external = env.MEILI_URL
      ? createMeiliSearch({ orm, clock: systemClock, logger }, { url: env.MEILI_URL, apiKey: env.MEILI_API_KEY, indexName: env.MEILI_INDEX })
      : null;
    if (external) await external.index.prepare();
    const started = performance.now();
    const { documents, removed } = await createSearchIndexer({ orm, logger }, external?.index ?? null).reindex(progress('PostgreSQL'));
    if (process.stdout.isTTY) process.stdout.write('\n');
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    process.stdout.write(
      `Indexed ${documents} documents (${removed} stale removed)${external ? `, Meilisearch index ${env.MEILI_INDEX} rebuilt and swapped` : ''} in ${seconds}s.\n`,
    );
  } finally {
    await orm.close(true);
  }
} finally {
  await database.embedded?.stop();
}
