import { createHash } from 'node:crypto';
import type pg from 'pg';

/*
 * Named (prepared) statements for the queries a node runs again and again. The typed queries reach PostgreSQL as
 * parameterised text, which the server parses and plans anew on every call; for the statements built from the access
 * predicates (channel access, notification visibility) planning costs more than running them — milliseconds each on
 * a busy server (docs/performance.md). A statement sent under a name is parsed once per connection, and after five
 * runs PostgreSQL keeps a generic plan for it when that plan looks no worse than the custom ones (plan_cache_mode
 * auto), so the planning is paid once too. (Forcing generic plans is not an option: for a predicate over one user's
 * rows the generic plan can be a hundred times slower.)
 *
 * Only hot statements are named: a text is named from its HOT_AFTER-th sighting in this process on (one-off texts,
 * such as an `in (…)` list of a length seen once, are left alone), each connection holds at most PER_CONNECTION of
 * them, and the registry forgets everything when it has seen MAX_TEXTS distinct texts. An `on conflict (…) where …`
 * stays unnamed (its partial index cannot be matched under a generic plan), and so do statements whose result
 * columns are not spelled out (`*`, `t.*`): a column added by a migration while this node runs would
 * otherwise fail them ("cached plan must not change result type"). Any statement that still fails that way (a
 * column's type changed) is retired on that connection and runs unnamed from then on.
 */

const HOT_AFTER = 3;
const PER_CONNECTION = 256;
const MAX_TEXTS = 5000;

/** A `*` that is not `count(*)`: a select list or `returning` whose columns are not spelled out. */
const STAR = /(?<!\()\*/;
/**
 * `on conflict (…) where …`: the partial unique index is chosen by proving its predicate from the statement's, which
 * a generic plan cannot do when the predicate holds a parameter ("no unique or exclusion constraint matching").
 */
const PARTIAL_CONFLICT = /\bon conflict\s*\((?:[^()]|\([^()]*\))*\)\s*where\b/i;

export interface StatementRegistry {
  /** The name to send `text` under, or null while it is not hot (or never to be named). */
  nameFor(text: string): string | null;
}

export function createStatementRegistry(): StatementRegistry {
  const seen = new Map<string, number | string>();
  return {
    nameFor(text) {
      const entry = seen.get(text);
      if (typeof entry === 'string') return entry;
      if (seen.size >= MAX_TEXTS) seen.clear();
      const count = (entry ?? 0) + 1;
      if (count < HOT_AFTER || STAR.test(text) || PARTIAL_CONFLICT.test(text)) {
        seen.set(text, count);
        return null;
      }
      const name = `edu_${createHash('sha1').update(text).digest('base64url').slice(0, 24)}`;
      seen.set(text, name);
      return name;
    },
  };
}

type QueryFn = (...args: unknown[]) => unknown;

const RESULT_TYPE_CHANGED = 'cached plan must not change result type';

/** Makes `client` send hot parameterised statements by name (see above). Call once per new connection. */
export function usePreparedStatements(client: pg.Client | pg.PoolClient, registry: StatementRegistry): void {
  const query = client.query.bind(client) as QueryFn;
  const named = new Set<string>();
  const retired = new Set<string>();
  client.query = ((config: unknown, values?: unknown, callback?: unknown) => {
    if (typeof config === 'string' && Array.isArray(values) && values.length > 0 && callback === undefined) {
      const name = registry.nameFor(config);
      if (name && !retired.has(name) && (named.has(name) || named.size < PER_CONNECTION)) {
        named.add(name);
        return (query({ name, text: config, values }) as Promise<unknown>).catch((err: unknown) => {
          if (err instanceof Error && err.message.includes(RESULT_TYPE_CHANGED)) retired.add(name);
          throw err;
        });
      }
    }
    return query(config, values, callback);
  }) as typeof client.query;
}
