import { NOTIFICATION_KINDS, type NotificationKind, type NotificationPreferencesDto, type UpdateNotificationPreferencesInput } from '../../contracts/notifications.ts';
import { db, jsonb, uuids, type Db } from '../../orm/db.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';

/*
 * What a user wants to hear, and how: per kind and channel (in-app, e-mail, push), communities they muted, quiet
 * hours in their own time zone (e-mail and push wait until they end) and whether they unsubscribed from e-mail.
 * Only what differs from the defaults is stored (`kinds` lists overrides), so a new kind gets its default for everyone.
 */

export type NotificationChannel = 'inApp' | 'email' | 'push';

export interface Preferences {
  kinds: Partial<Record<NotificationKind, Partial<Record<NotificationChannel, boolean>>>>;
  mutedCommunityIds: string[];
  /** Minutes after midnight in `timeZone`; null: no quiet hours. */
  quietStart: number | null;
  quietEnd: number | null;
  timeZone: string;
  emailUnsubscribed: boolean;
}

/** Kinds about the person themself: e-mailed by default. The rest are in-app and push only unless switched on. */
const PERSONAL_KINDS: ReadonlySet<NotificationKind> = new Set([
  'mention',
  'dm',
  'reply',
  'class_reminder',
  'assignment_graded',
  'certificate_issued',
  'order_paid',
  'order_refunded',
  'moderation_warned',
  'moderation_timed_out',
]);

export function defaultChannel(kind: NotificationKind, channel: NotificationChannel): boolean {
  return channel === 'email' ? PERSONAL_KINDS.has(kind) : true;
}

export const DEFAULT_PREFERENCES: Preferences = Object.freeze({
  kinds: {},
  mutedCommunityIds: [],
  quietStart: null,
  quietEnd: null,
  timeZone: 'UTC',
  emailUnsubscribed: false,
}) as Preferences;

type Row = { user_id: string; kinds: unknown; muted_community_ids: string[] | null; quiet_start: number | null; quiet_end: number | null; time_zone: string; email_unsubscribed_at: Date | null };

function fromRow(row: Row | undefined): Preferences {
  if (!row) return { ...DEFAULT_PREFERENCES, kinds: {}, mutedCommunityIds: [] };
  return {
    kinds: (row.kinds ?? {}) as Preferences['kinds'],
    mutedCommunityIds: row.muted_community_ids ?? [],
    quietStart: row.quiet_start,
    quietEnd: row.quiet_end,
    timeZone: row.time_zone,
    emailUnsubscribed: row.email_unsubscribed_at !== null,
  };
}

const columns = ['user_id', 'kinds', 'muted_community_ids', 'quiet_start', 'quiet_end', 'time_zone', 'email_unsubscribed_at'] as const;

/** A user's preferences (the defaults when they never set any). */
export async function loadPreferences(q: Db, userId: string): Promise<Preferences> {
  const row = await q.selectFrom('notification_preferences').select(columns).where('user_id', '=', userId).executeTakeFirst();
  return fromRow(row as Row | undefined);
}

/** Several users' preferences in one query (the defaults for those who never set any). */
export async function loadPreferencesOf(q: Db, userIds: readonly string[]): Promise<Map<string, Preferences>> {
  const unique = [...new Set(userIds)];
  const rows =
    unique.length === 0
      ? []
      : ((await q
          .selectFrom('notification_preferences')
          .select(columns)
          .where((eb) => eb('user_id', '=', eb.fn.any(uuids(unique))))
          .execute()) as Row[]);
  const byUser = new Map(rows.map((r) => [r.user_id, r]));
  return new Map(unique.map((id) => [id, fromRow(byUser.get(id))]));
}

/**
 * Whether a notification of `kind` (from `communityId`, if any) should go out on `channel` for these preferences. A
 * muted community silences every channel except for mentions: being named personally still reaches you, as chat apps
 * do. E-mail is off altogether after an unsubscribe.
 */
export function wants(prefs: Preferences, kind: NotificationKind, channel: NotificationChannel, communityId: string | null): boolean {
  if (channel === 'email' && prefs.emailUnsubscribed) return false;
  if (communityId && kind !== 'mention' && prefs.mutedCommunityIds.includes(communityId)) return false;
  return prefs.kinds[kind]?.[channel] ?? defaultChannel(kind, channel);
}

/** Seconds since local midnight of `at` in `timeZone`. */
function localSecondOfDay(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(at);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return (part('hour') % 24) * 3600 + part('minute') * 60 + part('second');
}

const DAY = 86_400;
/** A difference in seconds of day, brought into (−12 h, 12 h]. */
const wrapHalfDay = (s: number) => ((((s + DAY / 2) % DAY) + DAY) % DAY) - DAY / 2;

/**
 * When quiet hours (in the user's time zone) end, if `now` is inside them; null otherwise. A window whose start is
 * after its end crosses midnight (22:00–07:00); start = end means no quiet hours. Across a DST change the end is
 * corrected to the wall-clock time the user chose.
 */
export function quietUntil(prefs: Preferences, now: Date): Date | null {
  const { quietStart: start, quietEnd: end } = prefs;
  if (start === null || end === null || start === end) return null;
  let zone = prefs.timeZone;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    zone = 'UTC';
  }
  const local = localSecondOfDay(now, zone);
  const startS = start * 60;
  const endS = end * 60;
  const inside = startS < endS ? local >= startS && local < endS : local >= startS || local < endS;
  if (!inside) return null;
  const wholeSecond = now.getTime() - now.getUTCMilliseconds();
  let until = new Date(wholeSecond + ((((endS - local) % DAY) + DAY) % DAY) * 1000);
  const drift = wrapHalfDay(endS - localSecondOfDay(until, zone));
  if (drift !== 0) until = new Date(until.getTime() + drift * 1000);
  return until;
}

export function preferencesDto(prefs: Preferences): NotificationPreferencesDto {
  const kinds = Object.fromEntries(
    NOTIFICATION_KINDS.map((kind) => [
      kind,
      {
        inApp: prefs.kinds[kind]?.inApp ?? defaultChannel(kind, 'inApp'),
        email: prefs.kinds[kind]?.email ?? defaultChannel(kind, 'email'),
        push: prefs.kinds[kind]?.push ?? defaultChannel(kind, 'push'),
      },
    ]),
  ) as NotificationPreferencesDto['kinds'];
  return {
    kinds,
    mutedCommunityIds: prefs.mutedCommunityIds,
    quietStart: prefs.quietStart,
    quietEnd: prefs.quietEnd,
    timeZone: prefs.timeZone,
    emailUnsubscribed: prefs.emailUnsubscribed,
  };
}

/** GET /me/notification-preferences */
export async function myPreferences(deps: Deps, actor: Actor): Promise<NotificationPreferencesDto> {
  return preferencesDto(await loadPreferences(db(deps.orm.em.fork()), actor.userId));
}

/** PUT /me/notification-preferences — the fields sent replace mine; `kinds` merges per kind and channel. */
export async function updatePreferences(deps: Deps, actor: Actor, input: UpdateNotificationPreferencesInput): Promise<NotificationPreferencesDto> {
  const em = deps.orm.em.fork();
  return em.transactional(async (tx) => {
    const q = db(tx);
    const now = deps.clock.now();
    await q.insertInto('notification_preferences').values({ user_id: actor.userId, updated_at: now }).onConflict((oc) => oc.column('user_id').doNothing()).execute();
    const row = await q.selectFrom('notification_preferences').select(columns).where('user_id', '=', actor.userId).forUpdate().executeTakeFirstOrThrow();
    const current = fromRow(row as Row);
    const kinds = { ...current.kinds };
    for (const [kind, channels] of Object.entries(input.kinds ?? {}) as [NotificationKind, Partial<Record<NotificationChannel, boolean>>][]) {
      const merged = { ...kinds[kind], ...channels };
      // Keep only what differs from the defaults.
      for (const channel of Object.keys(merged) as NotificationChannel[]) if (merged[channel] === defaultChannel(kind, channel)) delete merged[channel];
      if (Object.keys(merged).length) kinds[kind] = merged;
      else delete kinds[kind];
    }
    const muted = input.mutedCommunityIds ? [...new Set(input.mutedCommunityIds.map((id) => id.toLowerCase()))] : current.mutedCommunityIds;
    if (input.quietStart !== undefined && input.quietStart !== null && input.quietStart === input.quietEnd) {
      throw new AppError('invalid_input', 'Quiet hours must start and end at different times.');
    }
    await q
      .updateTable('notification_preferences')
      .set({
        kinds: jsonb(kinds) as never,
        muted_community_ids: uuids(muted) as never,
        quiet_start: input.quietStart === undefined ? current.quietStart : input.quietStart,
        quiet_end: input.quietEnd === undefined ? current.quietEnd : input.quietEnd,
        time_zone: input.timeZone ?? current.timeZone,
        ...(input.emailUnsubscribed === undefined
          ? {}
          : { email_unsubscribed_at: input.emailUnsubscribed ? (row.email_unsubscribed_at ?? now) : null }),
        updated_at: now,
      })
      .where('user_id', '=', actor.userId)
      .execute();
    return preferencesDto(await loadPreferences(q, actor.userId));
  });
}

/** Stops every e-mail notification for `userId` (the one-click unsubscribe); idempotent. */
export async function unsubscribeFromEmail(deps: Deps, userId: string): Promise<void> {
  const q = db(deps.orm.em.fork());
  const now = deps.clock.now();
  if (!(await q.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst())) return;
  await q
    .insertInto('notification_preferences')
    .values({ user_id: userId, email_unsubscribed_at: now, updated_at: now })
    .onConflict((oc) => oc.column('user_id').doUpdateSet((eb) => ({ email_unsubscribed_at: eb.fn.coalesce('notification_preferences.email_unsubscribed_at', eb.val(now)), updated_at: now })))
    .execute();
}
