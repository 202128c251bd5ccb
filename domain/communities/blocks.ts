import type { UserRef } from '../../contracts/communities.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { sqlOf } from '../shared/sql.ts';
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
    const sql = sqlOf(tx);
    const [user] = await sql('select 1 as ok from users where id = ?', [userId]);
    if (!user) throw new AppError('not_found', 'No such user.');
    await sql('insert into user_blocks (blocker_id, blocked_id) values (?, ?) on conflict do nothing', [actor.userId, userId]);
    const dms = await sql<{ id: string }>('select id from channels where dm_key = ?', [dmKeyOf(actor.userId, userId)]);
    return dms.map((d) => d.id);
  });
  revokeChannelAccess(deps, userId, dmIds);
}

export async function unblockUser(deps: Deps, actor: Actor, userId: string): Promise<void> {
  await sqlOf(deps.orm.em.fork())('delete from user_blocks where blocker_id = ? and blocked_id = ?', [actor.userId, userId]);
}

/** The people the caller has blocked, most recent first. */
export async function listBlocks(deps: Deps, actor: Actor): Promise<BlockDto[]> {
  const rows = await sqlOf(deps.orm.em.fork())<{ id: string; display_name: string; created_at: Date | string }>(
    `select u.id, u.display_name, b.created_at from user_blocks b join users u on u.id = b.blocked_id
     where b.blocker_id = ? order by b.created_at desc, u.id`,
    [actor.userId],
  );
  return rows.map((r) => ({ user: { id: r.id, displayName: r.display_name }, blockedAt: new Date(r.created_at).toISOString() }));
}
