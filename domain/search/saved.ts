import { sql } from 'kysely';
import type { z } from 'zod';
import type { PlatformRole } from '../../contracts/auth.ts';
import { SavedSearchFilters, type SavedSearchDto, type SavedSearchInput } from '../../contracts/search.ts';
import { db, uuids, type Db } from '../../orm/db.ts';
import { notify } from '../notifications/notify.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { periodicSweep } from '../shared/jobs.ts';
import { parseInput } from '../shared/validate.ts';

/*
 * Saved searches and their alerts. A saved search is the query string of /search (without a cursor), kept with a
 * name; with `alert` on, a periodic sweep (one pending cluster-wide, every SAVED_SEARCH_ALERT_EVERY_MS) runs it for
 * its owner, as the owner (their role and memberships: what they may see, nothing more), against the index of record
 * for documents first indexed after its `checked_at`, and tells them once when there are some ("3 new results for
 * “javascript”"), then moves `checked_at` on.
 *
 * Exactly once. Each saved search is taken in a transaction of its own with `for update skip locked`, so two nodes (or
 * a retried job) never work on one at once, and `checked_at` moves in that transaction. The notification is keyed by
 * the saved search and the moment its window opened (`saved-search:<id>:<checked_at>`): should the node die between
 * storing it and committing the new `checked_at`, the next sweep runs the same window again and stores nothing new.
 *
 * Times are the database's: `checked_at` is compared with `search_documents.first_indexed_at`, which PostgreSQL
 * stamps, so a node whose clock drifts neither repeats nor skips anything. The new `checked_at` is the moment the
 * sweep took the row (in milliseconds, the precision the window is read back with), before its search, and the
 * search counts only documents first indexed up to that moment: consecutive windows meet exactly, so a document is
 * counted by one alert.
 */

/** How many saved searches one person may keep. */
export const SAVED_SEARCH_LIMIT = 20;
export const SAVED_SEARCH_ALERT_EVERY_MS = 60_000;
/** How much earlier than a whole period ago a window may have opened and still be due (see the sweep). */
const DUE_SLACK_MS = 5_000;
const TASK = 'search.saved_alerts' as const;
const KEY = 'saved-search-alerts';
/** Who the sweep acts as is the owner; it has no session of theirs, so it names this one. */
const SWEEP_SESSION_ID = '5a7ed5ea-7c00-4000-8000-000000000001';
/** The `url` column's length. */
const MAX_URL = 500;
/** The `query` column's length. */
const MAX_QUERY = 1000;

declare module '../shared/jobs.ts' {
  interface JobPayloads {
    /** The periodic sweep that runs saved searches with alerts (one pending, re-queued by each run). */
    'search.saved_alerts': Record<string, never>;
  }
}

/**
 * A saved search's query string as the filters of /search: `q=javascript&types=course` (a leading `?` is allowed).
 * Each parameter once; unknown ones, a cursor or a limit are refused. Returns the filters and the canonical string.
 */
export function parseSavedQuery(query: string): { filters: SavedFilters; query: string } {
  const params = new URLSearchParams(query.trim().replace(/^\?/, ''));
  const entries = [...params.entries()];
  const names = entries.map(([name]) => name);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  const refuse = (problem: string) =>
    new AppError('invalid_input', `This search cannot be saved: ${problem}`, { details: { fields: { query: problem } } });
  if (repeated !== undefined) throw refuse(`${repeated.slice(0, 20)} appears twice.`);
  let filters: SavedFilters;
  try {
    filters = parseInput(SavedSearchFilters, Object.fromEntries(entries));
  } catch (err) {
    throw err instanceof AppError ? refuse(err.message) : err;
  }
  const canonical = params.toString();
  if (canonical.length > MAX_QUERY) throw refuse(`it is longer than ${MAX_QUERY} characters once encoded.`);
  return { filters, query: canonical };
}
type SavedFilters = z.output<typeof SavedSearchFilters>;

const columns = ['id', 'name', 'query', 'alert', 'created_at'] as const;

function dto(row: { id: string; name: string; query: string; alert: boolean; created_at: Date }): SavedSearchDto {
  return { id: row.id, name: row.name, query: row.query, alert: row.alert, createdAt: row.created_at.toISOString() };
}

/** My saved searches, newest first. */
export async function listSavedSearches(deps: Deps, actor: Actor): Promise<SavedSearchDto[]> {
  const rows = await db(deps.orm.em.fork())
    .selectFrom('saved_searches')
    .select(columns)
    .where('user_id', '=', actor.userId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
  return rows.map(dto);
}

/** Saves a search (at most SAVED_SEARCH_LIMIT each: `conflict` beyond). Its alert window opens now. */
export async function saveSearch(deps: Deps, actor: Actor, input: SavedSearchInput): Promise<SavedSearchDto> {
  const { query } = parseSavedQuery(input.query);
  return deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    // One save at a time per person, so two at once cannot both pass the count.
    const owner = await q.selectFrom('users').select('id').where('id', '=', actor.userId).forNoKeyUpdate().executeTakeFirst();
    if (!owner) throw new AppError('unauthenticated', 'Sign in first.');
    const { n } = await q
      .selectFrom('saved_searches')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('user_id', '=', actor.userId)
      .executeTakeFirstOrThrow();
    if (n >= SAVED_SEARCH_LIMIT) {
      throw new AppError('conflict', `You can keep ${SAVED_SEARCH_LIMIT} saved searches: remove one first.`, { details: { limit: SAVED_SEARCH_LIMIT } });
    }
    const row = await q
      .insertInto('saved_searches')
      .values({
        id: crypto.randomUUID(),
        user_id: actor.userId,
        name: input.name,
        query,
        alert: input.alert,
        created_at: sql<Date>`now()`,
        checked_at: sql<Date>`date_trunc('milliseconds', now())`,
      })
      .returning(columns)
      .executeTakeFirstOrThrow();
    return dto(row);
  });
}

/** Renames a saved search of mine or turns its alert on or off (turned on, its window opens now). Another's: not found. */
export async function updateSavedSearch(deps: Deps, actor: Actor, id: string, changes: { name?: string; alert?: boolean }): Promise<SavedSearchDto> {
  const row = await db(deps.orm.em.fork())
    .updateTable('saved_searches')
    .set((eb) => ({
      ...(changes.name !== undefined ? { name: changes.name } : {}),
      ...(changes.alert !== undefined ? { alert: changes.alert } : {}),
      // Switched on again: what was indexed while it was off is not news.
      ...(changes.alert === true
        ? { checked_at: sql<Date>`case when ${eb.ref('alert')} then ${eb.ref('checked_at')} else date_trunc('milliseconds', now()) end` }
        : {}),
    }))
    .where('id', '=', id)
    .where('user_id', '=', actor.userId)
    .returning(columns)
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', 'No such saved search.');
  return dto(row);
}

/** Removes a saved search of mine (another's: not found). */
export async function deleteSavedSearch(deps: Deps, actor: Actor, id: string): Promise<void> {
  const result = await db(deps.orm.em.fork()).deleteFrom('saved_searches').where('id', '=', id).where('user_id', '=', actor.userId).executeTakeFirst();
  if (!result.numDeletedRows) throw new AppError('not_found', 'No such saved search.');
}

/** Where the alert leads: the search itself (or just its words, should the whole query not fit the column). */
export function savedSearchUrl(query: string, filters: Pick<SavedFilters, 'q'>): string {
  const full = `/app/search?${query}`;
  if (full.length <= MAX_URL) return full;
  const words = `/app/search?${new URLSearchParams({ q: filters.q }).toString()}`;
  return words.length <= MAX_URL ? words : '/app/search';
}

const plural = (n: number, one: string, many: string) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** Takes the next saved search due (window opened before `dueBefore`), in `q`'s transaction, skipping those another sweep holds. */
function nextDue(q: Db, dueBefore: Date, skip: readonly string[]) {
  return q
    .selectFrom('saved_searches as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['s.id', 's.user_id', 's.name', 's.query', 's.checked_at', 'u.role', 'u.suspended_at'])
    .select(sql<Date>`date_trunc('milliseconds', now())`.as('now'))
    .where('s.alert', '=', true)
    .where('s.checked_at', '<', dueBefore)
    .$if(skip.length > 0, (qb) => qb.where('s.id', '!=', sql<string>`all(${uuids(skip)})`))
    .orderBy('s.checked_at')
    .orderBy('s.id')
    .limit(1)
    .forUpdate('s')
    .skipLocked()
    .executeTakeFirst();
}

/**
 * Runs every saved search with an alert whose window opened more than `periodMs` (SAVED_SEARCH_ALERT_EVERY_MS; tests
 * pass 0) before the sweep began, one transaction each, and notifies owners of new results. Returns how many
 * notifications it stored.
 */
export async function sweepSavedSearchAlerts(deps: Deps, options: { periodMs?: number } = {}): Promise<number> {
  const periodMs = options.periodMs ?? SAVED_SEARCH_ALERT_EVERY_MS;
  const q0 = db(deps.orm.em.fork());
  const { start } = (await sql<{ start: Date }>`select now() as start`.execute(q0)).rows[0]!;
  // Each window moves to a moment after `start`, so every saved search is taken once per sweep. A little slack, so
  // that one checked a moment into the last sweep is due in this one rather than the one after.
  const dueBefore = new Date(start.getTime() - Math.max(0, periodMs - DUE_SLACK_MS));
  let notified = 0;
  // One that fails stays due (its window unmoved) for the next sweep; this one passes over it.
  const failed: string[] = [];
  for (;;) {
    const more = await deps.orm.em.fork().transactional(async (tx) => {
      const q = db(tx);
      const due = await nextDue(q, dueBefore, failed);
      if (!due) return false;
      try {
        notified += await alertOne(deps, due);
      } catch (err) {
        failed.push(due.id);
        deps.logger.warn({ err: String(err), savedSearchId: due.id }, 'saved search alert failed; the next sweep tries again');
        return true;
      }
      await q.updateTable('saved_searches').set({ checked_at: due.now }).where('id', '=', due.id).execute();
      return true;
    });
    if (!more) return notified;
  }
}

/** One saved search's window: searches it as its owner and stores the alert. Returns 1 when it stored one. */
async function alertOne(
  deps: Deps,
  due: { id: string; user_id: string; name: string; query: string; checked_at: Date; now: Date; role: PlatformRole; suspended_at: Date | null },
): Promise<number> {
  if (due.suspended_at) return 0;
  let filters: SavedFilters;
  try {
    filters = parseSavedQuery(due.query).filters;
  } catch {
    // Saved under rules that changed since: nothing to run; its window moves on.
    deps.logger.warn({ savedSearchId: due.id }, 'a saved search no longer parses; its alert is skipped');
    return 0;
  }
  const owner: Actor = { userId: due.user_id, sessionId: SWEEP_SESSION_ID, role: due.role };
  const result = await deps.search.searchIndexOfRecord(owner, { ...filters, limit: 3 }, { newSince: due.checked_at, newUntil: due.now });
  if (result.total === 0) return 0;
  return notify(deps, [
    {
      userId: due.user_id,
      kind: 'saved_search',
      sourceKey: `saved-search:${due.id}:${due.checked_at.toISOString()}`,
      subjectType: 'saved_search',
      subjectId: due.id,
      title: `${plural(result.total, 'new result', 'new results')} for “${due.name}”`,
      body: result.hits.map((h) => h.title).join(' · '),
      url: savedSearchUrl(due.query, filters),
    },
  ]);
}

const sweep = periodicSweep(TASK, KEY, SAVED_SEARCH_ALERT_EVERY_MS, (deps: Deps) => sweepSavedSearchAlerts(deps));

/** Queues the periodic sweep (a restart neither adds nor delays one). */
export const scheduleSavedSearchAlerts = sweep.schedule;

/** 'search.saved_alerts': queues the next sweep, then alerts the saved searches that are due. */
export const savedSearchAlertJob = sweep.job;
