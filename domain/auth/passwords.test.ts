import { describe, expect, it } from 'vitest';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.ts';

describe('password policy', () => {
  it.each([
    ['short', 'abc123xyz', /at least 10/],
    ['common', 'Password123', /too common/],
    ['e-mail', 'Ada.Lovelace@Example.com', /e-mail/],
    ['e-mail local part', 'ada.lovelace', /e-mail/],
    ['repetitive', 'aaaaaaaaaaaa', /variety/],
  ])('refuses a %s password', (_label, password, reason) => {
    expect(passwordProblem(password, 'ada.lovelace@example.com')).toMatch(reason);
  });

  it('accepts a long passphrase', () => {
    expect(passwordProblem('correct horse battery staple', 'ada@example.com')).toBeNull();
  });
});

describe('argon2id hashing', () => {
  it('hashes with argon2id and verifies only the right password', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=65536,p=4,t=3\$/);
    expect(await verifyPassword(hash, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(hash, 'correct horse battery stapler')).toBe(false);
    expect(await verifyPassword('not-a-hash', 'anything')).toBe(false);
  });
});
