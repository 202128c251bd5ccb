import { fileURLToPath } from 'node:url';
import { defineConfig, UnderscoreNamingStrategy, type EntityManager, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import pg from 'pg';
import { SeedManager } from '@mikro-orm/seeder';
import { entities } from './entities/index.ts';
import { createStatementRegistry, usePreparedStatements } from './preparedStatements.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

/**
 * PostgreSQL's own constraint names: the migrations declare foreign keys inline (`references users (id)`), so they are
 * named `<table>_<column>_fkey` by the server, and the entities must expect the same names for the schema diff to agree.
 */
class PostgresNamingStrategy extends UnderscoreNamingStrategy {
  override indexName(...[table, columns, type]: Parameters<UnderscoreNamingStrategy['indexName']>): string {
    if (type === 'foreign') return super.indexName(table, columns, 'fkey' as never);
    return super.indexName(table, columns, type);
  }
}

/**
 * How column values arrive from PostgreSQL, whatever the query and whatever a column is called in it: timestamps as
 * `Date` and bigints (sequence numbers, counts) as `number`, exactly as the entities and the typed queries declare
 * them. The driver's defaults are kept for the rest; MikroORM's own choice (timestamps as text) is not used, so a
 * renamed or computed timestamp is a `Date` too, never a string typed as one.
 */
function columnParsers(): pg.TypeOverrides {
  const types = new pg.TypeOverrides();
  const int8 = 20;
  types.setTypeParser(int8, (value: string) => {
    const number = Number(value);
    if (!Number.isSafeInteger(number)) throw new Error(`bigint ${value} does not fit a JavaScript number`);
    return number;
  });
  return types;
}

export interface OrmConfigInput {
  databaseUrl: string;
  /** Pool size per process; keep it small, several nodes may share one server. */
  poolMax?: number;
  debug?: boolean;
  /**
   * The longest a query waits for a connection — a free one from the pool, or a new one being opened — before it fails
   * (and is answered `unavailable`). A statement already sent is not timed out here: its outcome is PostgreSQL's answer
   * or the connection breaking. Unbounded when not given (scripts, migrations).
   */
  connectTimeoutMs?: number;
}

export function createOrmConfig({
  databaseUrl,
  poolMax = 10,
  debug = false,
  connectTimeoutMs,
}: OrmConfigInput): Options<EntityManager, typeof entities> {
  return defineConfig({
    clientUrl: databaseUrl,
    entities,
    namingStrategy: PostgresNamingStrategy,
    // The job queue (graphile-worker) keeps its own schema and migrates it itself. SQL functions (the search folding
    // functions) are written in the migrations, like the rest of the schema; the entities do not mirror them.
    schemaGenerator: { ignoreSchema: ['graphile_worker'], ignoreRoutines: true },
    extensions: [Migrator, SeedManager],
    pool: { min: 0, max: poolMax },
    driverOptions: {
      types: columnParsers(),
      // pg-pool: bounds both the wait for a free connection and the opening of a new one.
      ...(connectTimeoutMs ? { connectionTimeoutMillis: connectTimeoutMs } : {}),
      // A peer that vanished without closing (a network partition) is noticed by TCP instead of never.
      keepAlive: true,
      // Hot statements are sent by name, so PostgreSQL parses and plans them once per connection (preparedStatements.ts).
      onPoolCreated(pool: pg.Pool) {
        const registry = createStatementRegistry();
        pool.on('connect', (client) => usePreparedStatements(client, registry));
      },
    },
    debug,
    forceUtcTimezone: true,
    // Every request forks its own EntityManager explicitly; the global one must never be used by accident.
    allowGlobalContext: false,
    migrations: {
      path: MIGRATIONS_DIR,
      pathTs: MIGRATIONS_DIR,
      glob: 'Migration*.ts',
      tableName: 'mikro_orm_migrations',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
  });
}

/** Used by the MikroORM CLI (`npx mikro-orm ...`). */
export default createOrmConfig({ databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:54329/edulure' });
