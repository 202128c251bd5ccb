import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import type { CommunityDto, InviteDto as InviteSchema } from '../../contracts/communities.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { sqlOf } from '../shared/sql.ts';
import { loadCommunityDto } from './communities.ts';
import { assertNotBanned, loadCommunityAccess } from './membership.ts';
import { CommunityPolicy } from './policies.ts';
import { grantCommunityAccess } from './revoke.ts';

export const INVITE_TTL_DAYS = 7;

export type InviteDto = z.infer<typeof InviteSchema>;

export async function createInvite(deps: Deps, actor: Actor, communityId: string): Promise<InviteDto> {
  const sql = sqlOf(deps.orm.em.fork());
  const access = await loadCommunityAccess(sql, actor.userId, communityId);
  if (!CommunityPolicy.invite(access)) throw new AppError('forbidden', 'Only moderators, admins and owners can invite people.');
  // 18 random bytes: 24 URL-safe characters, unguessable.
  const code = randomBytes(18).toString('base64url');
  const [row] = await sql<{ expires_at: Date | string }>(
    `insert into community_invites (code, community_id, created_by_id, expires_at)
     values (?, ?, ?, now() + make_interval(days => ?)) returning expires_at`,
    [code, communityId, actor.userId, INVITE_TTL_DAYS],
  );
  return { code, expiresAt: new Date(row!.expires_at).toISOString() };
}

/**
 * Joins through an invite (private communities too). The invite row is locked, so `max_uses` holds under concurrent
 * accepts; a member who accepts again keeps their role and does not use the invite up.
 */
export async function acceptInvite(deps: Deps, actor: Actor, code: string): Promise<CommunityDto> {
  const em = deps.orm.em.fork();
  const community = await em.transactional(async (tx) => {
    const sql = sqlOf(tx);
    const [invite] = await sql<{ community_id: string; expired: boolean; used_up: boolean; member: boolean }>(
      `select i.community_id, i.expires_at <= now() as expired, i.uses >= i.max_uses as used_up,
              exists (select 1 from community_members m where m.community_id = i.community_id and m.user_id = ?) as member
       from community_invites i join communities c on c.id = i.community_id
       where i.code = ? and c.archived_at is null
       for update of i`,
      [actor.userId, code],
    );
    if (!invite) throw new AppError('not_found', 'This invite does not exist.');
    if (!invite.member) {
      if (invite.expired) throw new AppError('conflict', 'This invite has expired; ask for a new one.');
      if (invite.used_up) throw new AppError('conflict', 'This invite has been used up; ask for a new one.');
      // An invite does not override a ban or a kick's block.
      await assertNotBanned(sql, invite.community_id, actor.userId, deps.clock.now());
      const joined = await sql(
        `insert into community_members (community_id, user_id, role) values (?, ?, 'member') on conflict do nothing returning user_id`,
        [invite.community_id, actor.userId],
      );
      if (joined.length) await sql('update community_invites set uses = uses + 1 where code = ?', [code]);
    }
    return loadCommunityDto(sql, actor.userId, invite.community_id, deps.clock.now());
  });
  grantCommunityAccess(deps, actor.userId, community.id);
  return community;
}
