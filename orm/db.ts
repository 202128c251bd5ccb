import type { EntityManager } from '@mikro-orm/postgresql';
import type { InferKyselyDB } from '@mikro-orm/sql';
import { sql, type Kysely } from 'kysely';
import type { entities } from './entities/index.ts';

/** The database as the entities describe it: table and column names as in SQL, value types as in the entities. */
export type DB = InferKyselyDB<(typeof entities)[number]>;
export type Db = Kysely<DB>;

/**
 * The typed query builder for domain code, bound to `em`'s current transaction when there is one (else the pool).
 * Results of entity columns arrive converted as the entities declare them: timestamps as `Date`, bigints as `number`,
 * JSON parsed. Values computed in SQL (counts, `sql` fragments) are typed where they are written.
 */
export function db(em: EntityManager): Db {
  return em.getKysely<DB>({ convertValues: true });
}

/**
 * A list of uuids bound as ONE array parameter, for `eb(column, '=', eb.fn.any(uuids(ids)))` — `in (…)` would bind one
 * parameter per element (and a different statement for every list length).
 */
export const uuids = (ids: readonly string[]) => sql<string[]>`${ids}::uuid[]`;
