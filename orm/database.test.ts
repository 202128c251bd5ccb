import { readdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ensureDatabase, migrateWithLock, openOrm, type Orm } from './database.ts';
import { MIGRATIONS_DIR } from './mikro-orm.config.ts';

const adminUrl = inject('databaseAdminUrl');
const created: string[] = [];

function urlFor(database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  await admin(async (client) => {
    for (const name of created) await client.query(`drop database if exists "${name}" with (force)`);
  });
});

describe('ensureDatabase', () => {
  it('creates a database once and reports whether it did', async () => {
    const name = `edulure_ensure_${randomBytes(4).toString('hex')}`;
    created.push(name);
    expect(await ensureDatabase(adminUrl, name)).toBe(true);
    expect(await ensureDatabase(adminUrl, name)).toBe(false);
    const found = await admin((client) => client.query('select 1 from pg_database where datname = $1', [name]));
    expect(found.rowCount).toBe(1);
  });

  // Two CREATE DATABASE racing for one name fail with 23505 (pg_database_datname_index), not 42P04.
  it('tolerates several nodes creating the same database at once', async () => {
    const name = `edulure_ensure_${randomBytes(4).toString('hex')}`;
    created.push(name);
    const results = await Promise.all(Array.from({ length: 4 }, () => ensureDatabase(adminUrl, name)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });
});

describe('migrateWithLock', () => {
  it('applies pending migrations exactly once when four nodes start together on an empty database', async () => {
    const name = `edulure_migrate_${randomBytes(4).toString('hex')}`;
    created.push(name);
    expect(await ensureDatabase(adminUrl, name)).toBe(true);
    const url = urlFor(name);
    const expected = (await readdir(MIGRATIONS_DIR)).filter((f) => /^Migration.*\.ts$/.test(f)).map((f) => f.replace(/\.ts$/, ''));
    expect(expected.length).toBeGreaterThan(0);

    const orms: Orm[] = await Promise.all(Array.from({ length: 4 }, () => openOrm(url, { poolMax: 2 })));
    try {
      const applied = await Promise.all(orms.map((orm) => migrateWithLock(orm, url)));
      const appliers = applied.filter((names) => names.length > 0);
      expect(appliers, JSON.stringify(applied)).toHaveLength(1);
      expect(appliers[0]!.toSorted()).toEqual(expected.toSorted());
      expect(applied.filter((names) => names.length === 0)).toHaveLength(3);

      // Nothing left to do for a later starter either.
      expect(await migrateWithLock(orms[0]!, url)).toEqual([]);
    } finally {
      await Promise.all(orms.map((orm) => orm.close(true)));
    }

    const { tables, recorded, locks } = await admin(async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const tables = (
          await client.query<{ table_name: string }>(
            "select table_name from information_schema.tables where table_schema = 'public' order by table_name",
          )
        ).rows.map((r) => r.table_name);
        const recorded = (await client.query<{ name: string }>('select name from mikro_orm_migrations')).rows.map((r) => r.name);
        const locks = (
          await client.query(
            "select 1 from pg_locks where locktype = 'advisory' and database = (select oid from pg_database where datname = current_database())",
          )
        ).rowCount;
        return { tables, recorded, locks };
      } finally {
        await client.end();
      }
    });
    expect(tables).toEqual(expect.arrayContaining(['mikro_orm_migrations', 'users', 'sessions', 'refresh_tokens']));
    // Each migration recorded once: a second applier would have duplicated rows or failed on existing tables.
    expect(recorded.map((n) => n.replace(/\.ts$/, '')).toSorted()).toEqual(expected.toSorted());
    expect(locks, 'the advisory lock is released').toBe(0);
  });
});
