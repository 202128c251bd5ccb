import type { NotificationKind } from '../../contracts/notifications.ts';
import type { Db } from '../../orm/db.ts';

/*
 * What a user wants to hear, and how: per kind and channel (in-app, e-mail, push), communities they muted, quiet
 * hours in their own time zone (e-mail and push wait until they end) and whether they unsubscribed from e-mail.
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

/** A user's preferences (the defaults when they never set any). */
export async function loadPreferences(q: Db, userId: string): Promise<Preferences> {
  void q;
  void userId;
  throw new Error('not implemented yet');
}

/** Whether a notification of `kind` (from `communityId`, if any) should go out on `channel` for these preferences. */
export function wants(prefs: Preferences, kind: NotificationKind, channel: NotificationChannel, communityId: string | null): boolean {
  void prefs;
  void kind;
  void channel;
  void communityId;
  throw new Error('not implemented yet');
}

/** When quiet hours (in the user's time zone) end, if `now` is inside them; null otherwise. */
export function quietUntil(prefs: Preferences, now: Date): Date | null {
  void prefs;
  void now;
  throw new Error('not implemented yet');
}
