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
