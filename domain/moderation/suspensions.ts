import type { SuspensionDto } from '../../contracts/moderation.ts';
import { db } from '../../orm/db.ts';
import { queriesOf, type Queries } from '../access/queries.ts';
import { announceRevocation } from '../auth/sessions.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { recordAudit } from './audit.ts';
import { ModerationPolicy } from '../access/moderation.ts';

/**
 * Sign-in refuses a suspended account — asked only after the password was proven, so guessing reveals nothing. Run it
 * in the transaction that opens the session: the share lock makes a suspension committing at the same moment wait for
 * the new session and revoke it too.
 */
export async function assertNotSuspended(source: Queries, userId: string): Promise<void> {
  const user = await queriesOf(source).selectFrom('users').select('suspended_at').where('id', '=', userId).forShare().executeTakeFirst();
  if (user?.suspended_at) throw new AppError('forbidden', 'This account is suspended. Contact support if you think this is a mistake.');
}

function authorizeSuspension(actor: Actor, userId: string): void {
  if (!ModerationPolicy.suspend(actor)) throw new AppError('forbidden', 'Only platform admins can suspend accounts.');
  if (userId === actor.userId) throw new AppError('forbidden', 'You cannot suspend your own account.');
}

/**
 * A platform admin suspends an account: it is marked, every session is revoked in the same transaction, and after
 * commit each session's access tokens are refused and its sockets cut on every node. Sign-in stays refused until the
 * suspension is lifted.
 */
export async function suspendUser(deps: Deps, actor: Actor, userId: string, reason: string): Promise<SuspensionDto> {
  authorizeSuspension(actor, userId);
  const { suspension, sessionIds } = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const user = await q.selectFrom('users').select(['display_name', 'suspended_at']).where('id', '=', userId).forUpdate().executeTakeFirst();
    if (!user) throw new AppError('not_found', 'No such user.');
    if (user.suspended_at) throw new AppError('conflict', 'This account is already suspended.');
    const at = deps.clock.now();
    await q.updateTable('users').set({ suspended_at: at, suspended_reason: reason }).where('id', '=', userId).execute();
    const sessions = await q
      .updateTable('sessions')
      .set({ revoked_at: at, revoked_reason: 'revoked' })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .returning('id')
      .execute();
    await recordAudit(
      q,
      {
        communityId: null,
        actorId: actor.userId,
        action: 'suspend',
        targetType: 'user',
        targetId: userId,
        targetUserId: userId,
        reason,
        before: { suspendedAt: null },
        after: { suspendedAt: at.toISOString(), sessionsRevoked: sessions.length },
      },
      at,
    );
    await deps.events.record(tx, 'user.suspended', { userId });
    return {
      suspension: { user: { id: userId, displayName: user.display_name }, reason, suspendedAt: at.toISOString(), sessionsRevoked: sessions.length },
      sessionIds: sessions.map((s) => s.id),
    };
  });
  await Promise.all(sessionIds.map((sessionId) => announceRevocation(deps, { sessionId, reason: 'revoked' })));
  await deps.events.emit('user.suspended', { userId });
  return suspension;
}

/** Lifts a suspension: the person may sign in again (their old sessions stay revoked). */
export async function unsuspendUser(deps: Deps, actor: Actor, userId: string): Promise<void> {
  authorizeSuspension(actor, userId);
  await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const user = await q.selectFrom('users').select(['suspended_at', 'suspended_reason']).where('id', '=', userId).forUpdate().executeTakeFirst();
    if (!user) throw new AppError('not_found', 'No such user.');
    if (!user.suspended_at) throw new AppError('conflict', 'This account is not suspended.');
    await q.updateTable('users').set({ suspended_at: null, suspended_reason: null }).where('id', '=', userId).execute();
    await recordAudit(
      q,
      {
        communityId: null,
        actorId: actor.userId,
        action: 'unsuspend',
        targetType: 'user',
        targetId: userId,
        targetUserId: userId,
        before: { suspendedAt: user.suspended_at.toISOString(), reason: user.suspended_reason },
        after: { suspendedAt: null },
      },
      deps.clock.now(),
    );
    await deps.events.record(tx, 'user.unsuspended', { userId });
  });
  await deps.events.emit('user.unsuspended', { userId });
}
