import { afterEach, describe, expect, it, vi } from 'vitest';
import { refreshOnce, resetSharedRefreshes } from './session.ts';

const caller = {
  request: new Request('http://web.test/app'),
  getClientAddress: () => '198.51.100.7',
};

function authResult(n: number) {
  return {
    user: { id: 'u', email: 'a@b.c', displayName: 'A', role: 'user', emailVerified: false, createdAt: '2025-01-01T00:00:00.000Z' },
    accessToken: `access-${n}`,
    expiresIn: 900,
    refreshToken: `refresh-${n}`,
    sessionId: '00000000-0000-4000-8000-000000000000',
  };
}

afterEach(() => {
  vi.unstubAllGlobals();
  resetSharedRefreshes();
});

describe('refreshOnce', () => {
  it('shares one API refresh between concurrent requests holding the same cookie', async () => {
    let calls = 0;
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => {
        calls += 1;
        await new Promise((r) => setTimeout(r, 20));
        return Response.json(authResult(calls));
      }),
    );

    const [a, b] = await Promise.all([refreshOnce(caller, 'old-token'), refreshOnce(caller, 'old-token')]);
    const c = await refreshOnce(caller, 'old-token');

    expect(calls).toBe(1);
    expect(a).toEqual(b);
    expect(c).toEqual(a);
    expect(a.ok && a.data.refreshToken).toBe('refresh-1');
  });

  it('does not share between different tokens', async () => {
    let calls = 0;
    vi.stubGlobal('fetch', vi.fn(async () => Response.json(authResult(++calls))));
    await refreshOnce(caller, 'token-a');
    await refreshOnce(caller, 'token-b');
    expect(calls).toBe(2);
  });

  it('retries after a transient failure instead of replaying it', async () => {
    let calls = 0;
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => {
        calls += 1;
        if (calls === 1) throw new TypeError('fetch failed');
        return Response.json(authResult(calls));
      }),
    );
    const first = await refreshOnce(caller, 'token');
    await Promise.resolve();
    const second = await refreshOnce(caller, 'token');
    expect(first.ok).toBe(false);
    expect(second.ok).toBe(true);
    expect(calls).toBe(2);
  });

  it('keeps replaying a definite rejection (the token is dead either way)', async () => {
    let calls = 0;
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => {
        calls += 1;
        return Response.json({ error: { code: 'unauthenticated', message: 'Used' } }, { status: 401 });
      }),
    );
    await refreshOnce(caller, 'token');
    const again = await refreshOnce(caller, 'token');
    expect(again).toMatchObject({ ok: false, error: { code: 'unauthenticated' } });
    expect(calls).toBe(1);
  });
});
