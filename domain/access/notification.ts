import { expressionBuilder, type Expression, type QueryCreator, type SqlBool } from 'kysely';
import type { DB } from '../../orm/db.ts';
import { readableChannelIds } from './channel.ts';

/*
 * A notification is shown only while its recipient may still read what it is about: one about a message disappears
 * (from the list and the unread count) once the message is hidden or deleted or once the recipient can no longer read
 * its channel (removed from it or from the community, a blocked DM); one whose actor the recipient has blocked never
 * shows. Creating one asks the same question, so nobody is told about what they cannot read.
 */

type Scope = DB & { n: DB['notifications'] };

/** Over the notification row `n` of recipient `userId`: whether they may still see it. */
export function notificationVisibleTo(q: QueryCreator<DB>, userId: string): Expression<SqlBool> {
  const eb = expressionBuilder<Scope, 'n'>();
  const aboutReadableMessage = eb.exists(
    eb
      .selectFrom('messages as m')
      .select('m.id')
      .whereRef('m.id', '=', 'n.subject_id')
      .where('m.deleted_at', 'is', null)
      .where('m.hidden_at', 'is', null)
      .where('m.channel_id', 'in', readableChannelIds(q, { userId })),
  );
  const actorBlocked = eb.exists(
    eb.selectFrom('user_blocks as b').select('b.blocker_id').where('b.blocker_id', '=', userId).whereRef('b.blocked_id', '=', 'n.actor_id'),
  );
  return eb.and([eb.or([eb('n.subject_type', '<>', 'message'), aboutReadableMessage]), eb.not(actorBlocked)]);
}
