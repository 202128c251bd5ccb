import { LockMode, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import type { ChangePasswordInput, EmailChangeConfirmInput, EmailChangeInput, UserDto } from '../../contracts/auth.ts';
import { db } from '../../orm/db.ts';
import { EmailChangeToken, User, type IUser } from '../../orm/entities/index.ts';
import { queueEmail } from '../notifications/outbox.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import type { AccountLimiters } from './accountLimiters.ts';
import { announceEndedSessions, endSessionsInTx } from './endSessions.ts';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.ts';
import { presentUser } from './presenters.ts';
import { mintOpaqueToken, parseOpaqueToken, secretMatches } from './tokens.ts';

export const EMAIL_CHANGE_TTL_HOURS = 24;

const WRONG_PASSWORD = 'Your current password is incorrect.';
const TOO_MANY_FAILURES = 'Too many wrong passwords. Try again later.';

async function loadUser(deps: Deps, actor: Actor): Promise<IUser> {
  const user = await deps.orm.em.fork().findOne(User, { id: actor.userId });
  if (!user) throw new AppError('unauthenticated', 'This account no longer exists.');
  return user;
}

/** The settings forms ask for the current password; wrong guesses draw on a per-account budget. */
async function assertCurrentPassword(limiters: AccountLimiters, user: IUser, password: string): Promise<void> {
  await limiters.passwordFailuresByUser.assertAvailable(user.id, TOO_MANY_FAILURES);
  if (await verifyPassword(user.passwordHash, password)) return;
  await limiters.passwordFailuresByUser.consume(user.id, 1, TOO_MANY_FAILURES);
  throw new AppError('invalid_input', WRONG_PASSWORD, { details: { fields: { currentPassword: WRONG_PASSWORD } } });
}

/** A new password for a signed-in account: every other session ends, this one stays signed in. */
export async function changePassword(deps: Deps, limiters: AccountLimiters, actor: Actor, input: ChangePasswordInput): Promise<void> {
  const user = await loadUser(deps, actor);
  await assertCurrentPassword(limiters, user, input.currentPassword);
  await limiters.passwordFailuresByUser.reset(user.id);
  const problem = passwordProblem(input.newPassword, user.email, user.displayName);
  if (problem) throw new AppError('invalid_input', problem, { details: { fields: { newPassword: problem } } });
  const passwordHash = await hashPassword(input.newPassword);
  const endedSessions = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    await q.updateTable('users').set({ password_hash: passwordHash, updated_at: deps.clock.now() }).where('id', '=', user.id).execute();
    return endSessionsInTx(q, user.id, deps.clock.now(), actor.sessionId);
  });
  await announceEndedSessions(deps, endedSessions);
}

const ADDRESS_TAKEN = 'An account with this e-mail already exists.';

/**
 * Starts a change of address: the new address is sent a confirmation link and nothing changes until it is opened. A
 * newer request replaces any link still pending.
 */
export async function requestEmailChange(deps: Deps, limiters: AccountLimiters, actor: Actor, input: EmailChangeInput): Promise<void> {
  const user = await loadUser(deps, actor);
  await assertCurrentPassword(limiters, user, input.currentPassword);
  await limiters.passwordFailuresByUser.reset(user.id);
  if (input.newEmail === user.email) {
    const message = 'This is already your e-mail address.';
    throw new AppError('invalid_input', message, { details: { fields: { newEmail: message } } });
  }
  const em = deps.orm.em.fork();
  // Sign-up says the same about a taken address, so this tells nobody anything new.
  if (await em.count(User, { email: input.newEmail })) {
    throw new AppError('conflict', ADDRESS_TAKEN, { details: { fields: { newEmail: ADDRESS_TAKEN } } });
  }
  await limiters.emailChangeRequests.consume(user.id, 1, 'Too many address changes. Try again later.');
  await em.transactional(async (tx) => {
    const now = deps.clock.now();
    await db(tx).deleteFrom('email_change_tokens').where('user_id', '=', user.id).where('used_at', 'is', null).execute();
    const id = crypto.randomUUID();
    const { token, secretHash } = mintOpaqueToken(id);
    tx.create(EmailChangeToken, {
      id,
      user: user.id,
      newEmail: input.newEmail,
      secretHash,
      createdAt: now,
      expiresAt: new Date(now.getTime() + EMAIL_CHANGE_TTL_HOURS * 3_600_000),
    });
    const link = new URL(`/confirm-email?token=${encodeURIComponent(token)}`, deps.auth.publicUrl).toString();
    await queueEmail(tx, {
      to: input.newEmail,
      subject: 'Confirm your new e-mail for Edulure',
      body:
        `Hi ${user.displayName},\n\nTo make this your Edulure sign-in address, open this link within ` +
        `${EMAIL_CHANGE_TTL_HOURS} hours:\n\n${link}\n\nUntil then your account keeps its current address. ` +
        `If you did not ask for this, ignore this message.\n`,
    });
  });
}

const BAD_LINK = 'This confirmation link is invalid, was already used or has expired. Ask for a new one in your account settings.';

/**
 * Opens a confirmation link: the address changes (and counts as verified), pending reset links to the old address are
 * retired, and the old address is told.
 */
export async function confirmEmailChange(deps: Deps, input: EmailChangeConfirmInput): Promise<UserDto> {
  const parsed = parseOpaqueToken(input.token);
  const refused = () => new AppError('invalid_input', BAD_LINK, { details: { fields: { token: BAD_LINK } } });
  if (!parsed) throw refused();
  try {
    return await deps.orm.em.fork().transactional(async (tx) => {
      const stored = await tx.findOne(EmailChangeToken, { id: parsed.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      const now = deps.clock.now();
      if (!stored || !secretMatches(parsed.secret, stored.secretHash) || stored.usedAt || stored.expiresAt <= now) throw refused();
      const user = await tx.findOneOrFail(User, { id: stored.user.id }, { lockMode: LockMode.PESSIMISTIC_WRITE });
      const oldEmail = user.email;
      stored.usedAt = now;
      user.email = stored.newEmail;
      user.emailVerifiedAt = now;
      await tx.flush();
      await db(tx).updateTable('password_reset_tokens').set({ used_at: now }).where('user_id', '=', user.id).where('used_at', 'is', null).execute();
      await queueEmail(tx, {
        to: oldEmail,
        subject: 'Your Edulure e-mail address was changed',
        body:
          `Hi ${user.displayName},\n\nThe e-mail address of your Edulure account was changed from ${oldEmail} to ` +
          `${user.email}. From now on, sign in with the new address.\n\nIf you did not make this change, contact ` +
          `support straight away: this address can no longer receive reset links for the account.\n`,
      });
      return presentUser(user);
    });
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) {
      throw new AppError('conflict', `${ADDRESS_TAKEN} Ask for a change to another address.`);
    }
    throw err;
  }
}
