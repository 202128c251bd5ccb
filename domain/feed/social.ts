import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';

/*
 * Following and muting are the caller's own choices about their feeds, so both are idempotent and visible to no one
 * else. Following brings a person's posts into the home feed (in communities the caller can read); muting hides their
 * posts and comments from the caller everywhere in the feed. Blocking lives with DMs (domain/communities/blocks.ts);
 * the feed queries honour it both ways.
 */

async function assertOtherUser(sql: Sql, actor: Actor, userId: string, verb: string): Promise<void> {
  if (userId === actor.userId) throw new AppError('invalid_input', `You cannot ${verb} yourself.`);
  const [user] = await sql('select 1 as ok from users where id = ?', [userId]);
  if (!user) throw new AppError('not_found', 'No such user.');
}

export async function followUser(deps: Deps, actor: Actor, userId: string): Promise<void> {
  const sql = sqlOf(deps.orm.em.fork());
  await assertOtherUser(sql, actor, userId, 'follow');
  await sql('insert into user_follows (follower_id, followee_id, created_at) values (?, ?, ?) on conflict do nothing', [
    actor.userId,
    userId,
    deps.clock.now(),
  ]);
}

export async function unfollowUser(deps: Deps, actor: Actor, userId: string): Promise<void> {
  await sqlOf(deps.orm.em.fork())('delete from user_follows where follower_id = ? and followee_id = ?', [actor.userId, userId]);
}

export async function muteUser(deps: Deps, actor: Actor, userId: string): Promise<void> {
  const sql = sqlOf(deps.orm.em.fork());
  await assertOtherUser(sql, actor, userId, 'mute');
  await sql('insert into user_mutes (muter_id, muted_id, created_at) values (?, ?, ?) on conflict do nothing', [actor.userId, userId, deps.clock.now()]);
}

export async function unmuteUser(deps: Deps, actor: Actor, userId: string): Promise<void> {
  await sqlOf(deps.orm.em.fork())('delete from user_mutes where muter_id = ? and muted_id = ?', [actor.userId, userId]);
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
  const [row] = await sqlOf(deps.orm.em.fork())<Omit<Relationship, 'userId'>>(
    `with me as (select ?::uuid as id)
     select exists (select 1 from user_follows f where f.follower_id = me.id and f.followee_id = u.id) as following,
            exists (select 1 from user_follows f where f.follower_id = u.id and f.followee_id = me.id) as "followsMe",
            exists (select 1 from user_mutes m where m.muter_id = me.id and m.muted_id = u.id) as muted,
            exists (select 1 from user_blocks b where b.blocker_id = me.id and b.blocked_id = u.id) as blocked,
            (select count(*)::int from user_follows f where f.followee_id = u.id) as "followerCount",
            (select count(*)::int from user_follows f where f.follower_id = u.id) as "followingCount"
     from users u, me where u.id = ?`,
    [actor.userId, userId],
  );
  if (!row) throw new AppError('not_found', 'No such user.');
  return { userId, ...row };
}
