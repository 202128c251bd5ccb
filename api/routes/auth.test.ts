import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, registerUser, STRONG_PASSWORD, uniqueEmail } from '../../test/factories.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => node?.close());

describe('register', () => {
  it('creates an account, signs in, and hides the password hash', async () => {
    const email = uniqueEmail('reg');
    const res = await api(node.url, 'POST', '/api/v1/auth/register', {
      body: { email: email.toUpperCase(), password: STRONG_PASSWORD, displayName: '  Ada Lovelace ' },
    });
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({ email, displayName: 'Ada Lovelace', role: 'user', emailVerified: false });
    expect(res.body.user).not.toHaveProperty('passwordHash');
    expect(res.body.accessToken).toMatch(/^ey/);
    expect(res.body.refreshToken).toMatch(/\./);
    expect(res.headers.get('set-cookie')).toMatch(/edulure_refresh=.*httponly/i);
    const me = await api(node.url, 'GET', '/api/v1/me', { token: res.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(email);
  });

  it('refuses a duplicate e-mail with 409 conflict', async () => {
    const user = await registerUser(node.url);
    const res = await api(node.url, 'POST', '/api/v1/auth/register', {
      body: { email: user.user.email, password: STRONG_PASSWORD, displayName: 'Someone Else' },
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('conflict');
  });

  it.each([
    ['too short', 'short pw', /at least 10/],
    ['common', 'password123', /too common/],
    ['the e-mail itself', '__EMAIL__', /e-mail/],
  ])('refuses a %s password with a field error', async (_label, password, message) => {
    const email = uniqueEmail('pw');
    const res = await api(node.url, 'POST', '/api/v1/auth/register', {
      body: { email, password: password === '__EMAIL__' ? email : password, displayName: 'Pat Doe' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_input');
    expect(res.body.error.details.fields.password).toMatch(message);
  });
});

describe('login', () => {
  it('signs in with the right password and refuses the wrong one without saying which part was wrong', async () => {
    const user = await registerUser(node.url);
    const ok = await api(node.url, 'POST', '/api/v1/auth/login', { body: { email: user.user.email, password: user.password } });
    expect(ok.status).toBe(200);
    expect(ok.body.sessionId).not.toBe(user.sessionId);
    const wrong = await api(node.url, 'POST', '/api/v1/auth/login', { body: { email: user.user.email, password: 'not the password' } });
    const unknown = await api(node.url, 'POST', '/api/v1/auth/login', { body: { email: uniqueEmail('ghost'), password: 'whatever123' } });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body.error).toEqual(unknown.body.error);
  });

  it('locks the account after repeated failures, even for the right password, with retryAfter', async () => {
    const user = await registerUser(node.url);
    for (let i = 0; i < 5; i++) {
      const res = await api(node.url, 'POST', '/api/v1/auth/login', { body: { email: user.user.email, password: `wrong-${i}-password` } });
      expect(res.status).toBe(401);
    }
    const locked = await api(node.url, 'POST', '/api/v1/auth/login', { body: { email: user.user.email, password: user.password } });
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('rate_limited');
    expect(locked.body.error.retryAfter).toBeGreaterThan(0);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('refresh tokens', () => {
  it('rotates: the new pair works and the old refresh token is single-use', async () => {
    const user = await registerUser(node.url);
    const first = await api(node.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: user.refreshToken } });
    expect(first.status).toBe(200);
    expect(first.body.refreshToken).not.toBe(user.refreshToken);
    expect(first.body.sessionId).toBe(user.sessionId);
    const me = await api(node.url, 'GET', '/api/v1/me', { token: first.body.accessToken });
    expect(me.status).toBe(200);
  });

  it('revokes the whole session family when a used refresh token is presented again', async () => {
    const user = await registerUser(node.url);
    const rotated = await api(node.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: user.refreshToken } });
    expect(rotated.status).toBe(200);

    const replay = await api(node.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: user.refreshToken } });
    expect(replay.status).toBe(401);
    expect(replay.body.error.message).toMatch(/already used/);

    // The legitimate holder's newer tokens are dead too.
    const newer = await api(node.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: rotated.body.refreshToken } });
    expect(newer.status).toBe(401);
    const me = await api(node.url, 'GET', '/api/v1/me', { token: rotated.body.accessToken });
    expect(me.status).toBe(401);
    // Other sessions of the same user are untouched.
    const other = await api(node.url, 'POST', '/api/v1/auth/login', { body: { email: user.user.email, password: user.password } });
    expect(other.status).toBe(200);
  });

  it('accepts the refresh token from the httpOnly cookie', async () => {
    const user = await registerUser(node.url);
    const res = await api(node.url, 'POST', '/api/v1/auth/refresh', {
      body: {},
      headers: { cookie: `edulure_refresh=${user.refreshToken}` },
    });
    expect(res.status).toBe(200);
  });

  it('refuses garbage and forged tokens', async () => {
    const user = await registerUser(node.url);
    const [id] = user.refreshToken.split('.');
    for (const refreshToken of ['nonsense', `${id}.${'A'.repeat(43)}`]) {
      const res = await api(node.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken } });
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe('unauthenticated');
    }
  });
});

describe('sessions', () => {
  it('lists my sessions, marks the current one, and revoking one kills its tokens', async () => {
    const user = await registerUser(node.url);
    const laptop = await api(node.url, 'POST', '/api/v1/auth/login', {
      body: { email: user.user.email, password: user.password },
      headers: { 'user-agent': 'Laptop Browser' },
    });
    const list = await api(node.url, 'GET', '/api/v1/auth/sessions', { token: user.accessToken });
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(2);
    expect(list.body.data.find((s: any) => s.current).id).toBe(user.sessionId);
    expect(list.body.data.find((s: any) => !s.current).userAgent).toBe('Laptop Browser');

    const revoke = await api(node.url, 'DELETE', `/api/v1/auth/sessions/${laptop.body.sessionId}`, { token: user.accessToken });
    expect(revoke.status).toBe(204);
    expect((await api(node.url, 'GET', '/api/v1/me', { token: laptop.body.accessToken })).status).toBe(401);
    expect((await api(node.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: laptop.body.refreshToken } })).status).toBe(401);
    const after = await api(node.url, 'GET', '/api/v1/auth/sessions', { token: user.accessToken });
    expect(after.body.data.map((s: any) => s.id)).toEqual([user.sessionId]);
  });

  it("cannot revoke another user's session", async () => {
    const alice = await registerUser(node.url);
    const bob = await registerUser(node.url);
    const res = await api(node.url, 'DELETE', `/api/v1/auth/sessions/${bob.sessionId}`, { token: alice.accessToken });
    expect(res.status).toBe(404);
    expect((await api(node.url, 'GET', '/api/v1/me', { token: bob.accessToken })).status).toBe(200);
  });

  it('logout ends the current session only', async () => {
    const user = await registerUser(node.url);
    const phone = await api(node.url, 'POST', '/api/v1/auth/login', { body: { email: user.user.email, password: user.password } });
    const out = await api(node.url, 'POST', '/api/v1/auth/logout', { token: user.accessToken });
    expect(out.status).toBe(204);
    expect((await api(node.url, 'GET', '/api/v1/me', { token: user.accessToken })).status).toBe(401);
    expect((await api(node.url, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: user.refreshToken } })).status).toBe(401);
    expect((await api(node.url, 'GET', '/api/v1/me', { token: phone.body.accessToken })).status).toBe(200);
  });
});

describe('e-mail verification', () => {
  it('sends a link through the outbox that verifies the address once', async () => {
    const user = await registerUser(node.url);
    const outbox = await api(node.url, 'GET', '/api/v1/dev/outbox');
    const mail = outbox.body.data.find((m: any) => m.to === user.user.email);
    expect(mail.subject).toMatch(/Confirm your e-mail/);
    const token = decodeURIComponent(/token=([^\s]+)/.exec(mail.body)![1]!);
    const verified = await api(node.url, 'POST', '/api/v1/auth/verify-email', { body: { token } });
    expect(verified.status).toBe(200);
    expect(verified.body.user.emailVerified).toBe(true);
    const again = await api(node.url, 'POST', '/api/v1/auth/verify-email', { body: { token } });
    expect(again.status).toBe(400);
    const me = await api(node.url, 'GET', '/api/v1/me', { token: user.accessToken });
    expect(me.body.user.emailVerified).toBe(true);
    const resend = await api(node.url, 'POST', '/api/v1/auth/verify-email/resend', { token: user.accessToken });
    expect(resend.status).toBe(409);
  });
});

describe('per-IP limit on auth routes', () => {
  it('answers rate_limited once RATE_LIMIT_AUTH_PER_MINUTE is spent', async () => {
    const limited = await startNode({ env: { RATE_LIMIT_AUTH_PER_MINUTE: '3' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        statuses.push((await api(limited.url, 'POST', '/api/v1/auth/login', { body: { email: uniqueEmail(), password: 'x' } })).status);
      }
      expect(statuses).toEqual([401, 401, 401, 429]);
    } finally {
      await limited.close();
    }
  });
});
