import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { z } from 'zod';
import type { CommunityDto, InviteDto as InviteSchema } from '../../contracts/communities.ts';
import { db } from '../../orm/db.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { loadCommunityDto } from './communities.ts';
import { assertNotBanned } from '../access/membership.ts';
import { loadCommunityAccess } from '../access/community.ts';
import { CommunityPolicy } from '../access/community.ts';

export const INVITE_TTL_DAYS = 7;

export type InviteDto = z.infer<typeof InviteSchema>;

export async function createInvite(deps: Deps, actor: Actor, communityId: string): Promise<InviteDto> {
  const q = db(deps.orm.em.fork());
  const access = await loadCommunityAccess(q, actor.userId, communityId);
  if (!CommunityPolicy.invite(access)) throw new AppError('forbidden', 'Only moderators, admins and owners can invite people.');
  await deps.actionLimits.invites.consume(actor.userId, 1, 'You have created many invites in the last hour; reuse one or try again later.');
  // 18 random bytes: 24 URL-safe characters, unguessable.
  const code = randomBytes(18).toString('base64url');
  const invite = await q
    .insertInto('community_invites')
    .values({
      code,
      community_id: communityId,
      created_by_id: actor.userId,
      expires_at: sql<Date>`now() + make_interval(days => ${INVITE_TTL_DAYS})`,
    })
    .returning('expires_at')
    .executeTakeFirstOrThrow();
  return { code, expiresAt: invite.expires_at.toISOString() };
}

/**
 * Joins through an invite (private communities too). The invite row is locked, so `max_uses` holds under concurrent
 * accepts; a member who accepts again keeps their role and does not use the invite up.
 */
export async function acceptInvite(deps: Deps, actor: Actor, code: string): Promise<CommunityDto> {
  const em = deps.orm.em.fork();
  const { community, joined } = await em.transactional(async (tx) => {
    const q = db(tx);
    const invite = await q
      .selectFrom('community_invites as i')
      .innerJoin('communities as c', 'c.id', 'i.community_id')
      .select((eb) => [
        'i.community_id',
        eb('i.expires_at', '<=', sql<Date>`now()`).as('expired'),
        eb('i.uses', '>=', eb.ref('i.max_uses')).as('used_up'),
        eb
          .exists(
            eb
              .selectFrom('community_members as m')
              .select('m.user_id')
              .whereRef('m.community_id', '=', 'i.community_id')
              .where('m.user_id', '=', actor.userId),
          )
          .as('member'),
      ])
      .where('i.code', '=', code)
      .where('c.archived_at', 'is', null)
      .forUpdate('i')
      .executeTakeFirst();
    if (!invite) throw new AppError('not_found', 'This invite does not exist.');
    let joined = false;
    if (!invite.member) {
      if (invite.expired) throw new AppError('conflict', 'This invite has expired; ask for a new one.');
      if (invite.used_up) throw new AppError('conflict', 'This invite has been used up; ask for a new one.');
      // An invite does not override a ban or a kick's block.
      await assertNotBanned(q, invite.community_id, actor.userId, deps.clock.now());
      const inserted = await q
        .insertInto('community_members')
        .values({ community_id: invite.community_id, user_id: actor.userId, role: 'member' })
        .onConflict((oc) => oc.doNothing())
        .returning('user_id')
        .execute();
      joined = inserted.length > 0;
      if (joined) {
        await q
          .updateTable('community_invites')
          .set((eb) => ({ uses: eb('uses', '+', 1) }))
          .where('code', '=', code)
          .execute();
      }
    }
    return { community: await loadCommunityDto(q, actor.userId, invite.community_id, deps.clock.now()), joined };
  });
  if (joined) await deps.events.emit('member.joined', { communityId: community.id, userId: actor.userId });
  return community;
}
