import { sql, type InferResult } from 'kysely';
import { NEW_MEMBER_DAYS } from '../../contracts/moderation.ts';
import type { Db } from '../../orm/db.ts';
import { queriesOf, type Queries } from '../access/queries.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import type { RateLimiter, RateLimiterFactory } from '../shared/stores.ts';
import { ModerationPolicy } from '../access/moderation.ts';
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
export async function checkContribution(deps: Deps, source: Queries, actor: Actor, contribution: Contribution): Promise<ContributionVerdict> {
  const [outcome] = await checkContributions(deps, source, [{ actor, contribution }]);
  if (outcome!.status === 'rejected') throw outcome!.reason;
  return outcome!.value;
}

/**
 * The rules that apply to each (member, community, channel) slot, one row per slot whose member exists: their role
 * and join date, suspension, a running timeout, the community's automod settings and the channel's slow mode. Slots
 * are numbered from 1 in the order given (`with ordinality`).
 */
function selectRules(q: Db, now: Date, keys: readonly { userId: string; communityId: string | null; channelId: string | null }[]) {
  // A slot without a community takes its channel's (a chat message judged before its access is loaded).
  const communityId = sql<string>`coalesce(p.community_id, c.community_id)`;
  return q
    .selectFrom(
      sql<{ user_id: string; community_id: string | null; channel_id: string | null; slot: string }>`unnest(
        ${keys.map((k) => k.userId)}::uuid[], ${keys.map((k) => k.communityId)}::uuid[], ${keys.map((k) => k.channelId)}::uuid[]
      ) with ordinality`.as<'p'>(sql`p(user_id, community_id, channel_id, slot)`),
    )
    .innerJoin('users as u', 'u.id', 'p.user_id')
    .leftJoin('channels as c', 'c.id', 'p.channel_id')
    .leftJoin('community_members as cm', (join) => join.on('cm.community_id', '=', communityId).onRef('cm.user_id', '=', 'u.id'))
    // At most one timeout per member and community (its key): the running one, if any.
    .leftJoin('community_timeouts as t', (join) => join.on('t.community_id', '=', communityId).onRef('t.user_id', '=', 'u.id').on('t.until', '>', now))
    // The settings row's key column is left out of the typed table (see settings.ts), so it is named by hand.
    .leftJoin('community_moderation_settings as s', (join) => join.on(sql<boolean>`s.community_id = ${communityId}`))
    .select([
      sql<number>`p.slot::int`.as('slot'),
      'cm.role',
      'cm.joined_at',
      'u.suspended_at',
      't.until',
      's.word_filter_words',
      's.word_filter_mode',
      's.new_member_link_limit',
      'c.slow_mode_seconds',
    ]);
}

type Rules = InferResult<ReturnType<typeof selectRules>>[number];

/**
 * checkContribution for many contributions at once (a batch of chat messages): the rules of every distinct
 * (member, community, channel) in one query, then each contribution judged on its own. Outcomes in input order; a
 * refusal is that contribution's alone. Runs in the caller's transaction (`q` bound to it, or its EntityManager).
 */
export async function checkContributions(
  deps: Deps,
  source: Queries,
  items: readonly { actor: Actor; contribution: Contribution }[],
): Promise<PromiseSettledResult<ContributionVerdict>[]> {
  const judgeAt = await loadContributionRules(deps, source, items);
  return Promise.allSettled(items.map((_, i) => judgeAt(i)));
}

/**
 * The rules of many contributions read in one query, to be judged afterwards: `judgeAt(i)` judges the i-th (and
 * spends its slow-mode turn), so a caller can read the rules alongside its other reads and judge only what its own
 * policy lets through. A chat message may leave its community to its channel (`communityId: null`).
 */
export async function loadContributionRules(
  deps: Deps,
  source: Queries,
  items: readonly { actor: Actor; contribution: Omit<Contribution, 'communityId'> & { communityId: string | null } }[],
): Promise<(index: number) => Promise<ContributionVerdict>> {
  if (!items.length) return () => Promise.reject(new Error('no such contribution'));
  const now = deps.clock.now();
  // Each distinct (member, community, channel) once; rows come back numbered by `with ordinality`, so ids match
  // however the caller spelled them.
  const keyOf = (userId: string, c: { communityId: string | null; channelId?: string }) => `${userId}:${c.communityId ?? ''}:${c.channelId ?? ''}`;
  const slots = new Map<string, number>();
  const keys: { userId: string; communityId: string | null; channelId: string | null }[] = [];
  for (const { actor, contribution } of items) {
    const key = keyOf(actor.userId, contribution);
    if (slots.has(key)) continue;
    slots.set(key, keys.length);
    keys.push({ userId: actor.userId, communityId: contribution.communityId, channelId: contribution.channelId ?? null });
  }
  const rows = await selectRules(queriesOf(source), now, keys).execute();
  const rulesBySlot = new Map(rows.map((row) => [row.slot - 1, row]));
  return (i) => {
    const { actor, contribution } = items[i]!;
    return judge(deps, now, actor, contribution, rulesBySlot.get(slots.get(keyOf(actor.userId, contribution))!));
  };
}

async function judge(deps: Deps, now: Date, actor: Actor, contribution: Pick<Contribution, 'kind' | 'body' | 'channelId'>, rules: Rules | undefined): Promise<ContributionVerdict> {
  if (!rules || rules.suspended_at) throw new AppError('forbidden', 'This account is suspended.');
  if (rules.until) {
    const until = rules.until;
    throw new AppError('forbidden', `You are timed out in this community until ${until.toISOString()}.`, {
      retryAfter: Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000)),
      details: { timedOutUntil: until.toISOString() },
    });
  }
  if (ModerationPolicy.exemptFromAutomod(actor, rules.role)) return { flaggedWords: [] };

  const body = contribution.body ?? '';
  const words = matchedWords(body, rules.word_filter_words ?? []);
  if (words.length && rules.word_filter_mode === 'block') {
    throw new AppError('forbidden', `This community does not allow: ${words.join(', ')}.`, { details: { blockedWords: words } });
  }
  const limit = rules.new_member_link_limit;
  if (limit !== null && rules.joined_at) {
    const isNew = now.getTime() - rules.joined_at.getTime() < NEW_MEMBER_DAYS * 86_400_000;
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
