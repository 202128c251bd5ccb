/** `npm run db:migrate`: applies pending migrations (embedded PostgreSQL when DATABASE_URL is unset). */
import pino from 'pino';
import { ensureDataDir, resolveDatabase } from '../server/bootstrap.ts';
import { loadEnv } from '../server/env.ts';
import { migrateWithLock, openOrm } from '../orm/database.ts';

const env = loadEnv();
const logger = pino({ level: env.LOG_LEVEL });
const database = await resolveDatabase(env, await ensureDataDir(env), logger);
try {
  const orm = await openOrm(database.url, { poolMax: 2 });
  const applied = await migrateWithLock(orm, database.url);
  await orm.close(true);
  process.stdout.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'Database is up to date.\n');
} finally {
  await database.embedded?.stop();
}
