import type { Next } from 'koa';
import { authenticate } from '../../domain/auth/sessions.ts';
import { AppError } from '../../domain/shared/errors.ts';
import type { Actor, Deps } from '../../domain/shared/deps.ts';
import type { ApiContext } from '../context.ts';

/** Requires `Authorization: Bearer <access token>` for a live session; sets ctx.state.actor. */
export function requireActor(deps: Deps) {
  return async (ctx: ApiContext, next: Next) => {
    const header = ctx.get('authorization');
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new AppError('unauthenticated', 'Sign in first: send Authorization: Bearer <access token>.');
    ctx.state.actor = await authenticate(deps, match[1]!);
    return next();
  };
}

/**
 * For routes open to signed-out visitors (the course catalogue, public certificates): no Authorization header means a
 * visitor; a header that is there must still carry a valid token, so a stale token is told so instead of silently
 * reading as signed out.
 */
export function optionalActor(deps: Deps) {
  return async (ctx: ApiContext, next: Next) => {
    const header = ctx.get('authorization');
    if (header) {
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match) throw new AppError('unauthenticated', 'Send Authorization: Bearer <access token>, or no Authorization header.');
      ctx.state.actor = await authenticate(deps, match[1]!);
    }
    return next();
  };
}

/** The caller on a route with optional sign-in: null for a signed-out visitor. */
export const viewerOf = (ctx: ApiContext): Actor | null => ctx.state.actor ?? null;

export function actorOf(ctx: ApiContext): Actor {
  if (!ctx.state.actor) throw new AppError('unauthenticated', 'Sign in first.');
  return ctx.state.actor;
}
