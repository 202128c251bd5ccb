import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, ok, registerUsers, type TestUser } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';
import { manualClock } from '../shared/time.ts';
import { emailDigestJob, unsubscribeToken } from './emailDigest.ts';
import { notify } from './notify.ts';

/*
 * E-mail digests: each notification wanted by e-mail falls due EMAIL_NOTIFY_DELAY_MINUTES after it is stored; the
 * sweep mails a burst as ONE outbox mail listing what is still unread, with a one-click List-Unsubscribe, and marks
 * those e-mailed. Quiet hours postpone it; the unsubscribe link works without signing in and stops further digests.
 */
describe('e-mail digests', () => {
  // Held still at the real time: graphile compares run_at with the database's now(), so the node never runs these itself.
  const clock = manualClock(new Date(Math.floor(Date.now() / 60_000) * 60_000));
  let node: RunningNode;

  beforeAll(async () => {
    node = await startNode({ clock });
  });
  afterAll(async () => {
    await node?.close();
  });

  /** Each of the user's notifications by title, with when its digest falls due (ISO, or null: not due). */
  const dueAt = async (user: TestUser) =>
    (await dbOf(node).selectFrom('notifications').select(['title', 'email_due_at']).where('user_id', '=', user.user.id).orderBy('title').execute()).map((r) => [
      r.title,
      r.email_due_at?.toISOString() ?? null,
    ]);
  const minutesAfter = (at: Date, minutes: number) => new Date(at.getTime() + minutes * 60_000).toISOString();
  const mailsTo = (user: TestUser) =>
    dbOf(node)
      .selectFrom('email_outbox as o')
      .innerJoin('users as u', 'u.email', 'o.recipient')
      .select(['o.subject', 'o.body', 'o.headers'])
      .where('u.id', '=', user.user.id)
      .where('o.headers', 'is not', null)
      .execute();
  // The periodic sweep, run now on the test's clock: it mails everyone whose digest is due.
  const sweep = () => emailDigestJob(node.node.deps)({}, { id: '0', attempts: 1, maxAttempts: 12 });
  const paid = (user: TestUser, title: string) =>
    notify(node.node.deps, [{ userId: user.user.id, kind: 'order_paid', sourceKey: `order:${crypto.randomUUID()}`, subjectType: 'order', title, url: `/app/orders/${title}` }]);
  const emailedAt = async (user: TestUser) =>
    (await dbOf(node).selectFrom('notifications').select(['title', 'emailed_at']).where('user_id', '=', user.user.id).orderBy('title').execute()).map((r) => [
      r.title,
      r.emailed_at !== null,
    ]);

  it('a burst falls due 15 minutes after its first; the sweep then mails ONE digest listing both, with List-Unsubscribe, and marks them e-mailed', async () => {
    const [user] = await registerUsers(node.url, 1);
    const first = clock.now();
    await paid(user, 'alpha');
    clock.advance(60_000);
    await paid(user, 'beta');
    expect(await dueAt(user)).toEqual([
      ['alpha', minutesAfter(first, 15)],
      ['beta', minutesAfter(first, 16)],
    ]);
    // Not due yet: nothing goes out.
    clock.advance(13 * 60_000);
    await sweep();
    expect(await mailsTo(user)).toHaveLength(0);

    clock.advance(60_000);
    await sweep();
    const mails = await mailsTo(user);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe('2 new notifications');
    expect(mails[0]!.body).toContain('alpha');
    expect(mails[0]!.body).toContain('http://localhost:3000/app/orders/beta');
    const headers = mails[0]!.headers as Record<string, string>;
    expect(headers['List-Unsubscribe']).toBe(
      `<http://localhost:3000/api/v1/notifications/unsubscribe?token=${encodeURIComponent(unsubscribeToken(node.node.deps, user.user.id))}>`,
    );
    expect(headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(await emailedAt(user)).toEqual([
      ['alpha', true],
      ['beta', true],
    ]);
    expect(await dueAt(user)).toEqual([
      ['alpha', null],
      ['beta', null],
    ]);
    // Run again (a retry, or the next sweep after beta's own due time): nothing new to mail.
    clock.advance(5 * 60_000);
    await sweep();
    expect(await mailsTo(user)).toHaveLength(1);
  });

  it('leaves out what was read in-app before it fell due; kinds not wanted by e-mail never fall due', async () => {
    const [user] = await registerUsers(node.url, 1);
    await notify(node.node.deps, [{ userId: user.user.id, kind: 'new_follower', sourceKey: `f:${crypto.randomUUID()}`, subjectType: 'user', title: 'follower', url: '/app' }]);
    expect(await dueAt(user)).toEqual([['follower', null]]);
    await paid(user, 'read-one');
    await paid(user, 'unread-one');
    const read = await dbOf(node).selectFrom('notifications').select('id').where('user_id', '=', user.user.id).where('title', '=', 'read-one').executeTakeFirstOrThrow();
    await ok(call(node, 'POST', '/notifications/read', user, { ids: [read.id] }));
    expect((await dueAt(user)).map(([title, due]) => [title, due !== null])).toEqual([
      ['follower', false],
      ['read-one', false],
      ['unread-one', true],
    ]);
    clock.advance(15 * 60_000);
    await sweep();
    const mails = await mailsTo(user);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe('unread-one');
    expect(mails[0]!.body).not.toContain('• read-one');
    expect(mails[0]!.body).not.toContain('follower');
    expect(await emailedAt(user)).toEqual([
      ['follower', false],
      ['read-one', false],
      ['unread-one', true],
    ]);
  });

  it('falling due during quiet hours, the digest waits for when they end', async () => {
    const [user] = await registerUsers(node.url, 1);
    const now = clock.now();
    const minute = now.getUTCHours() * 60 + now.getUTCMinutes();
    await ok(call(node, 'PUT', '/me/notification-preferences', user, { quietStart: (minute + 1440 - 30) % 1440, quietEnd: (minute + 90) % 1440, timeZone: 'UTC' }));
    await paid(user, 'hush');
    clock.advance(15 * 60_000);
    await sweep();
    expect(await mailsTo(user)).toHaveLength(0);
    expect(await dueAt(user)).toEqual([['hush', minutesAfter(now, 90)]]);
    clock.advance(75 * 60_000);
    await sweep();
    expect((await mailsTo(user)).map((m) => m.subject)).toEqual(['hush']);
  });

  it('the one-click unsubscribe works without signing in and stops further digests; a bad token is refused', async () => {
    const [user, other] = await registerUsers(node.url, 2);
    const token = unsubscribeToken(node.node.deps, user.user.id);
    const bad = [`${other.user.id}.${token.split('.')[1]}`, 'nonsense', `${user.user.id}.${'A'.repeat(43)}`];
    for (const t of bad) {
      const res = await call(node, 'POST', `/notifications/unsubscribe?token=${encodeURIComponent(t)}`);
      expect(res.status).toBe(400);
      expect((res.body as { error: { code: string } }).error.code).toBe('invalid_input');
    }
    await paid(user, 'before');
    // As a mail client sends it (RFC 8058): a form body, no sign-in.
    const oneClick = await fetch(`${node.url}/api/v1/notifications/unsubscribe?token=${encodeURIComponent(token)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(oneClick.status).toBe(200);
    expect(await oneClick.json()).toMatchObject({ unsubscribed: true });
    expect(await ok(call(node, 'GET', `/notifications/unsubscribe?token=${encodeURIComponent(token)}`))).toMatchObject({ unsubscribed: true });
    clock.advance(15 * 60_000);
    await sweep();
    expect(await mailsTo(user)).toHaveLength(0);
    await paid(user, 'after');
    expect(await dueAt(user)).toEqual([
      ['after', null],
      ['before', null],
    ]);
    expect((await ok(call<{ emailUnsubscribed: boolean }>(node, 'GET', '/me/notification-preferences', user))).emailUnsubscribed).toBe(true);
    // The other user is unaffected.
    await paid(other, 'still');
    clock.advance(15 * 60_000);
    await sweep();
    expect((await mailsTo(other)).map((m) => m.subject)).toEqual(['still']);
  });
});
