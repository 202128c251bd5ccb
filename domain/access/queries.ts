import type { EntityManager } from '@mikro-orm/postgresql';
import { db, type Db } from '../../orm/db.ts';

/**
 * Where the access loaders run their statements: the typed builder bound to a transaction (`db(tx)`), or an
 * EntityManager (its transaction, if it has one).
 */
export type Queries = Db | EntityManager;

/** The typed builder for either source, in the source's transaction. */
export function queriesOf(source: Queries): Db {
  return 'getKysely' in source ? db(source) : source;
}
