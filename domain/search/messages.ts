import { sql } from 'kysely';
import type { MessageDto } from '../../contracts/chat.ts';
import { db } from '../../orm/db.ts';
import { moderatedChannelIds, readableChannelIds } from '../access/channel.ts';
import { messageFindable } from '../access/message.ts';
import { loadMessages } from '../chat/presentMessages.ts';
import type { Actor, Deps } from '../shared/deps.ts';

/**
 * Full-text search over every message the caller can read (PostgreSQL, folded like the explorer's index: case and accents do not matter; quoted phrases and -exclusions work): the channels are
 * `readableChannelIds`, the very rule that opens a channel, so a 1:1 DM taken away by a block yields nothing. Hidden
 * messages are found only by those who moderate their channel (`moderatedChannelIds`), and come back marked hidden.
 */
export async function searchMessages(
  deps: Deps,
  actor: Actor,
  query: { q: string; communityId?: string; limit: number },
): Promise<MessageDto[]> {
  const q = db(deps.orm.em.fork());
  const rows = await q
    .with('moderated', (w) => moderatedChannelIds(w, actor))
    .selectFrom('messages as m')
    .select((eb) => {
      const moderates = eb('m.channel_id', 'in', eb.selectFrom('moderated').select('moderated.id'));
      return ['m.id', 'm.channel_id', moderates.$castTo<boolean>().as('moderates')];
    })
    .where('m.channel_id', 'in', readableChannelIds(q, actor))
    .where(sql<boolean>`m.search @@ websearch_to_tsquery('simple', search_fold(${query.q}))`)
    .where((eb) => messageFindable(eb('m.channel_id', 'in', eb.selectFrom('moderated').select('moderated.id'))))
    .$if(query.communityId !== undefined, (qb) =>
      qb.where('m.channel_id', 'in', q.selectFrom('channels').select('id').where('community_id', '=', query.communityId!)),
    )
    .orderBy('m.created_at', 'desc')
    .limit(query.limit)
    .execute();
  const moderated = new Set(rows.filter((r) => r.moderates).map((r) => r.channel_id));
  const messages = await loadMessages(q, rows.map((r) => r.id), moderated);
  return rows.map((r) => messages.get(r.id)!);
}
