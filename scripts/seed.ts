/** `npm run db:seed`: migrates, then inserts the demo accounts that are missing and prints their credentials. */
import pino from 'pino';
import { ensureDataDir, prepareDatabase, resolveDatabase } from '../server/bootstrap.ts';
import { loadEnv } from '../server/env.ts';

const env = loadEnv({ ...process.env, SEED_DEMO: 'always' });
const logger = pino({ level: env.LOG_LEVEL });
const database = await resolveDatabase(env, await ensureDataDir(env), logger);
try {
  const created = await prepareDatabase(env, database, logger);
  if (!created.length) process.stdout.write('Demo data already present.\n');
  for (const a of created) process.stdout.write(`demo ${a.role}: ${a.email} / ${a.password}\n`);
} finally {
  await database.embedded?.stop();
}
