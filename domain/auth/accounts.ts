import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import type { AuthResult, LoginInput, RegisterInput, UserDto } from '../../contracts/auth.ts';
import { db } from '../../orm/db.ts';
import { EmailVerificationToken, User, type IUser } from '../../orm/entities/index.ts';
import { assertNotSuspended } from '../moderation/suspensions.ts';
import { queueEmail } from '../notifications/outbox.ts';
import { AppError } from '../shared/errors.ts';
import type { Actor, ClientInfo, Deps } from '../shared/deps.ts';
import { burnPasswordCheck, hashPassword, passwordProblem, verifyPassword } from './passwords.ts';
import { presentUser } from './presenters.ts';
import { buildAuthResult, openSession } from './sessions.ts';
import { mintOpaqueToken, parseOpaqueToken, secretMatches } from './tokens.ts';

const VERIFICATION_TTL_MS = 48 * 3_600_000;

export async function register(deps: Deps, input: RegisterInput, client: ClientInfo): Promise<AuthResult> {
  const problem = passwordProblem(input.password, input.email, input.displayName);
  if (problem) throw new AppError('invalid_input', problem, { details: { fields: { password: problem } } });
  const passwordHash = await hashPassword(input.password);
  const em = deps.orm.em.fork();
  try {
    const { user, session, refreshToken } = await em.transactional(async (tx) => {
      const user = tx.create(User, { email: input.email, passwordHash, displayName: input.displayName });
      await queueVerificationEmail(deps, tx, user);
      // The id is generated on create (onCreate), before the row is flushed at commit.
      await deps.events.record(tx, 'user.registered', { userId: user.id });
      return { user, ...openSession(deps, tx, user, client) };
    });
    await deps.events.emit('user.registered', { userId: user.id });
    return await buildAuthResult(deps, user, session.id, refreshToken);
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) {
      throw new AppError('conflict', 'An account with this e-mail already exists. Sign in instead.', {
        details: { fields: { email: 'An account with this e-mail already exists.' } },
      });
    }
    throw err;
  }
}

const BAD_CREDENTIALS = 'E-mail or password is incorrect.';

export async function login(deps: Deps, input: LoginInput, client: ClientInfo): Promise<AuthResult> {
  const { loginFailuresByAccount, loginFailuresByIp } = deps.limiters;
  const lockedMessage = 'Too many failed sign-in attempts. Try again later.';
  await loginFailuresByAccount.assertAvailable(input.email, lockedMessage);
  if (client.ip) await loginFailuresByIp.assertAvailable(client.ip, lockedMessage);

  const em = deps.orm.em.fork();
  const user = await em.findOne(User, { email: input.email });
  const valid = user ? await verifyPassword(user.passwordHash, input.password) : (await burnPasswordCheck(input.password), false);
  if (!user || !valid) {
    await loginFailuresByAccount.consume(input.email, 1, lockedMessage);
    if (client.ip) await loginFailuresByIp.consume(client.ip, 1, lockedMessage);
    throw new AppError('unauthenticated', BAD_CREDENTIALS);
  }
  await loginFailuresByAccount.reset(input.email);
  const { session, refreshToken } = await em.transactional(async (tx) => {
    await assertNotSuspended(tx, user.id);
    return openSession(deps, tx, user, client);
  });
  return buildAuthResult(deps, user, session.id, refreshToken);
}

/**
 * `GET /me`, the hottest authenticated read: one typed query of the columns it shows, without the entity manager's
 * identity map and hydration (which cost several times the query itself).
 */
export async function getMe(deps: Deps, actor: Actor): Promise<UserDto> {
  const row = await db(deps.orm.em.fork())
    .selectFrom('users')
    .select(['id', 'email', 'display_name', 'role', 'email_verified_at', 'created_at'])
    .where('id', '=', actor.userId)
    .executeTakeFirst();
  if (!row) throw new AppError('unauthenticated', 'This account no longer exists.');
  return presentUser({
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    emailVerifiedAt: row.email_verified_at,
    createdAt: new Date(row.created_at),
  });
}

async function queueVerificationEmail(deps: Deps, em: EntityManager, user: IUser): Promise<void> {
  const id = crypto.randomUUID();
  const { token, secretHash } = mintOpaqueToken(id);
  em.create(EmailVerificationToken, { id, user, secretHash, expiresAt: new Date(Date.now() + VERIFICATION_TTL_MS) });
  const link = new URL(`/verify-email?token=${encodeURIComponent(token)}`, deps.auth.publicUrl).toString();
  await queueEmail(em, {
    to: user.email,
    subject: 'Confirm your e-mail for Edulure',
    body: `Hi ${user.displayName},\n\nConfirm your e-mail address by opening this link within 48 hours:\n\n${link}\n\nIf you did not create an Edulure account, ignore this message.\n`,
  });
}

const BAD_VERIFICATION = 'This verification link is invalid or has expired. Request a new one.';

export async function verifyEmail(deps: Deps, rawToken: string): Promise<UserDto> {
  const parsed = parseOpaqueToken(rawToken);
  const invalid = () => new AppError('invalid_input', BAD_VERIFICATION, { details: { fields: { token: BAD_VERIFICATION } } });
  if (!parsed) throw invalid();
  const em = deps.orm.em.fork();
  return em.transactional(async (tx) => {
    const stored = await tx.findOne(EmailVerificationToken, { id: parsed.id }, { populate: ['user'] });
    if (!stored || !secretMatches(parsed.secret, stored.secretHash) || stored.usedAt || stored.expiresAt <= new Date()) {
      throw invalid();
    }
    stored.usedAt = new Date();
    const user = stored.user as unknown as IUser;
    user.emailVerifiedAt ??= new Date();
    return presentUser(user);
  });
}

export async function resendVerification(deps: Deps, actor: Actor): Promise<void> {
  const em = deps.orm.em.fork();
  const user = await em.findOne(User, { id: actor.userId });
  if (!user) throw new AppError('unauthenticated', 'This account no longer exists.');
  if (user.emailVerifiedAt) throw new AppError('conflict', 'Your e-mail address is already verified.');
  await deps.limiters.verificationResends.consume(user.id, 1, 'Verification e-mails are limited to 3 per hour.');
  await em.transactional(async (tx) => queueVerificationEmail(deps, tx, user));
}
