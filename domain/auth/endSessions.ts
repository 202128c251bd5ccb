import type { Db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import { announceRevocation } from './sessions.ts';

/**
 * Inside the caller's transaction: revokes every active session of the user except `keepSessionId` (the device that
 * made the change), and retires the user's unused password-reset links, since a new password or address makes them
 * stale. Returns the revoked session ids for `announceEndedSessions` after commit.
 */
export async function endSessionsInTx(q: Db, userId: string, at: Date, keepSessionId: string | null): Promise<string[]> {
  let update = q
    .updateTable('sessions')
    .set({ revoked_at: at, revoked_reason: 'revoked' })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null);
  if (keepSessionId) update = update.where('id', '!=', keepSessionId);
  const sessions = await update.returning('id').execute();
  await q
    .updateTable('password_reset_tokens')
    .set({ used_at: at })
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .execute();
  return sessions.map((s) => s.id);
}

/** After commit: each ended session's access tokens are refused and its sockets cut, on every node. */
export async function announceEndedSessions(deps: Deps, sessionIds: readonly string[]): Promise<void> {
  await Promise.all(sessionIds.map((sessionId) => announceRevocation(deps, { sessionId, reason: 'revoked' })));
}
