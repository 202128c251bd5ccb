import type { EntityManager } from '@mikro-orm/postgresql';
import {
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
} from 'kysely';
import { db, type DB, type Db } from '../../orm/db.ts';

/**
 * Where the access loaders run their statements: the typed builder bound to a transaction (`db(tx)`), or an
 * EntityManager (its transaction, if it has one).
 */
export type Queries = Db | EntityManager;

/**
 * A raw statement runner bound to a transaction (`?` placeholders), the form domain code passed around before typed
 * queries. `queriesOf` still accepts one while the last callers move to `Db`; remove it together with them.
 */
export type StatementRunner = (text: string, params?: unknown[]) => Promise<unknown[]>;

/** The typed builder for any accepted source, in the source's transaction. */
export function queriesOf(source: Queries | StatementRunner): Db {
  if (typeof source === 'function') return overRunner(source);
  if ('getKysely' in source) return db(source);
  return source;
}

/**
 * Runs typed queries through a raw statement runner, so they stay in the runner's transaction. Rows come back as the
 * driver parses them (timestamps as Date, bigints as number: orm/mikro-orm.config.ts), as the typed queries expect.
 */
function overRunner(run: StatementRunner): Db {
  const connection: DatabaseConnection = {
    async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
      const params: unknown[] = [];
      const text = compiled.sql.replace(/\$(\d+)/g, (_, n: string) => {
        params.push(compiled.parameters[Number(n) - 1]);
        return '?';
      });
      return { rows: (await run(text, params)) as R[] };
    },
    streamQuery() {
      throw new Error('streaming is not supported through a statement runner');
    },
  };
  const driver: Driver = {
    async init() {},
    async acquireConnection() {
      return connection;
    },
    async beginTransaction() {
      throw new Error('the statement runner is already bound to its transaction');
    },
    async commitTransaction() {},
    async rollbackTransaction() {},
    async releaseConnection() {},
    async destroy() {},
  };
  return new Kysely<DB>({
    dialect: {
      createAdapter: () => new PostgresAdapter(),
      createDriver: () => driver,
      createIntrospector: (k) => new PostgresIntrospector(k),
      createQueryCompiler: () => new PostgresQueryCompiler(),
    },
  });
}
