import {
  AuthResult,
  LoginInput,
  REFRESH_COOKIE,
  RefreshInput,
  RegisterInput,
  SessionIdParam,
  SessionList,
  UserEnvelope,
  VerifyEmailInput,
} from '../../contracts/auth.ts';
import { login, register, resendVerification, verifyEmail } from '../../domain/auth/accounts.ts';
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
}
