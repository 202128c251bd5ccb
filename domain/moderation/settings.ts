import { sql, type Insertable } from 'kysely';
import type { ModerationSettingsDto, ModerationSettingsInput } from '../../contracts/moderation.ts';
import { db, uuids, type DB, type Db } from '../../orm/db.ts';
import { CommunityPolicy, loadCommunityAccess, type CommunityAccess } from '../access/community.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { recordAudit } from './audit.ts';
import { ModerationPolicy } from '../access/moderation.ts';
import { foldText } from './wordFilter.ts';

/**
 * The settings row's key column. The entity's one-to-one `community` is not marked as the owning side, so the typed
 * tables leave its join column out; it is named here once.
 */
const settingsCommunityId = sql.ref<string>('community_moderation_settings.community_id');

/** A community without a settings row has the defaults: no words, flag mode, no link limit, no slow mode. */
async function loadSettings(q: Db, communityId: string): Promise<ModerationSettingsDto> {
  const [row, channels] = await Promise.all([
    q
      .selectFrom('community_moderation_settings')
      .select(['word_filter_words', 'word_filter_mode', 'new_member_link_limit'])
      .where(settingsCommunityId, '=', communityId)
      .executeTakeFirst(),
    q
      .selectFrom('channels')
      .select(['id', 'slow_mode_seconds'])
      .where('community_id', '=', communityId)
      .where('slow_mode_seconds', '>', 0)
      .orderBy('id')
      .execute(),
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
async function authorize(q: Db, actor: Actor, communityId: string, allowed: (access: CommunityAccess) => boolean, lock = false) {
  const access = await loadCommunityAccess(q, actor.userId, communityId, { requireView: false, lock });
  if (allowed(access)) return access;
  if (!CommunityPolicy.view(access)) throw new AppError('not_found', 'No such community.');
  throw new AppError('forbidden', 'Only this community’s moderators can do that.');
}

/** The community's automod settings: its moderators (and platform staff) may read them. */
export async function getModerationSettings(deps: Deps, actor: Actor, communityId: string): Promise<ModerationSettingsDto> {
  const q = db(deps.orm.em.fork());
  await authorize(q, actor, communityId, (a) => ModerationPolicy.moderate(actor, a.role));
  return loadSettings(q, communityId);
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
    const q = db(tx);
    await authorize(q, actor, communityId, (a) => ModerationPolicy.administer(actor, a.role), true);
    const before = await loadSettings(q, communityId);

    const slowMode = Object.entries(input.slowMode ?? {});
    if (slowMode.length) {
      const ids = slowMode.map(([id]) => id);
      const channels = await q
        .selectFrom('channels')
        .select('id')
        .where('community_id', '=', communityId)
        .where((eb) => eb('id', '=', eb.fn.any(uuids(ids))))
        .execute();
      const found = new Set(channels.map((c) => c.id));
      const foreign = ids.filter((id) => !found.has(id));
      if (foreign.length) {
        const message = `Not a channel of this community: ${foreign.join(', ')}.`;
        throw new AppError('invalid_input', message, {
          details: { fields: Object.fromEntries(foreign.map((id) => [`slowMode.${id}`, 'Not a channel of this community.'])) },
        });
      }
      await q
        .updateTable('channels as c')
        .from(sql<{ id: string; seconds: number }>`unnest(${ids}::uuid[], ${slowMode.map(([, seconds]) => seconds)}::int[])`.as<'v'>(sql`v(id, seconds)`))
        .set((eb) => ({ slow_mode_seconds: eb.ref('v.seconds') }))
        .whereRef('c.id', '=', 'v.id')
        .where('c.community_id', '=', communityId)
        .execute();
    }

    if (input.wordFilter !== undefined || input.newMemberLinkLimit !== undefined) {
      const wordFilter = input.wordFilter ?? before.wordFilter;
      const linkLimit = input.newMemberLinkLimit === undefined ? before.newMemberLinkLimit : input.newMemberLinkLimit;
      await q
        .insertInto('community_moderation_settings')
        .values({
          community_id: communityId,
          word_filter_words: distinctWords(wordFilter.words),
          word_filter_mode: wordFilter.mode,
          new_member_link_limit: linkLimit,
          updated_at: deps.clock.now(),
        } as Insertable<DB['community_moderation_settings']>) // with its key column, which the typed table leaves out (above)
        .onConflict((conflict) =>
          conflict.constraint('community_moderation_settings_pkey').doUpdateSet((eb) => ({
            word_filter_words: eb.ref('excluded.word_filter_words'),
            word_filter_mode: eb.ref('excluded.word_filter_mode'),
            new_member_link_limit: eb.ref('excluded.new_member_link_limit'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute();
    }

    const after = await loadSettings(q, communityId);
    await recordAudit(
      q,
      { communityId, actorId: actor.userId, action: 'settings', targetType: 'community', targetId: communityId, before, after },
      deps.clock.now(),
    );
    return after;
  });
}
