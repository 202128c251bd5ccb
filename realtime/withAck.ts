import type { z } from 'zod';
import type { AckResult } from '../contracts/errors.ts';
import type { Actor } from '../domain/shared/deps.ts';
import { isAppError, toErrorBody } from '../domain/shared/errors.ts';
import type { Metrics } from '../domain/shared/metrics.ts';
import type { RateLimiter } from '../domain/shared/stores.ts';
import { parseInput } from '../domain/shared/validate.ts';
import type { Logger } from '../orm/database.ts';
import type { IoSocket } from './types.ts';

export interface HandlerContext {
  socket: IoSocket;
  actor: Actor;
}

export interface AckKit {
  metrics: Metrics;
  logger: Logger;
  /** Per-user, per-event budget. */
  eventLimiter: RateLimiter;
}

/**
 * The one wrapper around every client event: validate the payload with its contracts/ schema, enforce the per-user
 * rate limit, run, and answer through the ack as {ok:true,data} or {ok:false,error}. Nothing is thrown into Socket.IO.
 */
export function withAck<S extends z.ZodType, R>(
  kit: AckKit,
  socket: IoSocket,
  event: string,
  schema: S,
  handler: (input: z.output<S>, ctx: HandlerContext) => Promise<R> | R,
  /** `ownLimit`: the handler enforces a stricter budget of its own (message:send), so the generic one is skipped. */
  options: { ownLimit?: boolean } = {},
) {
  return async (payload: unknown, ack: unknown) => {
    const respond = typeof ack === 'function' ? (ack as (result: AckResult<R>) => void) : undefined;
    let outcome = 'ok';
    try {
      const { userId, sessionId, role } = socket.data;
      if (!options.ownLimit) await kit.eventLimiter.consume(`${userId}:${event}`);
      const input = parseInput(schema, payload);
      const data = await handler(input, { socket, actor: { userId, sessionId, role: role as Actor['role'] } });
      respond?.({ ok: true, data });
    } catch (err) {
      const body = toErrorBody(err);
      outcome = body.code;
      if (!isAppError(err)) kit.logger.error({ err: String(err), event, stack: (err as Error)?.stack }, 'socket handler failed');
      respond?.({ ok: false, error: body });
    } finally {
      kit.metrics.socketEvents.inc({ event, outcome: respond ? outcome : `${outcome}_no_ack` });
    }
  };
}
