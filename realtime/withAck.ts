import type { z } from 'zod';
import type { Ack, AckResult } from '../contracts/errors.ts';
import type { ClientToServerEvents } from '../contracts/realtime.ts';
import type { Actor, Logger } from '../domain/shared/deps.ts';
import { AppError, asAppError, refusedFor, toErrorBody } from '../domain/shared/errors.ts';
import type { Metrics } from '../domain/shared/metrics.ts';
import type { RateLimiter } from '../domain/shared/stores.ts';
import { parseInput } from '../domain/shared/validate.ts';
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

export type ClientEvent = keyof ClientToServerEvents;
/** What the event map says a client sends with `E`. */
export type EventInput<E extends ClientEvent> = Parameters<ClientToServerEvents[E]>[0];
/** What the event map says the ack of `E` carries on success. */
export type EventAckData<E extends ClientEvent> = NonNullable<Parameters<ClientToServerEvents[E]>[1]> extends Ack<infer T> ? T : never;

/** What the dispatcher passes as the payload when a client sent several arguments before its ack. */
const NOT_ONE_PAYLOAD = Symbol('not one payload');

/** The socket, and the payload and ack as they come off the wire: untrusted until the schema has parsed the payload. */
type WireListener = (socket: IoSocket, payload: unknown, ack?: unknown) => Promise<void>;

/**
 * A client event's handler with its schema, not yet bound to an event name. `In` is what the schema accepts and
 * `Out` what the ack carries; `on` only takes it for an event whose map entry agrees on both.
 */
export interface AckHandler<In, Out> {
  listen(kit: AckKit, event: ClientEvent): WireListener;
  /** Type-level only: the schema's input is exactly the event map's (accepts all of it, and nothing else)… */
  readonly accepts?: (input: In) => void;
  readonly input?: In;
  /** …and the handler answers what the map's ack promises. */
  readonly answers?: Out;
}

/**
 * The one wrapper around every client event: validate the payload with its contracts/ schema, enforce the per-user
 * rate limit, run, and answer through the ack as {ok:true,data} or {ok:false,error}. Nothing is thrown into Socket.IO.
 */
export function withAck<S extends z.ZodType, R>(
  schema: S,
  handler: (input: z.output<S>, ctx: HandlerContext) => Promise<R> | R,
  /** `ownLimit`: the handler enforces a stricter budget of its own (message:send), so the generic one is skipped. */
  options: { ownLimit?: boolean } = {},
): AckHandler<z.input<S>, R> {
  return {
    listen: (kit, event) => async (socket, payload, ack) => {
      const respond = typeof ack === 'function' ? (result: AckResult<R>) => ack(result) : undefined;
      let outcome = 'ok';
      try {
        const { userId, sessionId, role } = socket.data;
        if (!options.ownLimit) await kit.eventLimiter.consume(`${userId}:${event}`);
        if (payload === NOT_ONE_PAYLOAD) throw new AppError('invalid_input', 'Send one payload, then the ack.');
        const input = parseInput(schema, payload);
        const data = await handler(input, { socket, actor: { userId, sessionId, role } });
        respond?.({ ok: true, data });
      } catch (err) {
        const body = toErrorBody(err);
        outcome = body.code;
        const dependency = refusedFor(err);
        if (dependency) kit.metrics.dependencyFailures.inc({ dependency });
        if (!asAppError(err)) kit.logger.error({ err: String(err), event, stack: (err as Error)?.stack }, 'socket handler failed');
        respond?.({ ok: false, error: body });
      } finally {
        kit.metrics.socketEvents.inc({ event, outcome: respond ? outcome : `${outcome}_no_ack` });
      }
    },
  };
}

/**
 * `on(event, withAck(schema, handler))`, typed by ClientToServerEvents: the schema must accept the event's input and
 * the handler must answer its ack's data. The handler finds its socket in the context.
 */
export type On = <E extends ClientEvent>(event: E, handler: AckHandler<EventInput<E>, EventAckData<E>>) => void;

export interface HandlerTable {
  on: On;
  attach(socket: IoSocket): void;
  /**
   * Graceful shutdown: events from now on are answered `unavailable` (the client sends them again once reconnected to
   * another node; a send keeps its clientId, so nothing is stored twice); resolves once every event already being
   * handled has been answered.
   */
  drain(): Promise<void>;
  /** The same for one socket about to be closed: its new events are refused, resolves once its events under way are answered. */
  release(socket: IoSocket): Promise<void>;
}

/** A socket's events being handled now, and whether it is being handed over (its new events are refused). */
interface Tally {
  inFlight: number;
  leaving: boolean;
  idle: (() => void) | null;
}

const SHUTTING_DOWN = new AppError('unavailable', 'This server is restarting; reconnect and send again.', { retryAfter: 1 });

/**
 * Every client event's handler, registered once per server rather than once per socket: each socket gets the one
 * shared catch-all listener, which Socket.IO calls with the socket as `this`. Forty listeners per socket (a closure and
 * its context each) were half of what a connection held in memory.
 */
export function createHandlerTable(kit: AckKit): HandlerTable {
  const listeners = new Map<string, WireListener>();
  let inFlight = 0;
  let draining = false;
  let idle: (() => void) | null = null;
  // Per socket, for handing sockets over one by one (release) at shutdown: a record only while the socket has events
  // under way, or once it is being handed over.
  const tallies = new WeakMap<IoSocket, Tally>();
  const tallyOf = (socket: IoSocket) => {
    let tally = tallies.get(socket);
    if (!tally) tallies.set(socket, (tally = { inFlight: 0, leaving: false, idle: null }));
    return tally;
  };
  const settled = (socket: IoSocket, tally: Tally) => () => {
    inFlight--;
    if (inFlight === 0) idle?.();
    if (--tally.inFlight > 0) return;
    if (tally.leaving) tally.idle?.();
    else tallies.delete(socket);
  };
  function dispatch(this: IoSocket, event: string, ...args: unknown[]): void {
    // Events no handler is registered for are ignored, as they were with per-event listeners.
    const listener = listeners.get(event);
    if (!listener) return;
    // Socket.IO puts the ack last, after however many arguments the client sent: a client that sent no payload, or
    // more than one, still gets its answer (invalid_input) instead of waiting for an ack that never comes.
    const ack = typeof args.at(-1) === 'function' ? args.pop() : undefined;
    const tally = draining ? undefined : tallyOf(this);
    if (!tally || tally.leaving) {
      kit.metrics.socketEvents.inc({ event, outcome: 'unavailable' });
      if (typeof ack === 'function') ack({ ok: false, error: SHUTTING_DOWN.toBody() } satisfies AckResult<never>);
      return;
    }
    inFlight++;
    tally.inFlight++;
    void listener(this, args.length === 1 ? args[0] : args.length === 0 ? undefined : NOT_ONE_PAYLOAD, ack).finally(settled(this, tally));
  }
  return {
    release(socket) {
      const tally = tallyOf(socket);
      tally.leaving = true;
      if (tally.inFlight === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        tally.idle = resolve;
      });
    },
    drain() {
      draining = true;
      if (inFlight === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        idle = resolve;
      });
    },
    on(event, handler) {
      if (listeners.has(event)) throw new Error(`two handlers for ${event}`);
      listeners.set(event, handler.listen(kit, event));
    },
    attach(socket) {
      socket.onAny(dispatch);
    },
  };
}
