import type { ModerationSettingsDto, ModerationSettingsInput } from '../../contracts/moderation.ts';
import { loadCommunityAccess } from '../communities/membership.ts';
import { CommunityPolicy, type CommunityAccess } from '../communities/policies.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { sqlOf, type Sql } from '../shared/sql.ts';
import { recordAudit } from './audit.ts';
import { ModerationPolicy } from './policy.ts';
import { foldText } from './wordFilter.ts';

interface SettingsRow {
  word_filter_words: string[];
  word_filter_mode: 'block' | 'flag';
  new_member_link_limit: number | null;
}

/** A community without a settings row has the defaults: no words, flag mode, no link limit, no slow mode. */
async function loadSettings(sql: Sql, communityId: string): Promise<ModerationSettingsDto> {
  const [[row], channels] = await Promise.all([
    sql<SettingsRow>(
      'select word_filter_words, word_filter_mode, new_member_link_limit from community_moderation_settings where community_id = ?',
      [communityId],
    ),
    sql<{ id: string; slow_mode_seconds: number }>(
      'select id, slow_mode_seconds from channels where community_id = ? and slow_mode_seconds > 0 order by id',
      [communityId],
    ),
  ]);
  return {
    communityId,
    wordFilter: { words: row?.word_filter_words ?? [], mode: row?.word_filter_mode ?? 'flag' },
    slowMode: Object.fromEntries(channels.map((c) => [c.id, c.slow_mode_seconds])),
    newMemberLinkLimit: row?.new_member_link_limit ?? null,
  };
}

/**
 * The caller's standing, checked against `allowed`. Platform staff need not be members, so a private community is
 * looked up without the view rule; anyone who may not even view it gets `not_found`, as everywhere else.
 */
async function authorize(sql: Sql, actor: Actor, communityId: string, allowed: (access: CommunityAccess) => boolean, lock = false) {
  const access = await loadCommunityAccess(sql, actor.userId, communityId, { requireView: false, lock });
  if (allowed(access)) return access;
  if (!CommunityPolicy.view(access)) throw new AppError('not_found', 'No such community.');
  throw new AppError('forbidden', 'Only this community’s moderators can do that.');
}

/** The community's automod settings: its moderators (and platform staff) may read them. */
export async function getModerationSettings(deps: Deps, actor: Actor, communityId: string): Promise<ModerationSettingsDto> {
  const sql = sqlOf(deps.orm.em.fork());
  await authorize(sql, actor, communityId, (a) => ModerationPolicy.moderate(actor, a.role));
  return loadSettings(sql, communityId);
}

/** The same word twice (in any case or accents) is one entry: the first spelling given is kept. */
function distinctWords(words: readonly string[]): string[] {
  const seen = new Set<string>();
  return words.filter((word) => {
    const key = foldText(word);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Admins change the word filter, the new-member link limit and slow mode per channel. Settings not in the input stay
 * as they are. Slow mode names channels of this community only. The change and its audit entry (before and after)
 * commit together; the community row is locked so concurrent changes apply one after the other and each entry's
 * `before` is what the previous one left.
 */
export async function updateModerationSettings(
  deps: Deps,
  actor: Actor,
  communityId: string,
  input: ModerationSettingsInput,
): Promise<ModerationSettingsDto> {
  return deps.orm.em.fork().transactional(async (tx) => {
    const sql = sqlOf(tx);
    await authorize(sql, actor, communityId, (a) => ModerationPolicy.administer(actor, a.role), true);
    const before = await loadSettings(sql, communityId);

    const slowMode = Object.entries(input.slowMode ?? {});
    if (slowMode.length) {
      const ids = slowMode.map(([id]) => id);
      const found = new Set(
        (await sql<{ id: string }>('select id from channels where community_id = ? and id = any(?::uuid[])', [communityId, ids])).map((r) => r.id),
      );
      const foreign = ids.filter((id) => !found.has(id));
      if (foreign.length) {
        const message = `Not a channel of this community: ${foreign.join(', ')}.`;
        throw new AppError('invalid_input', message, {
          details: { fields: Object.fromEntries(foreign.map((id) => [`slowMode.${id}`, 'Not a channel of this community.'])) },
        });
      }
      await sql(
        `update channels c set slow_mode_seconds = v.seconds from unnest(?::uuid[], ?::int[]) as v(id, seconds)
         where c.id = v.id and c.community_id = ?`,
        [ids, slowMode.map(([, seconds]) => seconds), communityId],
      );
    }

    if (input.wordFilter !== undefined || input.newMemberLinkLimit !== undefined) {
      const wordFilter = input.wordFilter ?? before.wordFilter;
      const linkLimit = input.newMemberLinkLimit === undefined ? before.newMemberLinkLimit : input.newMemberLinkLimit;
      await sql(
        `insert into community_moderation_settings (community_id, word_filter_words, word_filter_mode, new_member_link_limit, updated_at)
         values (?, ?::text[], ?, ?, ?)
         on conflict (community_id) do update set word_filter_words = excluded.word_filter_words,
           word_filter_mode = excluded.word_filter_mode, new_member_link_limit = excluded.new_member_link_limit,
           updated_at = excluded.updated_at`,
        [communityId, distinctWords(wordFilter.words), wordFilter.mode, linkLimit, deps.clock.now()],
      );
    }

    const after = await loadSettings(sql, communityId);
    await recordAudit(
      sql,
      { communityId, actorId: actor.userId, action: 'settings', targetType: 'community', targetId: communityId, before, after },
      deps.clock.now(),
    );
    return after;
  });
}
