import argon2 from 'argon2';
import { PASSWORD_MIN_LENGTH } from '../../contracts/auth.ts';
import { COMMON_PASSWORDS } from './commonPasswords.ts';

/** argon2id with the library's defaults (64 MiB, t=3, p=4): above OWASP's minimum. */
export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | undefined;
/** Spends the same time as a real check so unknown e-mails cannot be told apart by timing. */
export async function burnPasswordCheck(password: string): Promise<void> {
  dummyHash ??= hashPassword('edulure-timing-equaliser');
  await verifyPassword(await dummyHash, password);
}

/** Returns a reason the password is refused, or null when it is acceptable. */
export function passwordProblem(password: string, email: string, displayName?: string): string | null {
  if ([...password].length < PASSWORD_MIN_LENGTH) return `Password needs at least ${PASSWORD_MIN_LENGTH} characters.`;
  const lowered = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lowered)) return 'This password is too common. Choose something less guessable.';
  const normalisedEmail = email.toLowerCase();
  const localPart = normalisedEmail.split('@')[0] ?? '';
  if (lowered === normalisedEmail || (localPart.length >= 4 && lowered === localPart)) {
    return 'Password must not be your e-mail address.';
  }
  if (displayName && lowered === displayName.toLowerCase()) return 'Password must not be your display name.';
  if (new Set(lowered).size < 4) return 'Password needs more variety than a few repeated characters.';
  return null;
}
