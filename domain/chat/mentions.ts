import { sql } from 'kysely';
import { channelReadableBy, type ChannelAccess } from '../access/channel.ts';
import { queriesOf, type Queries } from '../access/queries.ts';

const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Display names are at most 60 characters (contracts/auth.ts); a few more allow trailing punctuation. */
const LONGEST_NAME = 64;
/** The most words a display name is looked for with after an '@'. */
const MOST_WORDS = 6;
/** At most this many '@'s in one body are looked at (a body is at most 4,000 characters). */
const MOST_ATS = 50;

/**
 * The names a body could mention, exactly as written: after each '@', its first one to six words (the text up to
 * each whitespace), each also without trailing punctuation ("@Bea," names "Bea"). Looked up by equality on
 * `lower(display_name)` (indexed) instead of testing every user's name against the body.
 */
export function mentionCandidates(body: string): string[] {
  const found = new Set<string>();
  let ats = 0;
  for (let at = body.indexOf('@'); at !== -1 && ats < MOST_ATS; at = body.indexOf('@', at + 1), ats++) {
    const rest = body.slice(at + 1, at + 1 + LONGEST_NAME);
    const ends = [...rest.matchAll(/\s+/g)].map((m) => m.index).slice(0, MOST_WORDS);
    if (ends.length < MOST_WORDS) ends.push(rest.length);
    for (const end of ends) {
      const name = rest.slice(0, end);
      if (!name) continue;
      found.add(name);
      const trimmed = name.replace(/[\p{P}\p{S}]+$/u, '');
      if (trimmed) found.add(trimmed);
    }
  }
  return [...found];
}

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
  const names = mentionCandidates(body);
  if (names.length === 0) return [];
  const candidates = await queriesOf(source)
    .selectFrom('users as u')
    .innerJoin('channels as c', (join) => join.on('c.id', '=', access.channelId))
    .select(['u.id', 'u.display_name'])
    .where('u.id', '<>', authorId)
    .where(sql<boolean>`lower(u.display_name) = any(array(select lower(n) from unnest(${names}::text[]) as n))`)
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
