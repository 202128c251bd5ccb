import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseEnv } from './env.ts';

describe('parseEnv', () => {
  it('applies documented defaults to an empty environment', () => {
    const parsed = parseEnv({});
    expect('env' in parsed && parsed.env).toMatchObject({
      PORT: 3000,
      DATA_DIR: '.data',
      LOG_LEVEL: 'info',
      RATE_LIMIT_AUTH_PER_MINUTE: 30,
    });
    expect('env' in parsed && parsed.env.DATABASE_URL).toBeUndefined();
    expect('env' in parsed && parsed.env.REDIS_URL).toBeUndefined();
  });

  it('parses a JWT key ring for rotation and origins list', () => {
    const parsed = parseEnv({
      JWT_KEYS: `new:${'a'.repeat(40)}, old:${'b'.repeat(40)}`,
      ALLOWED_ORIGINS: 'https://learn.example.com,http://localhost:5173',
    });
    if (!('env' in parsed)) throw new Error(JSON.stringify(parsed.problems));
    expect(parsed.env.JWT_KEYS?.map((k) => k.kid)).toEqual(['new', 'old']);
    expect(parsed.env.ALLOWED_ORIGINS).toEqual(['https://learn.example.com', 'http://localhost:5173']);
  });

  it('commerce: test payments and a 10 % fee by default; a Stripe secret key needs its publishable key and webhook secret', () => {
    const defaults = parseEnv({});
    expect('env' in defaults && defaults.env).toMatchObject({ PLATFORM_FEE_PERCENT: 10, CHECKOUT_HOLD_MINUTES: 15 });
    expect('env' in defaults && defaults.env.STRIPE_SECRET_KEY).toBeUndefined();

    const alone = parseEnv({ STRIPE_SECRET_KEY: 'sk_test_abc123' });
    expect('problems' in alone && alone.problems.map((p) => p.variable)).toEqual(['STRIPE_PUBLISHABLE_KEY']);
    const noSecret = parseEnv({ STRIPE_SECRET_KEY: 'sk_test_abc123', STRIPE_PUBLISHABLE_KEY: 'pk_test_abc123' });
    expect('problems' in noSecret && noSecret.problems.map((p) => p.variable)).toEqual(['STRIPE_WEBHOOK_SECRET']);
    const swapped = parseEnv({ STRIPE_SECRET_KEY: 'pk_test_abc123', STRIPE_PUBLISHABLE_KEY: 'pk_test_abc123', STRIPE_WEBHOOK_SECRET: 'whsec_abc' });
    expect('problems' in swapped && swapped.problems.map((p) => p.variable)).toContain('STRIPE_SECRET_KEY');

    const complete = parseEnv({
      STRIPE_SECRET_KEY: 'sk_live_abc123',
      STRIPE_PUBLISHABLE_KEY: 'pk_live_abc123',
      STRIPE_WEBHOOK_SECRET: 'whsec_abc123',
      PLATFORM_FEE_PERCENT: '12.5',
    });
    expect('env' in complete && complete.env).toMatchObject({ STRIPE_SECRET_KEY: 'sk_live_abc123', PLATFORM_FEE_PERCENT: 12.5 });
    expect('problems' in parseEnv({ PLATFORM_FEE_PERCENT: '101' })).toBe(true);
  });

  it('reports every problem at once, by variable', () => {
    const parsed = parseEnv({
      PORT: 'eighty',
      DATABASE_URL: 'mysql://nope',
      JWT_KEYS: 'k:short',
      ALLOWED_ORIGINS: 'https://ok.example.com/with/path',
      LOG_LEVEL: 'chatty',
    });
    expect('problems' in parsed).toBe(true);
    const variables = 'problems' in parsed ? parsed.problems.map((p) => p.variable).sort() : [];
    expect(variables).toEqual(['ALLOWED_ORIGINS', 'DATABASE_URL', 'JWT_KEYS', 'LOG_LEVEL', 'PORT']);
  });
});

describe('loadEnv in a real process', () => {
  it('prints each problem in plain words, hides secrets and exits non-zero', () => {
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', "import('./server/env.ts').then((m) => m.loadEnv())"], {
      env: { PATH: process.env.PATH, PORT: '-1', JWT_KEYS: 'k:super-secret-but-short', REDIS_URL: 'http://wrong' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Edulure cannot start');
    expect(result.stderr).toMatch(/PORT: .*"-1"/);
    expect(result.stderr).toMatch(/JWT_KEYS: .*at least 32 characters \(got \(hidden\)\)/);
    expect(result.stderr).toMatch(/REDIS_URL: must be a redis:\/\/ URL/);
    expect(result.stderr).not.toContain('super-secret');
  });
});
