import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { ensureDatabase } from '../orm/database.ts';

let cached: Promise<string> | undefined;

/** This worker's own database, cloned from the migrated template on first use. */
export function testDatabaseUrl(): Promise<string> {
  cached ??= (async () => {
    const adminUrl = inject('databaseAdminUrl');
    const template = inject('templateDatabase');
    const database = `${template}_w${process.env.VITEST_POOL_ID ?? '0'}`;
    await ensureDatabase(adminUrl, database, template);
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    return url.toString();
  })();
  return cached;
}

export function testRedisUrl(): string | undefined {
  return inject('redisUrl') || undefined;
}

/**
 * A database of the caller's own, cloned from the migrated template (or `empty`: no tables at all); `drop()` removes it.
 */
export async function freshTestDatabase(
  label = 'fresh',
  options: { empty?: boolean } = {},
): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = inject('databaseAdminUrl');
  const template = inject('templateDatabase');
  const name = `${template}_${label}_${randomBytes(4).toString('hex')}`;
  await ensureDatabase(adminUrl, name, options.empty ? undefined : template);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
