import type { Sql } from '../shared/sql.ts';

/**
 * What members may see. A post is visible while neither deleted nor hidden by a moderator; a comment while neither
 * itself nor its post is, and — one level of replies — while its top-level parent is visible too, so a thread never
 * shows replies under a comment that is gone.
 */
export const VISIBLE_POST = (p: string) => `(${p}.deleted_at is null and ${p}.hidden_at is null)`;

export const VISIBLE_COMMENT = (c: string) => `(${c}.deleted_at is null and ${c}.hidden_at is null and (${c}.parent_id is null or exists (
    select 1 from comments vp where vp.id = ${c}.parent_id and vp.deleted_at is null and vp.hidden_at is null)))`;

/**
 * The authors whose content a viewer never sees: people they muted, people they blocked and people who blocked them
 * (a block hides both ways). Takes the viewer id three times as parameters, in this order.
 */
export const EXCLUDED_AUTHORS = `(
    select muted_id from user_mutes where muter_id = ?::uuid
    union all select blocked_id from user_blocks where blocker_id = ?::uuid
    union all select blocker_id from user_blocks where blocked_id = ?::uuid)`;

export const excludedAuthorParams = (viewerId: string) => [viewerId, viewerId, viewerId];

/** True when either of the two has blocked the other. */
export async function blockedBetween(sql: Sql, a: string, b: string): Promise<boolean> {
  if (a === b) return false;
  const rows = await sql(
    `select 1 as blocked from user_blocks where (blocker_id = ? and blocked_id = ?) or (blocker_id = ? and blocked_id = ?) limit 1`,
    [a, b, b, a],
  );
  return rows.length > 0;
}

/**
 * Recomputes a post's comment count (members' view: visible comments) inside the caller's transaction. Every change
 * to a comment's visibility runs with the post row locked, so recounting cannot race and the stored count never drifts.
 */
export async function recountComments(sql: Sql, postId: string): Promise<void> {
  await sql(`update posts set comment_count = (select count(*) from comments c where c.post_id = ? and ${VISIBLE_COMMENT('c')}) where id = ?`, [
    postId,
    postId,
  ]);
}

/** Same for the post's reaction count (a ranking input alongside comments). */
export async function recountReactions(sql: Sql, postId: string): Promise<void> {
  await sql('update posts set reaction_count = (select count(*) from post_reactions r where r.post_id = ?) where id = ?', [postId, postId]);
}
