import { sql } from 'kysely';
import { db, type Db } from '../../orm/db.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import './events.ts';

/*
 * Following and muting are the caller's own choices about their feeds, so both are idempotent and visible to no one
 * else. Following brings a person's posts into the home feed (in communities the caller can read); muting hides their
 * posts and comments from the caller everywhere in the feed. Blocking lives with DMs (domain/communities/blocks.ts);
 * the feed queries honour it both ways (domain/access/post.ts).
 */

async function assertOtherUser(q: Db, actor: Actor, userId: string, verb: string): Promise<void> {
  if (userId === actor.userId) throw new AppError('invalid_input', `You cannot ${verb} yourself.`);
  const user = await q.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
  if (!user) throw new AppError('not_found', 'No such user.');
}

export async function followUser(deps: Deps, actor: Actor, userId: string): Promise<void> {
  const q = db(deps.orm.em.fork());
  await assertOtherUser(q, actor, userId, 'follow');
  const inserted = await q
    .insertInto('user_follows')
    .values({ follower_id: actor.userId, followee_id: userId, created_at: deps.clock.now() })
    .onConflict((oc) => oc.doNothing())
    .returning('followee_id')
    .executeTakeFirst();
  // Only a new follow is news (following again changes nothing).
  if (inserted) await deps.events.emit('user.followed', { followerId: actor.userId, followeeId: userId });
}

export async function unfollowUser(deps: Deps, actor: Actor, userId: string): Promise<void> {
  await db(deps.orm.em.fork()).deleteFrom('user_follows').where('follower_id', '=', actor.userId).where('followee_id', '=', userId).execute();
}

export async function muteUser(deps: Deps, actor: Actor, userId: string): Promise<void> {
  const q = db(deps.orm.em.fork());
  await assertOtherUser(q, actor, userId, 'mute');
  await q
    .insertInto('user_mutes')
    .values({ muter_id: actor.userId, muted_id: userId, created_at: deps.clock.now() })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export async function unmuteUser(deps: Deps, actor: Actor, userId: string): Promise<void> {
  await db(deps.orm.em.fork()).deleteFrom('user_mutes').where('muter_id', '=', actor.userId).where('muted_id', '=', userId).execute();
}

export interface Relationship {
  userId: string;
  following: boolean;
  followsMe: boolean;
  muted: boolean;
  blocked: boolean;
  followerCount: number;
  followingCount: number;
}

/** Where the caller stands with someone, for a profile card. Whether they blocked the caller is not revealed. */
export async function getRelationship(deps: Deps, actor: Actor, userId: string): Promise<Relationship> {
  const me = actor.userId;
  const row = await db(deps.orm.em.fork())
    .selectFrom('users as u')
    .select((eb) => {
      const one = sql.lit(1).as('one');
      const count = sql<number>`count(*)::int`.as('n');
      const follows = (followerId: string, followeeId: string) =>
        eb.exists(eb.selectFrom('user_follows').select(one).where('follower_id', '=', followerId).where('followee_id', '=', followeeId));
      return [
        follows(me, userId).$castTo<boolean>().as('following'),
        follows(userId, me).$castTo<boolean>().as('followsMe'),
        eb
          .exists(eb.selectFrom('user_mutes').select(one).where('muter_id', '=', me).where('muted_id', '=', userId))
          .$castTo<boolean>()
          .as('muted'),
        eb
          .exists(eb.selectFrom('user_blocks').select(one).where('blocker_id', '=', me).where('blocked_id', '=', userId))
          .$castTo<boolean>()
          .as('blocked'),
        eb.selectFrom('user_follows').select(count).where('followee_id', '=', userId).$asScalar().as('followerCount'),
        eb.selectFrom('user_follows').select(count).where('follower_id', '=', userId).$asScalar().as('followingCount'),
      ];
    })
    .where('u.id', '=', userId)
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', 'No such user.');
  return { userId, ...row };
}
