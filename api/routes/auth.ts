import {
  AuthResult,
  ChangePasswordInput,
  EmailChangeConfirmInput,
  EmailChangeInput,
  LoginInput,
  PasswordResetConfirmInput,
  PasswordResetRequestInput,
  REFRESH_COOKIE,
  RefreshInput,
  RegisterInput,
  SessionIdParam,
  SessionList,
  UserEnvelope,
  VerifyEmailInput,
} from '../../contracts/auth.ts';
import { createAccountLimiters } from '../../domain/auth/accountLimiters.ts';
import { changePassword, confirmEmailChange, requestEmailChange } from '../../domain/auth/accountChanges.ts';
import { login, register, resendVerification, verifyEmail } from '../../domain/auth/accounts.ts';
import { confirmPasswordReset, requestPasswordReset } from '../../domain/auth/passwordReset.ts';
import { listSessions, logout, refreshSession, revokeSession } from '../../domain/auth/sessions.ts';
import { AppError } from '../../domain/shared/errors.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import type { RateLimiter } from '../../domain/shared/stores.ts';
import type { ApiContext } from '../context.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';
import type { Next } from 'koa';

function setRefreshCookie(ctx: ApiContext, deps: Deps, token: string | null) {
  ctx.cookies.set(REFRESH_COOKIE, token ?? '', {
    httpOnly: true,
    sameSite: 'lax',
    secure: ctx.secure,
    path: '/',
    maxAge: token ? deps.auth.refreshTokenTtlDays * 86_400_000 : 0,
    overwrite: true,
  });
}

/** A browser keeps the refresh token as an httpOnly cookie; nothing of a sign-in may be cached. */
function signedIn(ctx: ApiContext, deps: Deps, result: AuthResult): AuthResult {
  setRefreshCookie(ctx, deps, result.refreshToken);
  ctx.set('Cache-Control', 'no-store');
  return result;
}

export function authRoutes(route: RouteKit, deps: Deps, authPerIp: RateLimiter) {
  const limitByIp = async (ctx: ApiContext, next: Next) => {
    await authPerIp.consume(ctx.state.client.ip ?? 'unknown');
    return next();
  };

  route(
    {
      method: 'post',
      path: '/auth/register',
      summary: 'Create an account and sign in',
      tags: ['auth'],
      auth: false,
      before: [limitByIp],
      body: RegisterInput,
      responses: { 201: { description: 'Signed in', schema: AuthResult } },
    },
    async (ctx, { body }) => signedIn(ctx, deps, await register(deps, body, ctx.state.client)),
  );

  route(
    {
      method: 'post',
      path: '/auth/login',
      summary: 'Sign in with e-mail and password',
      tags: ['auth'],
      auth: false,
      before: [limitByIp],
      body: LoginInput,
      responses: { 200: { description: 'Signed in', schema: AuthResult } },
    },
    async (ctx, { body }) => signedIn(ctx, deps, await login(deps, body, ctx.state.client)),
  );

  route(
    {
      method: 'post',
      path: '/auth/refresh',
      summary: 'Rotate a refresh token (single use; reuse revokes the session)',
      tags: ['auth'],
      auth: false,
      before: [limitByIp],
      body: RefreshInput,
      responses: { 200: { description: 'A new token pair', schema: AuthResult } },
    },
    async (ctx, { body }) => {
      const token = body.refreshToken ?? ctx.cookies.get(REFRESH_COOKIE);
      if (!token) throw new AppError('unauthenticated', 'Send the refresh token in the body or the refresh cookie.');
      try {
        return signedIn(ctx, deps, await refreshSession(deps, token, ctx.state.client));
      } catch (err) {
        if (!body.refreshToken) setRefreshCookie(ctx, deps, null);
        throw err;
      }
    },
  );

  route(
    {
      method: 'post',
      path: '/auth/logout',
      summary: 'Sign out this session (its sockets are disconnected on every node)',
      tags: ['auth'],
      auth: true,
      responses: { 204: { description: 'Signed out' } },
    },
    async (ctx) => {
      await logout(deps, actorOf(ctx));
      setRefreshCookie(ctx, deps, null);
    },
  );

  route(
    {
      method: 'get',
      path: '/auth/sessions',
      summary: 'List my active sessions',
      tags: ['auth'],
      auth: true,
      responses: { 200: { description: 'Active sessions, most recently used first', schema: SessionList } },
    },
    async (ctx) => ({ data: await listSessions(deps, actorOf(ctx)) }),
  );

  route(
    {
      method: 'delete',
      path: '/auth/sessions/:id',
      summary: 'Revoke one of my sessions',
      tags: ['auth'],
      auth: true,
      params: SessionIdParam,
      responses: { 204: { description: 'Revoked' } },
    },
    async (ctx, { params }) => {
      await revokeSession(deps, actorOf(ctx), params.id);
    },
  );

  route(
    {
      method: 'post',
      path: '/auth/verify-email',
      summary: 'Confirm an e-mail address with the token from the verification e-mail',
      tags: ['auth'],
      auth: false,
      before: [limitByIp],
      body: VerifyEmailInput,
      responses: { 200: { description: 'Verified', schema: UserEnvelope } },
    },
    async (_ctx, { body }) => ({ user: await verifyEmail(deps, body.token) }),
  );

  route(
    {
      method: 'post',
      path: '/auth/verify-email/resend',
      summary: 'Send a new verification e-mail',
      tags: ['auth'],
      auth: true,
      responses: { 202: { description: 'Queued' } },
    },
    async (ctx) => {
      await resendVerification(deps, actorOf(ctx));
    },
  );

  const accountLimiters = createAccountLimiters(deps.rateLimiterFactory);

  route(
    {
      method: 'post',
      path: '/auth/password-reset',
      summary: 'E-mail a single-use password-reset link (answered the same whether or not the address has an account)',
      tags: ['auth'],
      auth: false,
      before: [limitByIp],
      body: PasswordResetRequestInput,
      responses: { 202: { description: 'Accepted: a link is on its way if the address has an account' } },
    },
    async (ctx, { body }) => {
      await requestPasswordReset(deps, accountLimiters, body, ctx.state.client);
    },
  );

  route(
    {
      method: 'post',
      path: '/auth/password-reset/confirm',
      summary: 'Set a new password with a reset link (uses it up and signs the account out everywhere)',
      tags: ['auth'],
      auth: false,
      before: [limitByIp],
      body: PasswordResetConfirmInput,
      responses: { 204: { description: 'Password set' } },
    },
    async (_ctx, { body }) => {
      await confirmPasswordReset(deps, body);
    },
  );

  route(
    {
      method: 'post',
      path: '/auth/password',
      summary: 'Change my password (the current one is required; my other sessions end)',
      tags: ['auth'],
      auth: true,
      body: ChangePasswordInput,
      responses: { 204: { description: 'Password changed' } },
    },
    async (ctx, { body }) => {
      await changePassword(deps, accountLimiters, actorOf(ctx), body);
    },
  );

  route(
    {
      method: 'post',
      path: '/auth/email-change',
      summary: 'Change my e-mail address: the new address is sent a confirmation link, and changes once it is opened',
      tags: ['auth'],
      auth: true,
      body: EmailChangeInput,
      responses: { 202: { description: 'Confirmation link sent to the new address' } },
    },
    async (ctx, { body }) => {
      await requestEmailChange(deps, accountLimiters, actorOf(ctx), body);
    },
  );

  route(
    {
      method: 'post',
      path: '/auth/email-change/confirm',
      summary: 'Confirm a new e-mail address with the link sent to it',
      tags: ['auth'],
      auth: false,
      before: [limitByIp],
      body: EmailChangeConfirmInput,
      responses: { 200: { description: 'Address changed', schema: UserEnvelope } },
    },
    async (_ctx, { body }) => ({ user: await confirmEmailChange(deps, body) }),
  );
}
