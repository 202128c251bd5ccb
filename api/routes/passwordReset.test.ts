import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESET_REQUESTS_PER_EMAIL_PER_HOUR, RESET_REQUESTS_PER_IP_PER_HOUR } from '../../domain/auth/accountLimiters.ts';
import { RESET_LINK_TTL_MINUTES } from '../../domain/auth/passwordReset.ts';
import { manualClock } from '../../domain/shared/time.ts';
import { db } from '../../orm/db.ts';
import { api, eventually, registerUser, STRONG_PASSWORD, uniqueEmail } from '../../test/factories.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';

const NEW_PASSWORD = 'seven purple owls at the harbour';
const clock = manualClock();
let node: RunningNode;
let nextIp = 1;

beforeAll(async () => {
  node = await startNode({ clock });
});
afterAll(async () => node?.close());

/** Each test asks from an address of its own (as the web server forwards it), so the per-IP budget is its alone. */
function fromNewIp(): Record<string, string> {
  return { 'x-edulure-internal': node.node.internalSecret, 'x-edulure-client-ip': `198.51.100.${nextIp++}` };
}

function requestReset(email: string, headers: Record<string, string>) {
  return api(node.url, 'POST', '/api/v1/auth/password-reset', { body: { email }, headers });
}

async function pendingResetJobs(): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from graphile_worker.jobs where task_identifier = 'auth.password_reset'
  `.execute(db(node.node.orm.em.fork()));
  return rows[0]!.n;
}

async function mailsTo(email: string): Promise<{ subject: string; body: string }[]> {
  const outbox = await api(node.url, 'GET', '/api/v1/dev/outbox');
  return outbox.body.data.filter((m: { to: string }) => m.to === email);
}

/** The token of the newest reset link mailed to `email`, once the request's job has run. */
async function resetToken(email: string, count = 1): Promise<string> {
  let mails: { subject: string; body: string }[] = [];
  await eventually(async () => (mails = (await mailsTo(email)).filter((m) => /Reset your/.test(m.subject))).length >= count, 5000, 'reset mail');
  return decodeURIComponent(/\/reset-password\?token=([^\s]+)/.exec(mails[0]!.body)![1]!);
}

function confirm(token: string, password: string) {
  return api(node.url, 'POST', '/api/v1/auth/password-reset/confirm', { body: { token, password } });
}

describe('asking for a reset link', () => {
  it('answers a registered and an unknown address alike, and mails only the registered one', async () => {
    const user = await registerUser(node.url);
    const ghost = uniqueEmail('ghost');
    const headers = fromNewIp();
    const unknown = await requestReset(ghost, headers);
    const known = await requestReset(user.user.email.toUpperCase(), headers);
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(known.body).toEqual(unknown.body);
    expect(known.headers.get('content-length')).toBe(unknown.headers.get('content-length'));

    const token = await resetToken(user.user.email);
    expect(token).toMatch(/^[0-9a-f-]{36}\./);
    await eventually(async () => (await pendingResetJobs()) === 0, 5000, 'reset jobs done');
    expect(await mailsTo(ghost)).toEqual([]);
    // Only a hash of the link's secret is stored.
    const secret = token.split('.')[1]!;
    const stored = await db(node.node.orm.em.fork())
      .selectFrom('password_reset_tokens')
      .select('secret_hash')
      .where('id', '=', token.split('.')[0]!)
      .executeTakeFirstOrThrow();
    expect(stored.secret_hash).not.toContain(secret);
    expect(stored.secret_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses an invalid e-mail with a field error', async () => {
    const res = await requestReset('not-an-address', fromNewIp());
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_input');
  });

  it('limits requests per address, registered or not, with rate_limited', async () => {
    const user = await registerUser(node.url);
    for (const email of [user.user.email, uniqueEmail('ghost')]) {
      const statuses: number[] = [];
      for (let i = 0; i <= RESET_REQUESTS_PER_EMAIL_PER_HOUR; i++) statuses.push((await requestReset(email, fromNewIp())).status);
      expect(statuses).toEqual([...Array(RESET_REQUESTS_PER_EMAIL_PER_HOUR).fill(202), 429]);
      const refused = await requestReset(email, fromNewIp());
      expect(refused.body.error.code).toBe('rate_limited');
      expect(refused.body.error.retryAfter).toBeGreaterThan(0);
    }
  });

  it('limits requests per IP address across many addresses', async () => {
    const headers = fromNewIp();
    for (let i = 0; i < RESET_REQUESTS_PER_IP_PER_HOUR; i++) {
      expect((await requestReset(uniqueEmail(`spray${i}`), headers)).status).toBe(202);
    }
    const refused = await requestReset(uniqueEmail('spray'), headers);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    // Another address is not held up by it.
    expect((await requestReset(uniqueEmail('elsewhere'), fromNewIp())).status).toBe(202);
  });
});

describe('setting a new password with the link', () => {
  it('sets the password once, signs the account out everywhere, and the new password signs in', async () => {
    const user = await registerUser(node.url);
    const phone = await api(node.url, 'POST', '/api/v1/auth/login', { body: { email: user.user.email, password: user.password } });
    expect(phone.status).toBe(200);
    await requestReset(user.user.email, fromNewIp());
    const token = await resetToken(user.user.email);

    const weak = await confirm(token, 'password123');
    expect(weak.status).toBe(400);
    expect(weak.body.error.details.fields.password).toMatch(/too common/);

    const done = await confirm(token, NEW_PASSWORD);
    expect(done.status).toBe(204);

    for (const session of [user, phone.body]) {
      expect((await api(node.url, 'GET', '/api/v1/me', { token: session.accessToken })).status).toBe(401);
      expect((await api(node.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: session.refreshToken } })).status).toBe(401);
    }
    const old = await api(node.url, 'POST', '/api/v1/auth/login', { body: { email: user.user.email, password: STRONG_PASSWORD } });
    expect(old.status).toBe(401);
    const fresh = await api(node.url, 'POST', '/api/v1/auth/login', { body: { email: user.user.email, password: NEW_PASSWORD } });
    expect(fresh.status).toBe(200);
    // The link reached the address, so it counts as verified.
    expect(fresh.body.user.emailVerified).toBe(true);

    const again = await confirm(token, 'another fine passphrase here');
    expect(again.status).toBe(400);
    expect(again.body.error).toMatchObject({ code: 'invalid_input', details: { reason: 'used' } });
    expect(again.body.error.message).toMatch(/already used/);
  });

  it('uses up the other links sent to the account as well', async () => {
    const user = await registerUser(node.url);
    const headers = fromNewIp();
    await requestReset(user.user.email, headers);
    const first = await resetToken(user.user.email, 1);
    await requestReset(user.user.email, headers);
    const second = await resetToken(user.user.email, 2);
    expect(second).not.toBe(first);
    expect((await confirm(second, NEW_PASSWORD)).status).toBe(204);
    const stale = await confirm(first, 'a different passphrase entirely');
    expect(stale.status).toBe(400);
    expect(stale.body.error.details.reason).toBe('used');
  });

  it('lifts a sign-in lockout, so the owner gets back in at once', async () => {
    const user = await registerUser(node.url);
    for (let i = 0; i < 5; i++) await api(node.url, 'POST', '/api/v1/auth/login', { body: { email: user.user.email, password: `wrong-${i}-password` } });
    expect((await api(node.url, 'POST', '/api/v1/auth/login', { body: { email: user.user.email, password: user.password } })).status).toBe(429);
    await requestReset(user.user.email, fromNewIp());
    expect((await confirm(await resetToken(user.user.email), NEW_PASSWORD)).status).toBe(204);
    expect((await api(node.url, 'POST', '/api/v1/auth/login', { body: { email: user.user.email, password: NEW_PASSWORD } })).status).toBe(200);
  });

  it('a password changed in the settings retires the links still out', async () => {
    const user = await registerUser(node.url);
    await requestReset(user.user.email, fromNewIp());
    const token = await resetToken(user.user.email);
    const changed = await api(node.url, 'POST', '/api/v1/auth/password', {
      token: user.accessToken,
      body: { currentPassword: user.password, newPassword: NEW_PASSWORD },
    });
    expect(changed.status).toBe(204);
    const stale = await confirm(token, 'a different passphrase entirely');
    expect(stale.status).toBe(400);
    expect(stale.body.error.details.reason).toBe('used');
  });

  it(`refuses a link older than ${RESET_LINK_TTL_MINUTES} minutes on the domain clock`, async () => {
    const user = await registerUser(node.url);
    await requestReset(user.user.email, fromNewIp());
    const token = await resetToken(user.user.email);
    clock.advance(RESET_LINK_TTL_MINUTES * 60_000 + 1000);
    const expired = await confirm(token, NEW_PASSWORD);
    expect(expired.status).toBe(400);
    expect(expired.body.error).toMatchObject({ code: 'invalid_input', details: { reason: 'expired' } });
    expect((await api(node.url, 'POST', '/api/v1/auth/login', { body: { email: user.user.email, password: user.password } })).status).toBe(200);
  });

  it('refuses unknown, malformed and forged links with invalid_input', async () => {
    const user = await registerUser(node.url);
    await requestReset(user.user.email, fromNewIp());
    const [id] = (await resetToken(user.user.email)).split('.');
    for (const token of ['nonsense', `${crypto.randomUUID()}.${'A'.repeat(43)}`, `${id}.${'B'.repeat(43)}`]) {
      const res = await confirm(token, NEW_PASSWORD);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'invalid_input', details: { reason: 'invalid' } });
    }
    const empty = await confirm('', NEW_PASSWORD);
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('invalid_input');
  });
});
