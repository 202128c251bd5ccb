import { sql, type ExpressionBuilder } from 'kysely';
import { z } from 'zod';
import type { FeedPage } from '../../contracts/feed.ts';
import { db, type DB } from '../../orm/db.ts';
import { barredAt } from '../access/membership.ts';
import { postListedTo } from '../access/post.ts';
import { decodeCursor, encodeCursor } from '../communities/cursor.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { cursorTime, orderedPosts } from './feedQueries.ts';

/** Older posts have decayed below anything fresh; the window also bounds the work per page. */
export const HOME_FEED_WINDOW_DAYS = 30;

/** The scope the score is computed in: a post `p` and the moment `t.at`. */
type ScoreScope = ExpressionBuilder<DB & { p: DB['posts']; t: { at: Date } }, 'p' | 't'>;

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
function scoreAsOfT(eb: ScoreScope) {
  const comments = eb
    .selectFrom('comments as cm')
    .select(sql<number>`count(*)`.as('n'))
    .whereRef('cm.post_id', '=', 'p.id')
    .whereRef('cm.created_at', '<=', 't.at')
    .where((w) => w.or([w('cm.deleted_at', 'is', null), w('cm.deleted_at', '>', w.ref('t.at'))]))
    .where((w) => w.or([w('cm.hidden_at', 'is', null), w('cm.hidden_at', '>', w.ref('t.at'))]));
  const reactions = eb
    .selectFrom('post_reactions as r')
    .select(sql<number>`count(*)`.as('n'))
    .whereRef('r.post_id', '=', 'p.id')
    .whereRef('r.created_at', '<=', 't.at');
  return sql<number>`((1 + 2 * ${comments} + ${reactions})::float8 / power(extract(epoch from (t.at - p.created_at))::float8 / 3600 + 2, 1.5))`;
}

/** The moment T, then the last (score, id) served. */
const HomeCursor = z.tuple([cursorTime(z.iso.datetime()), z.number().finite(), z.uuid()]);

/**
 * The caller's home feed: posts in their communities, and posts by people they follow in communities they can read
 * (public ones they are not banned from), ranked by score then id, newest T-window of HOME_FEED_WINDOW_DAYS. What the
 * caller gets is PostPolicy.listed in the members' view: hidden and deleted posts never appear, nor do muted authors
 * or anyone on either side of a block.
 */
export async function listHomeFeed(deps: Deps, actor: Actor, query: { cursor?: string | undefined; limit: number }): Promise<FeedPage> {
  const after = decodeCursor(HomeCursor, query.cursor);
  const at = after?.[0] ?? deps.clock.now().toISOString();
  const me = actor.userId;
  const q = db(deps.orm.em.fork());
  let ranked = q
    .with('t', (w) => w.selectNoFrom(sql<Date>`${at}::timestamptz`.as('at')))
    .with('mine', (w) => w.selectFrom('community_members').select('community_id').where('user_id', '=', me))
    .with('readable', (w) =>
      w
        .selectFrom('communities as c')
        .select('c.id')
        .where('c.archived_at', 'is', null)
        .where((eb) =>
          eb.or([
            eb('c.id', 'in', eb.selectFrom('mine').select('community_id')),
            eb.and([eb('c.visibility', '=', 'public'), eb.not(barredAt(me, eb.ref('c.id'), new Date(at)))]),
          ]),
        ),
    )
    .with('scored', (w) =>
      w
        .selectFrom(['posts as p', 't'])
        .select((eb) => ['p.id', scoreAsOfT(eb).as('score')])
        .where('p.community_id', 'in', (eb) => eb.selectFrom('readable').select('id'))
        .where((eb) =>
          eb.or([
            eb('p.community_id', 'in', eb.selectFrom('mine').select('community_id')),
            eb('p.author_id', 'in', eb.selectFrom('user_follows').select('followee_id').where('follower_id', '=', me)),
          ]),
        )
        .where(postListedTo(me, false))
        .whereRef('p.created_at', '<=', 't.at')
        .where('p.created_at', '>', sql<Date>`t.at - make_interval(days => ${HOME_FEED_WINDOW_DAYS})`),
    )
    .selectFrom('scored')
    .select(['id', 'score']);
  if (after) ranked = ranked.where((eb) => eb(eb.refTuple('score', 'id'), '<', eb.tuple(after[1], after[2])));
  const rows = await ranked
    .orderBy('score', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    data: await orderedPosts(
      q,
      page.map((r) => r.id),
      me,
    ),
    nextCursor: rows.length > query.limit && last ? encodeCursor([at, last.score, last.id]) : null,
  };
}
