import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD_FAILURES_PER_USER } from '../../domain/auth/accountLimiters.ts';
import { EMAIL_CHANGE_TTL_HOURS } from '../../domain/auth/accountChanges.ts';
import { manualClock } from '../../domain/shared/time.ts';
import { api, registerUser, STRONG_PASSWORD, uniqueEmail, type TestUser } from '../../test/factories.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';

const NEW_PASSWORD = 'seven purple owls at the harbour';
const clock = manualClock();
let node: RunningNode;

beforeAll(async () => {
  node = await startNode({ clock });
});
afterAll(async () => node?.close());

function changePassword(user: Pick<TestUser, 'accessToken'>, currentPassword: string, newPassword: string) {
  return api(node.url, 'POST', '/api/v1/auth/password', { token: user.accessToken, body: { currentPassword, newPassword } });
}

function changeEmail(user: Pick<TestUser, 'accessToken'>, newEmail: string, currentPassword = STRONG_PASSWORD) {
  return api(node.url, 'POST', '/api/v1/auth/email-change', { token: user.accessToken, body: { newEmail, currentPassword } });
}

function login(email: string, password: string) {
  return api(node.url, 'POST', '/api/v1/auth/login', { body: { email, password } });
}

async function mailsTo(email: string): Promise<{ subject: string; body: string }[]> {
  const outbox = await api(node.url, 'GET', '/api/v1/dev/outbox');
  return outbox.body.data.filter((m: { to: string }) => m.to === email);
}

async function confirmToken(email: string): Promise<string> {
  const [mail] = await mailsTo(email);
  expect(mail?.subject).toMatch(/Confirm your new e-mail/);
  return decodeURIComponent(/\/confirm-email\?token=([^\s]+)/.exec(mail!.body)![1]!);
}

function confirmEmail(token: string) {
  return api(node.url, 'POST', '/api/v1/auth/email-change/confirm', { body: { token } });
}

describe('changing the password while signed in', () => {
  it('needs the current password, keeps this session and ends the others', async () => {
    const user = await registerUser(node.url);
    const phone = await login(user.user.email, user.password);

    const wrong = await changePassword(user, 'not my password at all', NEW_PASSWORD);
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.details.fields.currentPassword).toMatch(/incorrect/);
    const weak = await changePassword(user, STRONG_PASSWORD, 'password123');
    expect(weak.status).toBe(400);
    expect(weak.body.error.details.fields.newPassword).toMatch(/too common/);
    // Nothing changed yet: the other device is still signed in.
    expect((await api(node.url, 'GET', '/api/v1/me', { token: phone.body.accessToken })).status).toBe(200);

    expect((await changePassword(user, STRONG_PASSWORD, NEW_PASSWORD)).status).toBe(204);
    expect((await api(node.url, 'GET', '/api/v1/me', { token: user.accessToken })).status).toBe(200);
    expect((await api(node.url, 'GET', '/api/v1/me', { token: phone.body.accessToken })).status).toBe(401);
    expect((await api(node.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: phone.body.refreshToken } })).status).toBe(401);
    expect((await login(user.user.email, STRONG_PASSWORD)).status).toBe(401);
    expect((await login(user.user.email, NEW_PASSWORD)).status).toBe(200);
  });

  it('stops guessing the current password after a few wrong tries, even for the right one', async () => {
    const user = await registerUser(node.url);
    for (let i = 0; i < PASSWORD_FAILURES_PER_USER; i++) {
      expect((await changePassword(user, `wrong guess number ${i}`, NEW_PASSWORD)).status).toBe(400);
    }
    const locked = await changePassword(user, STRONG_PASSWORD, NEW_PASSWORD);
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('rate_limited');
  });

  it('needs a signed-in caller and a well-formed body', async () => {
    const anonymous = await api(node.url, 'POST', '/api/v1/auth/password', { body: { currentPassword: 'x', newPassword: NEW_PASSWORD } });
    expect(anonymous.status).toBe(401);
    const user = await registerUser(node.url);
    const missing = await api(node.url, 'POST', '/api/v1/auth/password', { token: user.accessToken, body: { newPassword: NEW_PASSWORD } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('invalid_input');
  });
});

describe('changing the e-mail address', () => {
  it('changes the address only once the new one confirms, and tells the old one', async () => {
    const user = await registerUser(node.url);
    const oldEmail = user.user.email;
    const newEmail = uniqueEmail('moved');

    expect((await changeEmail(user, newEmail, 'not my password at all')).status).toBe(400);
    const same = await changeEmail(user, oldEmail.toUpperCase());
    expect(same.status).toBe(400);
    expect(same.body.error.details.fields.newEmail).toMatch(/already your/);
    const other = await registerUser(node.url);
    const taken = await changeEmail(user, other.user.email);
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('conflict');

    expect((await changeEmail(user, newEmail)).status).toBe(202);
    const token = await confirmToken(newEmail);
    // Nothing changes until the link is opened.
    expect((await api(node.url, 'GET', '/api/v1/me', { token: user.accessToken })).body.user.email).toBe(oldEmail);
    expect((await login(newEmail, STRONG_PASSWORD)).status).toBe(401);

    const confirmed = await confirmEmail(token);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.user).toMatchObject({ email: newEmail, emailVerified: true });
    expect((await api(node.url, 'GET', '/api/v1/me', { token: user.accessToken })).body.user.email).toBe(newEmail);
    expect((await login(newEmail, STRONG_PASSWORD)).status).toBe(200);
    expect((await login(oldEmail, STRONG_PASSWORD)).status).toBe(401);
    const [notice] = await mailsTo(oldEmail);
    expect(notice?.subject).toMatch(/was changed/);
    expect(notice?.body).toContain(newEmail);

    const again = await confirmEmail(token);
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('invalid_input');
  });

  it('a newer request replaces a pending link', async () => {
    const user = await registerUser(node.url);
    const first = uniqueEmail('first');
    const second = uniqueEmail('second');
    expect((await changeEmail(user, first)).status).toBe(202);
    const firstToken = await confirmToken(first);
    expect((await changeEmail(user, second)).status).toBe(202);
    expect((await confirmEmail(firstToken)).status).toBe(400);
    expect((await confirmEmail(await confirmToken(second))).body.user.email).toBe(second);
  });

  it(`refuses a link older than ${EMAIL_CHANGE_TTL_HOURS} hours on the domain clock`, async () => {
    const user = await registerUser(node.url);
    const newEmail = uniqueEmail('late');
    await changeEmail(user, newEmail);
    const token = await confirmToken(newEmail);
    clock.advance(EMAIL_CHANGE_TTL_HOURS * 3_600_000 + 1000);
    const expired = await confirmEmail(token);
    expect(expired.status).toBe(400);
    expect(expired.body.error.code).toBe('invalid_input');
    expect((await api(node.url, 'GET', '/api/v1/me', { token: user.accessToken })).body.user.email).toBe(user.user.email);
  });

  it('answers conflict when the address was taken while the link waited', async () => {
    const user = await registerUser(node.url);
    const newEmail = uniqueEmail('race');
    await changeEmail(user, newEmail);
    const token = await confirmToken(newEmail);
    await registerUser(node.url, { email: newEmail });
    const res = await confirmEmail(token);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict');
  });

  it('refuses garbage links with invalid_input', async () => {
    for (const token of ['nonsense', `${crypto.randomUUID()}.${'A'.repeat(43)}`]) {
      const res = await confirmEmail(token);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_input');
    }
  });
});
