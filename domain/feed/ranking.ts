import { z } from 'zod';
import type { FeedPage } from '../../contracts/feed.ts';
import { decodeCursor, encodeCursor } from '../communities/cursor.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { sqlOf } from '../shared/sql.ts';
import { cursorTime, orderedPosts } from './feedQueries.ts';
import { EXCLUDED_AUTHORS, excludedAuthorParams } from './visibility.ts';

/** Older posts have decayed below anything fresh; the window also bounds the work per page. */
export const HOME_FEED_WINDOW_DAYS = 30;

/**
 * The home feed's score of a post, as of a moment T (the first page's time):
 *
 *   score = (1 + 2·comments + reactions) / (ageHours + 2)^1.5
 *
 * where comments are the post's comments that existed and were visible at T, reactions the post's reactions given at
 * or before T, and ageHours = (T − createdAt) in hours. A comment weighs twice a reaction (it takes more effort); the
 * +2 hours keeps brand-new posts from dividing by almost nothing; the 1.5 power makes engagement lose to age within
 * about a day. Computed in SQL so the database orders and compares exactly the same float8 values on every page.
 *
 * Everything is counted as of T, so new posts (created after T) and new engagement (after T) cannot move a post across
 * a page boundary: no duplicates and no gaps. A reaction withdrawn between pages can only lower a score, which never
 * causes a gap (at worst a post already seen comes again; clients key posts by id).
 */
export const SCORE_SQL = `(
  (1
   + 2 * (select count(*) from comments cm
          where cm.post_id = p.id and cm.created_at <= t.at
            and (cm.deleted_at is null or cm.deleted_at > t.at) and (cm.hidden_at is null or cm.hidden_at > t.at))
   + (select count(*) from post_reactions r where r.post_id = p.id and r.created_at <= t.at)
  )::float8
  / power(extract(epoch from (t.at - p.created_at))::float8 / 3600 + 2, 1.5)
)`;

/** The moment T, then the last (score, id) served. */
const HomeCursor = z.tuple([cursorTime(z.iso.datetime()), z.number().finite(), z.uuid()]);

/**
 * The caller's home feed: posts in their communities, and posts by people they follow in communities they can read
 * (public ones they are not banned from), ranked by SCORE_SQL then id, newest T-window of HOME_FEED_WINDOW_DAYS.
 * Hidden and deleted posts never appear; nor do muted authors or anyone on either side of a block.
 */
export async function listHomeFeed(deps: Deps, actor: Actor, query: { cursor?: string | undefined; limit: number }): Promise<FeedPage> {
  const after = decodeCursor(HomeCursor, query.cursor);
  const at = after?.[0] ?? deps.clock.now().toISOString();
  const me = actor.userId;
  const sql = sqlOf(deps.orm.em.fork());
  const rows = await sql<{ id: string; score: number }>(
    `with t as (select ?::timestamptz as at),
     mine as (select community_id from community_members where user_id = ?),
     readable as (
       select c.id from communities c
       where c.archived_at is null
         and (c.id in (select community_id from mine)
              or (c.visibility = 'public' and not exists (
                    select 1 from community_bans b where b.community_id = c.id and b.user_id = ?
                    and (b.expires_at is null or b.expires_at > (select at from t)))))),
     scored as (
       select p.id, ${SCORE_SQL} as score
       from posts p, t
       where p.community_id in (select id from readable)
         and (p.community_id in (select community_id from mine)
              or p.author_id in (select followee_id from user_follows where follower_id = ?))
         and p.deleted_at is null and p.hidden_at is null
         and p.created_at <= t.at and p.created_at > t.at - make_interval(days => ?)
         and p.author_id not in ${EXCLUDED_AUTHORS})
     select id, score from scored
     ${after ? 'where (score, id) < (?::float8, ?::uuid)' : ''}
     order by score desc, id desc limit ?`,
    [at, me, me, me, HOME_FEED_WINDOW_DAYS, ...excludedAuthorParams(me), ...(after ? [after[1], after[2]] : []), query.limit + 1],
  );
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    data: await orderedPosts(
      sql,
      page.map((r) => r.id),
      me,
    ),
    nextCursor: rows.length > query.limit && last ? encodeCursor([at, Number(last.score), last.id]) : null,
  };
}
