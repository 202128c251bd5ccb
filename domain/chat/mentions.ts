import { sql } from 'kysely';
import { channelReadableBy, type ChannelAccess } from '../access/channel.ts';
import { queriesOf, type Queries } from '../access/queries.ts';

const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `@Display Name` in a body, resolved to users who can read the channel (ChannelPolicy.read, as a predicate over each
 * candidate), excluding the author and anyone on either side of a block with the author. Names match
 * case-insensitively and only as whole words.
 */
export async function resolveMentions(
  source: Queries,
  access: Pick<ChannelAccess, 'channelId'>,
  authorId: string,
  body: string,
): Promise<string[]> {
  if (!body.includes('@')) return [];
  const candidates = await queriesOf(source)
    .selectFrom('users as u')
    .innerJoin('channels as c', (join) => join.on('c.id', '=', access.channelId))
    .select(['u.id', 'u.display_name'])
    .where('u.id', '<>', authorId)
    .where(sql<boolean>`position(lower('@' || u.display_name) in lower(${body})) > 0`)
    .where((eb) => channelReadableBy(eb.ref('u.id')))
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('user_blocks as b')
            .select(sql.lit(1).as('one'))
            .where((w) =>
              w.or([
                w.and([w('b.blocker_id', '=', w.ref('u.id')), w('b.blocked_id', '=', authorId)]),
                w.and([w('b.blocker_id', '=', authorId), w('b.blocked_id', '=', w.ref('u.id'))]),
              ]),
            ),
        ),
      ),
    )
    .limit(50)
    .execute();
  return candidates
    .filter((c) => new RegExp(`(^|[^\\p{L}\\p{N}_])@${escapeRegExp(c.display_name)}(?![\\p{L}\\p{N}_])`, 'iu').test(body))
    .map((c) => c.id)
    .sort(); // the same order presentMessages reads them back in
}
