import { LockMode } from '@mikro-orm/postgresql';
import type { PasswordResetConfirmInput, PasswordResetRequestInput } from '../../contracts/auth.ts';
import { db } from '../../orm/db.ts';
import { PasswordResetToken, User, type IUser } from '../../orm/entities/index.ts';
import { EMAIL_MAX_ATTEMPTS, queueEmail } from '../notifications/outbox.ts';
import type { ClientInfo, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { enqueueJob, type JobHandler } from '../shared/jobs.ts';
import type { AccountLimiters } from './accountLimiters.ts';
import { announceEndedSessions, endSessionsInTx } from './endSessions.ts';
import { hashPassword, passwordProblem } from './passwords.ts';
import { mintOpaqueToken, parseOpaqueToken, secretMatches } from './tokens.ts';

export const RESET_LINK_TTL_MINUTES = 30;

declare module '../shared/jobs.ts' {
  interface JobPayloads {
    /** Looks the address up and, when it has an account, mails a reset link whose id is `requestId`. */
    'auth.password_reset': { requestId: string; email: string };
  }
}

const TOO_MANY_REQUESTS = 'Too many reset requests. Try again later.';

/**
 * Asks for a reset link. Whether the address has an account is decided by a job, so the answer — its status, body and
 * time — is the same either way: every request does exactly the same work here (two rate limits and one queued job).
 * The per-address budget counts unknown addresses too, so hitting it reveals nothing either.
 */
export async function requestPasswordReset(
  deps: Deps,
  limiters: AccountLimiters,
  input: PasswordResetRequestInput,
  client: ClientInfo,
): Promise<void> {
  await limiters.resetRequestsByIp.consume(client.ip ?? 'unknown', 1, TOO_MANY_REQUESTS);
  await limiters.resetRequestsByEmail.consume(input.email, 1, TOO_MANY_REQUESTS);
  await enqueueJob(
    deps.orm.em.fork(),
    'auth.password_reset',
    { requestId: crypto.randomUUID(), email: input.email },
    { maxAttempts: EMAIL_MAX_ATTEMPTS },
  );
}

/** The 'auth.password_reset' job. Idempotent: a retry finds its link already stored (by the request's id) and stops. */
export function passwordResetJob(deps: Deps): JobHandler<'auth.password_reset'> {
  return async ({ requestId, email }) => {
    await deps.orm.em.fork().transactional(async (tx) => {
      if (await tx.findOne(PasswordResetToken, { id: requestId })) return;
      const user = await tx.findOne(User, { email });
      if (!user) return;
      const now = deps.clock.now();
      const { token, secretHash } = mintOpaqueToken(requestId);
      tx.create(PasswordResetToken, {
        id: requestId,
        user,
        secretHash,
        createdAt: now,
        expiresAt: new Date(now.getTime() + RESET_LINK_TTL_MINUTES * 60_000),
      });
      const link = new URL(`/reset-password?token=${encodeURIComponent(token)}`, deps.auth.publicUrl).toString();
      await queueEmail(tx, {
        to: user.email,
        subject: 'Reset your Edulure password',
        body:
          `Hi ${user.displayName},\n\nSomeone asked to reset the password of your Edulure account. To choose a new ` +
          `password, open this link within ${RESET_LINK_TTL_MINUTES} minutes (it works once):\n\n${link}\n\n` +
          `Setting a new password signs you out on every device.\n\n` +
          `If you did not ask for this, ignore this message: your password stays as it is.\n`,
      });
    });
  };
}

type LinkProblem = 'invalid' | 'used' | 'expired';

const LINK_MESSAGES: Record<LinkProblem, string> = {
  invalid: 'This reset link is not valid. Ask for a new one.',
  used: 'This reset link was already used. Ask for a new one if you need to reset your password again.',
  expired: `This reset link has expired (links work for ${RESET_LINK_TTL_MINUTES} minutes). Ask for a new one.`,
};

function linkRefused(reason: LinkProblem): AppError {
  const message = LINK_MESSAGES[reason];
  return new AppError('invalid_input', message, { details: { reason, fields: { token: message } } });
}

function linkProblem(stored: { secretHash: string; usedAt?: Date | null; expiresAt: Date } | null, secret: string, now: Date): LinkProblem | null {
  if (!stored || !secretMatches(secret, stored.secretHash)) return 'invalid';
  if (stored.usedAt) return 'used';
  if (stored.expiresAt <= now) return 'expired';
  return null;
}

/**
 * Sets a new password from a reset link: the link is used up (with every other unused link of the account), the
 * address counts as verified (the link reached it), every session of the account ends and a sign-in lockout is lifted.
 */
export async function confirmPasswordReset(deps: Deps, input: PasswordResetConfirmInput): Promise<void> {
  const parsed = parseOpaqueToken(input.token);
  if (!parsed) throw linkRefused('invalid');
  const em = deps.orm.em.fork();
  // Checked before the slow hash, so a dead link is refused at once and a weak password on a good link is explained.
  const first = await em.findOne(PasswordResetToken, { id: parsed.id }, { populate: ['user'] });
  const early = linkProblem(first, parsed.secret, deps.clock.now());
  if (early) throw linkRefused(early);
  const owner = first!.user as unknown as IUser;
  const problem = passwordProblem(input.password, owner.email, owner.displayName);
  if (problem) throw new AppError('invalid_input', problem, { details: { fields: { password: problem } } });
  const passwordHash = await hashPassword(input.password);

  const { endedSessions, email } = await em.transactional(async (tx) => {
    // The row lock makes two presentations of one link serial: the second finds it used.
    const stored = await tx.findOne(PasswordResetToken, { id: parsed.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
    const now = deps.clock.now();
    const late = linkProblem(stored, parsed.secret, now);
    if (late) throw linkRefused(late);
    stored!.usedAt = now;
    const user = await tx.findOneOrFail(User, { id: stored!.user.id });
    user.passwordHash = passwordHash;
    user.emailVerifiedAt ??= now;
    await tx.flush();
    const endedSessions = await endSessionsInTx(db(tx), user.id, now, null);
    return { endedSessions, email: user.email };
  });
  await announceEndedSessions(deps, endedSessions);
  await deps.limiters.loginFailuresByAccount.reset(email);
}
