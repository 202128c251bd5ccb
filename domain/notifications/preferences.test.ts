import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationPreferencesDto } from '../../contracts/notifications.ts';
import { classroomCommunity } from '../../test/classroomFactories.ts';
import { call, ok, registerUsers } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';
import { manualClock } from '../shared/time.ts';
import { notify } from './notify.ts';
import { DEFAULT_PREFERENCES, quietUntil, wants, type Preferences } from './preferences.ts';

/*
 * Preferences: defaults (in-app and push on, e-mail on for personal kinds), GET/PUT with strict validation, quiet
 * hours across midnight in the user's zone, and notify() honouring them (a kind off in-app and a muted community's
 * non-mentions are not stored).
 */
describe('notification preferences', () => {
  const clock = manualClock(new Date(Math.floor(Date.now() / 60_000) * 60_000));
  let node: RunningNode;

  beforeAll(async () => {
    node = await startNode({ clock });
  });
  afterAll(async () => {
    await node?.close();
  });

  const prefs = (over: Partial<Preferences>): Preferences => ({ ...DEFAULT_PREFERENCES, ...over });

  it('defaults: in-app and push on for every kind; e-mail only for personal kinds', async () => {
    const [user] = await registerUsers(node.url, 1);
    const got = await ok(call<NotificationPreferencesDto>(node, 'GET', '/me/notification-preferences', user));
    expect(got.kinds.mention).toEqual({ inApp: true, email: true, push: true });
    expect(got.kinds.order_refunded).toEqual({ inApp: true, email: true, push: true });
    expect(got.kinds.new_follower).toEqual({ inApp: true, email: false, push: true });
    expect(got.kinds.class_live).toEqual({ inApp: true, email: false, push: true });
    expect(got).toMatchObject({ mutedCommunityIds: [], quietStart: null, quietEnd: null, timeZone: 'UTC', emailUnsubscribed: false });
    expect((await call(node, 'GET', '/me/notification-preferences')).status).toBe(401);
  });

  it('PUT then GET round-trips; kinds merge per channel', async () => {
    const [user] = await registerUsers(node.url, 1);
    const communityId = crypto.randomUUID();
    await ok(
      call(node, 'PUT', '/me/notification-preferences', user, {
        kinds: { new_follower: { email: true }, dm: { push: false } },
        mutedCommunityIds: [communityId],
        quietStart: 22 * 60,
        quietEnd: 7 * 60,
        timeZone: 'Europe/Berlin',
      }),
    );
    await ok(call(node, 'PUT', '/me/notification-preferences', user, { kinds: { dm: { inApp: false } } }));
    const got = await ok(call<NotificationPreferencesDto>(node, 'GET', '/me/notification-preferences', user));
    expect(got.kinds.new_follower).toEqual({ inApp: true, email: true, push: true });
    expect(got.kinds.dm).toEqual({ inApp: false, email: true, push: false });
    expect(got).toMatchObject({ mutedCommunityIds: [communityId], quietStart: 1320, quietEnd: 420, timeZone: 'Europe/Berlin' });
    await ok(call(node, 'PUT', '/me/notification-preferences', user, { quietStart: null, quietEnd: null }));
    expect(await ok(call<NotificationPreferencesDto>(node, 'GET', '/me/notification-preferences', user))).toMatchObject({ quietStart: null, quietEnd: null });
  });

  it('refuses bad input with invalid_input', async () => {
    const [user] = await registerUsers(node.url, 1);
    const bad = [
      { kinds: { no_such_kind: { email: true } } },
      { kinds: { dm: { fax: true } } },
      { kinds: { dm: { email: 'yes' } } },
      { mutedCommunityIds: ['not-a-uuid'] },
      { quietStart: 60 },
      { quietStart: 60, quietEnd: 1440 },
      { quietStart: -1, quietEnd: 10 },
      { quietStart: 60, quietEnd: 60 },
      { timeZone: 'Mars/Olympus_Mons' },
      { surprise: true },
    ];
    for (const body of bad) {
      const res = await call(node, 'PUT', '/me/notification-preferences', user, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((res.body as { error: { code: string } }).error.code).toBe('invalid_input');
    }
    expect((await ok(call<NotificationPreferencesDto>(node, 'GET', '/me/notification-preferences', user))).timeZone).toBe('UTC');
  });

  it('quietUntil handles windows across midnight in the user’s time zone', () => {
    // 22:00–07:00 in New York (UTC−5 in January).
    const p = prefs({ quietStart: 22 * 60, quietEnd: 7 * 60, timeZone: 'America/New_York' });
    expect(quietUntil(p, new Date('2027-01-15T04:30:00Z'))?.toISOString()).toBe('2027-01-15T12:00:00.000Z'); // 23:30 local
    expect(quietUntil(p, new Date('2027-01-15T09:15:00Z'))?.toISOString()).toBe('2027-01-15T12:00:00.000Z'); // 04:15 local
    expect(quietUntil(p, new Date('2027-01-15T03:00:00Z'))?.toISOString()).toBe('2027-01-15T12:00:00.000Z'); // 22:00 local
    expect(quietUntil(p, new Date('2027-01-15T12:00:00Z'))).toBeNull(); // 07:00 local: over
    expect(quietUntil(p, new Date('2027-01-15T18:00:00Z'))).toBeNull(); // 13:00 local
    // A window inside one day, and none at all.
    const day = prefs({ quietStart: 9 * 60, quietEnd: 17 * 60, timeZone: 'Asia/Tokyo' });
    expect(quietUntil(day, new Date('2027-01-15T01:00:00Z'))?.toISOString()).toBe('2027-01-15T08:00:00.000Z');
    expect(quietUntil(day, new Date('2027-01-15T09:00:00Z'))).toBeNull();
    expect(quietUntil(DEFAULT_PREFERENCES, new Date())).toBeNull();
    // Across the spring-forward night in New York (2027-03-14), 07:00 local is 11:00Z, not 12:00Z.
    expect(quietUntil(p, new Date('2027-03-14T04:00:00Z'))?.toISOString()).toBe('2027-03-14T11:00:00.000Z');
  });

  it('wants: a muted community silences everything but mentions; unsubscribed stops e-mail', () => {
    const c = crypto.randomUUID();
    const p = prefs({ mutedCommunityIds: [c] });
    expect(wants(p, 'reply', 'inApp', c)).toBe(false);
    expect(wants(p, 'mention', 'inApp', c)).toBe(true);
    expect(wants(p, 'reply', 'inApp', null)).toBe(true);
    expect(wants(prefs({ emailUnsubscribed: true }), 'dm', 'email', null)).toBe(false);
    expect(wants(prefs({ emailUnsubscribed: true }), 'dm', 'push', null)).toBe(true);
  });

  it('notify stores nothing for a kind switched off in-app, nor a muted community’s non-mentions', async () => {
    const { communityId, learners } = await classroomCommunity(node, 1);
    const user = learners[0]!;
    await ok(
      call(node, 'PUT', '/me/notification-preferences', user, { kinds: { new_follower: { inApp: false } }, mutedCommunityIds: [communityId] }),
    );
    const base = { userId: user.user.id, subjectType: 'user', title: 't', url: '/app' };
    const stored = await notify(node.node.deps, [
      { ...base, kind: 'new_follower', sourceKey: `f:${crypto.randomUUID()}` },
      { ...base, kind: 'reply', sourceKey: `r:${crypto.randomUUID()}`, communityId },
      { ...base, kind: 'mention', sourceKey: `m:${crypto.randomUUID()}`, communityId },
      { ...base, kind: 'order_paid', sourceKey: `o:${crypto.randomUUID()}` },
    ]);
    expect(stored).toBe(2);
    const rows = await dbOf(node).selectFrom('notifications').select('kind').where('user_id', '=', user.user.id).orderBy('kind').execute();
    expect(rows.map((r) => r.kind)).toEqual(['mention', 'order_paid']);
  });
});
