import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * The driver would spread a JS array into a list of placeholders; we always mean one PostgreSQL array
 * (`= any(?::uuid[])`, `unnest(?::uuid[])`), so arrays travel as an array literal.
 */
function toParam(value: unknown): unknown {
  if (!Array.isArray(value)) return value;
  return `{${value.map((item) => (item === null || item === undefined ? 'NULL' : `"${String(item).replace(/["\\]/g, '\\$&')}"`)).join(',')}}`;
}

/** Raw SQL bound to an EntityManager's current transaction (if any). Placeholders are `?`. */
export function sqlOf(em: EntityManager) {
  return async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    return (await em.getConnection().execute(text, params.map(toParam), 'all', em.getTransactionContext())) as T[];
  };
}

export type Sql = ReturnType<typeof sqlOf>;

/** A unique violation, whether the ORM translated it or it came raw from the driver; optionally a named constraint. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string; name?: string; cause?: unknown };
  if (e?.name === 'UniqueConstraintViolationException') return constraint === undefined || isUniqueViolation(e.cause, constraint);
  if (e?.code !== '23505') return false;
  return constraint === undefined || e.constraint === constraint;
}
