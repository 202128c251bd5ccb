import type { UserRef } from '../../contracts/communities.ts';
import { db } from '../../orm/db.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { dmKeyOf } from './dms.ts';
import { revokeChannelAccess } from './revoke.ts';

export interface BlockDto {
  user: UserRef;
  blockedAt: string;
}

/**
 * Blocks a user: neither can DM the other any more (ChannelPolicy.post refuses in every shared DM), and the blocked
 * user is taken out of the 1:1 DM live, on every node. Idempotent.
 */
export async function blockUser(deps: Deps, actor: Actor, userId: string): Promise<void> {
  if (userId === actor.userId) throw new AppError('invalid_input', 'You cannot block yourself.');
  const em = deps.orm.em.fork();
  const dmIds = await em.transactional(async (tx) => {
    const q = db(tx);
    const user = await q.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
    if (!user) throw new AppError('not_found', 'No such user.');
    await q
      .insertInto('user_blocks')
      .values({ blocker_id: actor.userId, blocked_id: userId })
      .onConflict((oc) => oc.doNothing())
      .execute();
    const dms = await q.selectFrom('channels').select('id').where('dm_key', '=', dmKeyOf(actor.userId, userId)).execute();
    return dms.map((d) => d.id);
  });
  await revokeChannelAccess(deps, userId, dmIds);
}

export async function unblockUser(deps: Deps, actor: Actor, userId: string): Promise<void> {
  await db(deps.orm.em.fork())
    .deleteFrom('user_blocks')
    .where('blocker_id', '=', actor.userId)
    .where('blocked_id', '=', userId)
    .execute();
}

/** The people the caller has blocked, most recent first. */
export async function listBlocks(deps: Deps, actor: Actor): Promise<BlockDto[]> {
  const rows = await db(deps.orm.em.fork())
    .selectFrom('user_blocks as b')
    .innerJoin('users as u', 'u.id', 'b.blocked_id')
    .select(['u.id', 'u.display_name', 'b.created_at'])
    .where('b.blocker_id', '=', actor.userId)
    .orderBy('b.created_at', 'desc')
    .orderBy('u.id')
    .execute();
  return rows.map((r) => ({ user: { id: r.id, displayName: r.display_name }, blockedAt: r.created_at.toISOString() }));
}
