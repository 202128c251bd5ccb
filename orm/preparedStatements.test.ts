import pg from 'pg';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createStatementRegistry, usePreparedStatements } from './preparedStatements.ts';

/*
 * Hot statements go to PostgreSQL by name (parsed and planned once per connection); one-off texts and ones whose
 * columns are not spelled out stay unnamed; a named one whose result type a migration changed is retired on that
 * connection and keeps working unnamed.
 */
describe('prepared statements', () => {
  const clients: pg.Client[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.end();
  });

  async function connect() {
    const client = new pg.Client({ connectionString: inject('databaseAdminUrl') });
    await client.connect();
    clients.push(client);
    usePreparedStatements(client, createStatementRegistry());
    return client;
  }
  const preparedOn = async (client: pg.Client) =>
    (await client.query<{ statement: string }>('select statement from pg_prepared_statements order by statement')).rows.map((r) => r.statement);

  it('names a parameterised text from its third run on, and answers as before', async () => {
    const client = await connect();
    const hot = 'select $1::int + 1 as n';
    for (let i = 1; i <= 5; i++) {
      expect((await client.query<{ n: number }>(hot, [i])).rows).toEqual([{ n: i + 1 }]);
      expect(await preparedOn(client), `after run ${i}`).toEqual(i >= 3 ? [hot] : []);
    }
  });

  it('leaves one-off texts, texts without parameters, `*` select lists and partial-index upserts unnamed; count(*) is named', async () => {
    const client = await connect();
    const table = `prepared_${crypto.randomUUID().replaceAll('-', '')}`;
    await client.query(`create temporary table ${table} (k int, kind text)`);
    await client.query(`create unique index on ${table} (k) where kind = 'a'`);
    // Seven runs: a generic plan would be tried from the sixth, and it cannot match the partial index.
    for (let i = 0; i < 7; i++) {
      await client.query(`insert into ${table} (k, kind) values ($1, $2) on conflict (k) where kind = $3 do nothing`, [i % 2, 'a', 'a']);
    }
    expect((await client.query(`select count(*)::int as n from ${table}`)).rows).toEqual([{ n: 2 }]);
    for (let i = 0; i < 4; i++) {
      await client.query(`select $1::int as n${i}`, [i]);
      await client.query('select 1 as one');
      await client.query('select * from (select $1::int as n) t', [i]);
      await client.query('select count(*)::int as n from generate_series(1, $1::int)', [i]);
    }
    expect(await preparedOn(client)).toEqual(['select count(*)::int as n from generate_series(1, $1::int)']);
  });

  it('a named statement whose result type changed under it fails once, then runs unnamed on that connection', async () => {
    const client = await connect();
    const table = `prepared_${crypto.randomUUID().replaceAll('-', '')}`;
    await client.query(`create table ${table} (a int)`);
    try {
      await client.query(`insert into ${table} values (1)`);
      const text = `select a from ${table} where a >= $1`;
      for (let i = 0; i < 4; i++) await client.query(text, [0]);
      expect(await preparedOn(client)).toContain(text);
      await client.query(`alter table ${table} alter column a type bigint`);
      await expect(client.query(text, [0])).rejects.toThrow(/cached plan must not change result type/);
      expect((await client.query(text, [0])).rows).toEqual([{ a: '1' }]);
    } finally {
      await client.query(`drop table ${table}`);
    }
  });
});
