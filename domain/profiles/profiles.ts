import type { MyProfileDto, PublicProfileDto, UpdateProfileInput } from '../../contracts/profiles.ts';
import { db, type Db } from '../../orm/db.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { avatarUrlOf } from './avatar.ts';
import './events.ts';

/*
 * Profiles: a display name, a one-line headline, a plain-text bio and an avatar. Any signed-in person may see anyone's
 * card, except across a block (either way): then the other person does not exist for them.
 */

async function loadProfileRow(q: Db, userId: string) {
  return q
    .selectFrom('users')
    .select(['id', 'display_name', 'headline', 'bio', 'avatar_asset_id', 'created_at'])
    .where('id', '=', userId)
    .executeTakeFirst();
}

type ProfileRow = NonNullable<Awaited<ReturnType<typeof loadProfileRow>>>;

const presentProfile = (row: ProfileRow): MyProfileDto => ({
  id: row.id,
  displayName: row.display_name,
  headline: row.headline,
  bio: row.bio,
  avatarUrl: avatarUrlOf(row),
});

export async function getMyProfile(deps: Deps, actor: Actor): Promise<MyProfileDto> {
  const row = await loadProfileRow(db(deps.orm.em.fork()), actor.userId);
  if (!row) throw new AppError('unauthenticated', 'This account no longer exists.');
  return presentProfile(row);
}

export async function updateMyProfile(deps: Deps, actor: Actor, input: UpdateProfileInput): Promise<MyProfileDto> {
  await deps.orm.em.fork().transactional(async (tx) => {
    const updated = await db(tx)
      .updateTable('users')
      .set({ display_name: input.displayName, headline: input.headline, bio: input.bio, updated_at: deps.clock.now() })
      .where('id', '=', actor.userId)
      .returning('id')
      .executeTakeFirst();
    if (!updated) throw new AppError('unauthenticated', 'This account no longer exists.');
    await deps.events.record(tx, 'profile.updated', { userId: actor.userId });
  });
  await deps.events.emit('profile.updated', { userId: actor.userId });
  return getMyProfile(deps, actor);
}

/** Whether either of two people has blocked the other. */
export async function blockedEitherWay(q: Db, a: string, b: string): Promise<boolean> {
  const row = await q
    .selectFrom('user_blocks')
    .select('blocker_id')
    .where((eb) =>
      eb.or([eb.and([eb('blocker_id', '=', a), eb('blocked_id', '=', b)]), eb.and([eb('blocker_id', '=', b), eb('blocked_id', '=', a)])]),
    )
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** `GET /users/:id/profile`: someone's public card, with the communities we both belong to. */
export async function getPublicProfile(deps: Deps, actor: Actor, userId: string): Promise<PublicProfileDto> {
  const q = db(deps.orm.em.fork());
  const [row, blocked] = await Promise.all([loadProfileRow(q, userId), userId === actor.userId ? false : blockedEitherWay(q, actor.userId, userId)]);
  if (!row || blocked) throw new AppError('not_found', 'No such person.');
  const shared = await q
    .selectFrom('community_members as mine')
    .innerJoin('community_members as theirs', (join) =>
      join.onRef('theirs.community_id', '=', 'mine.community_id').on('theirs.user_id', '=', userId),
    )
    .innerJoin('communities as c', 'c.id', 'mine.community_id')
    .select(['c.id', 'c.name'])
    .where('mine.user_id', '=', actor.userId)
    .orderBy('c.name')
    .orderBy('c.id')
    .limit(50)
    .execute();
  return { ...presentProfile(row), communitiesInCommon: shared.map((c) => ({ id: c.id, name: c.name })), createdAt: row.created_at.toISOString() };
}
