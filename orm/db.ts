import type { EntityManager } from '@mikro-orm/postgresql';
import type { InferKyselyDB } from '@mikro-orm/sql';
import { sql, type Kysely } from 'kysely';
import type { entities } from './entities/index.ts';

/** The database as the entities describe it: table and column names as in SQL, value types as in the entities. */
export type DB = InferKyselyDB<(typeof entities)[number]>;
export type Db = Kysely<DB>;

/**
 * The typed query builder for domain code, bound to `em`'s current transaction when there is one (else the pool).
 * Values arrive as the types say whatever a column is called in the query: the driver parses timestamps as `Date`,
 * bigints as `number` and JSON as values (orm/mikro-orm.config.ts). No result conversion by column name happens here:
 * it would mistake a column for another of the same name in a joined table.
 */
export function db(em: EntityManager): Db {
  return em.getKysely<DB>();
}

/**
 * A value for a `jsonb` column. The driver sends a JS array as a PostgreSQL array literal, which is not JSON, so JSON
 * values are serialised here and cast; the type stays the column's.
 */
export const jsonb = <T>(value: T) => sql<T>`${JSON.stringify(value)}::jsonb`;

/**
 * A list of uuids bound as ONE array parameter, for `eb(column, '=', eb.fn.any(uuids(ids)))` — `in (…)` would bind one
 * parameter per element (and a different statement for every list length).
 */
export const uuids = (ids: readonly string[]) => sql<string[]>`${ids}::uuid[]`;
