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

export function actorOf(ctx: ApiContext): Actor {
  if (!ctx.state.actor) throw new AppError('unauthenticated', 'Sign in first.');
  return ctx.state.actor;
}
