import { sql } from 'kysely';
import type { Db } from '../../orm/db.ts';

/*
 * Posts and comments each carry a version (PostDto.version). Every change that the live feed announces moves it on in
 * the transaction that makes the change, with the item's row locked, so versions of one item follow commit order even
 * when two nodes change it at once; the event then names the version its change produced. Clients keep the newest copy
 * by version, not by arrival: a hide committed after an edit wins even when the edit's event is delivered last.
 */

/** The SET value that moves an item's version on, in the statement that makes the change. */
export const nextVersion = sql<number>`version + 1`;

/** Moves a post's or comment's version on for a change made in other tables (votes, reactions); answers the new one. */
export async function bumpVersion(q: Db, table: 'posts' | 'comments', id: string): Promise<number> {
  const row =
    table === 'posts'
      ? await q.updateTable('posts').set({ version: nextVersion }).where('id', '=', id).returning('version').executeTakeFirstOrThrow()
      : await q.updateTable('comments').set({ version: nextVersion }).where('id', '=', id).returning('version').executeTakeFirstOrThrow();
  return row.version;
}
