import { fileURLToPath } from 'node:url';
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { SeedManager } from '@mikro-orm/seeder';
import { entities } from './entities/index.ts';

export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

export interface OrmConfigInput {
  databaseUrl: string;
  /** Pool size per process; keep it small, several nodes may share one server. */
  poolMax?: number;
  debug?: boolean;
}

export function createOrmConfig({ databaseUrl, poolMax = 10, debug = false }: OrmConfigInput): Options {
  return defineConfig({
    clientUrl: databaseUrl,
    entities,
    extensions: [Migrator, SeedManager],
    pool: { min: 0, max: poolMax },
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
