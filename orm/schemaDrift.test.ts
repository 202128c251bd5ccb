import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshTestDatabase } from '../test/db.ts';
import { migrateWithLock, openOrm, type Orm } from './database.ts';
import { db } from './db.ts';

/**
 * The entities and the migrations describe the same schema: MikroORM's diff between the entities and a database built
 * by the migrations alone is empty. A migration without its entity change (or the reverse) fails here, in CI.
 */
describe('schema drift', () => {
  let database: Awaited<ReturnType<typeof freshTestDatabase>>;
  let orm: Orm;

  beforeAll(async () => {
    // A database of its own, with nothing in it: the migrations build every table from scratch.
    database = await freshTestDatabase('drift', { empty: true });
    orm = await openOrm(database.url, { poolMax: 2 });
    await migrateWithLock(orm, database.url);
  });

  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
  });

  it('finds nothing to change between the entities and the migrated database', async () => {
    const diff = await orm.schema.getUpdateSchemaSQL({ wrap: false, safe: false, dropTables: true });
    expect(diff.trim(), `entities and migrations disagree; the entities would need:\n${diff}`).toBe('');
  });

  it('knows every table the migrations create', async () => {
    const { rows } = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'public' and table_name <> 'mikro_orm_migrations'`.execute(
      db(orm.em.fork()),
    );
    const known = new Set([...orm.getMetadata().getAll().values()].map((meta) => meta.tableName));
    const unknown = rows.map((row) => row.table_name).filter((table) => !known.has(table));
    expect(unknown).toEqual([]);
  });
});
