import type { CommunityRole } from '../../contracts/communities.ts';
import { NEW_MEMBER_DAYS } from '../../contracts/moderation.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import type { Sql } from '../shared/sql.ts';
import type { RateLimiter, RateLimiterFactory } from '../shared/stores.ts';
import { ModerationPolicy } from './policy.ts';
import { countLinks, matchedWords } from './wordFilter.ts';

export type ContributionKind = 'message' | 'post' | 'comment' | 'reaction';

export interface Contribution {
  communityId: string;
  kind: ContributionKind;
  /** The text added (messages, posts, comments); reactions have none. */
  body?: string;
  /** Messages: the channel, for slow mode. */
  channelId?: string;
}

export interface ContributionVerdict {
  /** Words of the community's filter found in a contribution let through in `flag` mode: report it for review. */
  flaggedWords: string[];
}

interface RulesRow {
  community_role: CommunityRole | null;
  joined_at: Date | string | null;
  suspended_at: Date | string | null;
  timed_out_until: Date | string | null;
  word_filter_words: string[] | null;
  word_filter_mode: 'block' | 'flag' | null;
  new_member_link_limit: number | null;
  slow_mode_seconds: number | null;
}

/** Slow mode limiters by interval, per factory (one per node): created on first use of each interval. */
const slowModeLimiters = new WeakMap<RateLimiterFactory, Map<number, RateLimiter>>();

function slowModeLimiter(factory: RateLimiterFactory, seconds: number): RateLimiter {
  let byInterval = slowModeLimiters.get(factory);
  if (!byInterval) slowModeLimiters.set(factory, (byInterval = new Map()));
  let limiter = byInterval.get(seconds);
  if (!limiter) byInterval.set(seconds, (limiter = factory({ keyPrefix: `slow-mode-${seconds}s`, points: 1, durationSeconds: seconds })));
  return limiter;
}

/**
 * The server-side rules for anything a member adds to a community, enforced the same on every node: a suspended
 * account adds nothing; a timed-out member cannot send, post, comment or react until the timeout ends (`forbidden`
 * with `retryAfter`); the word filter refuses (`block`) or lets through for review (`flag`); members who joined less
 * than NEW_MEMBER_DAYS ago are held to the link limit; slow mode allows one message per interval per member and
 * channel (`rate_limited` with `retryAfter`). Moderators are exempt from the filter, the link limit and slow mode.
 * Membership itself (and so bans, which remove it) is the caller's policy check.
 */
export async function checkContribution(deps: Deps, sql: Sql, actor: Actor, contribution: Contribution): Promise<ContributionVerdict> {
  const [outcome] = await checkContributions(deps, sql, [{ actor, contribution }]);
  if (outcome!.status === 'rejected') throw outcome!.reason;
  return outcome!.value;
}

/**
 * checkContribution for many contributions at once (a batch of chat messages): the rules of every distinct
 * (member, community, channel) in one query, then each contribution judged on its own. Outcomes in input order; a
 * refusal is that contribution's alone.
 */
export async function checkContributions(
  deps: Deps,
  sql: Sql,
  items: readonly { actor: Actor; contribution: Contribution }[],
): Promise<PromiseSettledResult<ContributionVerdict>[]> {
  if (!items.length) return [];
  const now = deps.clock.now();
  // Each distinct (member, community, channel) once; rows come back numbered by `with ordinality`, so ids match
  // however the caller spelled them.
  const keyOf = (userId: string, c: Contribution) => `${userId}:${c.communityId}:${c.channelId ?? ''}`;
  const slots = new Map<string, number>();
  const keys: { userId: string; communityId: string; channelId: string | null }[] = [];
  for (const { actor, contribution } of items) {
    const key = keyOf(actor.userId, contribution);
    if (slots.has(key)) continue;
    slots.set(key, keys.length);
    keys.push({ userId: actor.userId, communityId: contribution.communityId, channelId: contribution.channelId ?? null });
  }
  const rows = await sql<RulesRow & { slot: string | number }>(
    `select p.slot, cm.role as community_role, cm.joined_at, u.suspended_at,
            (select t.until from community_timeouts t
              where t.community_id = p.community_id and t.user_id = u.id and t.until > ?::timestamptz) as timed_out_until,
            s.word_filter_words, s.word_filter_mode, s.new_member_link_limit,
            (select c.slow_mode_seconds from channels c where c.id = p.channel_id) as slow_mode_seconds
     from unnest(?::uuid[], ?::uuid[], ?::uuid[]) with ordinality as p(user_id, community_id, channel_id, slot)
     join users u on u.id = p.user_id
     left join community_members cm on cm.community_id = p.community_id and cm.user_id = u.id
     left join community_moderation_settings s on s.community_id = p.community_id`,
    [now, keys.map((k) => k.userId), keys.map((k) => k.communityId), keys.map((k) => k.channelId)],
  );
  const rulesBySlot = new Map(rows.map((row) => [Number(row.slot) - 1, row]));
  return Promise.allSettled(
    items.map(({ actor, contribution }) => judge(deps, now, actor, contribution, rulesBySlot.get(slots.get(keyOf(actor.userId, contribution))!))),
  );
}

async function judge(deps: Deps, now: Date, actor: Actor, contribution: Contribution, rules: RulesRow | undefined): Promise<ContributionVerdict> {
  if (!rules || rules.suspended_at) throw new AppError('forbidden', 'This account is suspended.');
  if (rules.timed_out_until) {
    const until = new Date(rules.timed_out_until);
    throw new AppError('forbidden', `You are timed out in this community until ${until.toISOString()}.`, {
      retryAfter: Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000)),
      details: { timedOutUntil: until.toISOString() },
    });
  }
  if (ModerationPolicy.exemptFromAutomod(actor, rules.community_role)) return { flaggedWords: [] };

  const body = contribution.body ?? '';
  const words = matchedWords(body, rules.word_filter_words ?? []);
  if (words.length && rules.word_filter_mode === 'block') {
    throw new AppError('forbidden', `This community does not allow: ${words.join(', ')}.`, { details: { blockedWords: words } });
  }
  const limit = rules.new_member_link_limit;
  if (limit !== null && rules.joined_at) {
    const isNew = now.getTime() - new Date(rules.joined_at).getTime() < NEW_MEMBER_DAYS * 86_400_000;
    const links = countLinks(body);
    if (isNew && links > limit) {
      throw new AppError(
        'forbidden',
        limit === 0
          ? `New members cannot post links for their first ${NEW_MEMBER_DAYS} days here.`
          : `New members can post at most ${limit} link${limit === 1 ? '' : 's'} at a time for their first ${NEW_MEMBER_DAYS} days here.`,
      );
    }
  }
  // Last: a contribution refused above must not use up the member's slow-mode turn.
  const slowMode = rules.slow_mode_seconds ?? 0;
  if (contribution.kind === 'message' && contribution.channelId && slowMode > 0) {
    await slowModeLimiter(deps.rateLimiterFactory, slowMode).consume(
      `${contribution.channelId}:${actor.userId}`,
      1,
      `Slow mode is on: one message every ${slowMode} seconds.`,
    );
  }
  return { flaggedWords: words.length && rules.word_filter_mode === 'flag' ? words : [] };
}
