import type { IncomingHttpHeaders } from 'node:http';
import { isIPv6 } from 'node:net';
import type { Socket as EngineSocket } from 'engine.io';
import type { Logger } from '../domain/shared/deps.ts';
import type { Metrics } from '../domain/shared/metrics.ts';
import { connectError } from './connectError.ts';
import type { IoServer, IoSocket } from './types.ts';

/** The socket-side abuse limits (server/env.ts; docs/operations.md, "Abuse limits"). */
export interface AbuseLimits {
  /** Open connections per user on this node. */
  connectionsPerUser: number;
  /** Open connections per client address (an IPv6 /64 counts as one address) on this node. */
  connectionsPerAddress: number;
  /** Packets a connection may send at once… */
  eventBurst: number;
  /** …refilled at this rate; a connection that sends faster for long is closed. */
  eventsPerSecond: number;
  /** Bytes queued for one connection that its client has not taken; over it at two checks in a row, it is closed. */
  maxBufferedBytes: number;
  /** Take the client address from X-Forwarded-For's first hop (behind a reverse proxy), as the REST API does. */
  trustProxy: boolean;
}

/** How often every connection's outgoing buffer is measured. */
export const BUFFER_CHECK_INTERVAL_MS = 250;
/** After a flood, the user's new connections on this node are refused for this long. */
export const FLOOD_COOL_DOWN_SECONDS = 30;
/** What a client refused for too many connections is told to wait before trying again. */
export const CONNECTIONS_RETRY_AFTER_SECONDS = 30;

type Middleware = (socket: IoSocket, next: (err?: Error) => void) => void;

export interface AbuseGuard {
  /** Handshake middleware, first of all: refuses an address with too many connections before any work is done. */
  admitAddress: Middleware;
  /** Handshake middleware, after authentication: refuses a user with too many connections or cooling down. */
  admitUser: Middleware;
  /** Stops the buffer checks (also done when the HTTP server closes). */
  stop(): void;
}

/** What the guard keeps per engine connection: its packet budget and what it was counted against. */
interface ConnectionState {
  tokens: number;
  refilledAt: number;
  /** The address and user this connection holds a place for, once admitted. */
  address?: string;
  userId?: string;
  /** Over the buffer cap at the previous check. */
  overCap: boolean;
}

/** The parts of an engine.io connection the buffer check reads; engine.io does not type them as public. */
interface EngineInternals {
  writeBuffer: { data?: unknown }[];
  transport: { name: string; socket?: { bufferedAmount?: unknown; terminate?: () => void } };
}

/**
 * Bounds what one client can make a node hold or do, all in this node's memory (no round trip per packet or handshake):
 *
 * - connections per user and per address, each counted from admission until the engine connection closes, whatever
 *   ends it — a refused handshake holds no place, an admitted one always gives it back;
 * - a token bucket per connection over every packet it sends (events, acks, garbage alike): far beyond what a person
 *   does, the connection is closed, and the user's new connections here are refused for a cool-down;
 * - the outgoing buffer of every connection, measured on a timer: a client that stops reading is closed once its
 *   queue stays over the cap, instead of the node queueing every broadcast for it without end.
 *
 * Per-event budgets (the user's events per event name, in Redis across the cluster) stay in withAck; this catches
 * what comes faster than any of them can refuse.
 */
export function createAbuseGuard(io: IoServer, options: { limits: AbuseLimits; metrics: Metrics; logger: Logger }): AbuseGuard {
  const { limits, metrics, logger } = options;
  const states = new Map<EngineSocket, ConnectionState>();
  const perAddress = new Map<string, number>();
  const perUser = new Map<string, number>();
  /** Users whose connection flooded: until when their new connections here are refused. */
  const coolingDown = new Map<string, number>();
  const refillPerMs = limits.eventsPerSecond / 1000;

  const take = (counts: Map<string, number>, key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  const give = (counts: Map<string, number>, key: string) => {
    const left = (counts.get(key) ?? 1) - 1;
    if (left > 0) counts.set(key, left);
    else counts.delete(key);
  };

  // Listeners shared by every connection (`this` is the connection), so a connection holds no closures of its own.
  function onPacket(this: EngineSocket, packet: { type: string }) {
    if (packet.type !== 'message') return;
    const state = states.get(this);
    if (!state) return;
    const now = performance.now();
    state.tokens = Math.min(limits.eventBurst, state.tokens + (now - state.refilledAt) * refillPerMs);
    state.refilledAt = now;
    state.tokens -= 1;
    if (state.tokens >= 0) return;
    if (state.userId) coolingDown.set(state.userId, Date.now() + FLOOD_COOL_DOWN_SECONDS * 1000);
    closeForAbuse(this, state, 'event_flood');
  }

  function onClose(this: EngineSocket) {
    const state = states.get(this);
    if (!state) return;
    states.delete(this);
    if (state.address !== undefined) give(perAddress, state.address);
    if (state.userId !== undefined) give(perUser, state.userId);
  }

  io.engine.on('connection', (conn: EngineSocket) => {
    states.set(conn, { tokens: limits.eventBurst, refilledAt: performance.now(), overCap: false });
    conn.on('packet', onPacket);
    conn.on('close', onClose);
  });

  function closeForAbuse(conn: EngineSocket, state: ConnectionState, reason: 'event_flood' | 'slow_consumer') {
    metrics.abuseDisconnects.inc({ reason });
    logger.warn({ reason, userId: state.userId, address: state.address }, 'socket closed for abuse');
    const ws = (conn as unknown as EngineInternals).transport.socket;
    // Closed at once for the engine (later packets of the same read are dropped, the socket's 'disconnect' runs),
    // discarding what was queued for it…
    conn.close(true);
    // …and the TCP connection destroyed rather than closed politely: a polite close waits behind the unread queue.
    if (typeof ws?.terminate === 'function') ws.terminate();
  }

  function bufferedBytes(conn: EngineSocket): number {
    const { writeBuffer, transport } = conn as unknown as EngineInternals;
    const socketBytes = transport.socket?.bufferedAmount;
    let bytes = typeof socketBytes === 'number' ? socketBytes : 0;
    // Packets waiting for the transport (it is still writing the previous ones). Usually none; past the cap the rest
    // need not be counted.
    for (let i = 0; i < writeBuffer.length && bytes <= limits.maxBufferedBytes; i++) {
      const data = writeBuffer[i]!.data;
      bytes += typeof data === 'string' ? data.length : Buffer.isBuffer(data) ? data.byteLength : 0;
    }
    return bytes;
  }

  function checkBuffers() {
    let total = 0;
    let max = 0;
    for (const [conn, state] of states) {
      const bytes = bufferedBytes(conn);
      total += bytes;
      if (bytes > max) max = bytes;
      // Two checks in a row: a client that is merely slow drains a large answer in between; one that stopped reading
      // does not.
      if (bytes <= limits.maxBufferedBytes) state.overCap = false;
      else if (!state.overCap) state.overCap = true;
      else closeForAbuse(conn, state, 'slow_consumer');
    }
    metrics.socketBufferedBytes.set({ stat: 'total' }, total);
    metrics.socketBufferedBytes.set({ stat: 'max' }, max);
    const now = Date.now();
    for (const [userId, until] of coolingDown) if (until <= now) coolingDown.delete(userId);
  }
  const timer = setInterval(checkBuffers, BUFFER_CHECK_INTERVAL_MS).unref();
  const stop = () => clearInterval(timer);
  io.httpServer?.once('close', stop);

  function refuse(limit: string, next: (err?: Error) => void, message: string, retryAfter: number) {
    metrics.abuseRefusals.inc({ limit });
    next(connectError({ code: 'rate_limited', message, retryAfter }));
  }

  return {
    admitAddress(socket, next) {
      const state = states.get(socket.conn);
      // A second namespace connection on the same engine connection already holds its place.
      if (!state || state.address !== undefined) return next();
      const address = addressKey(clientAddressOf(socket.handshake, limits.trustProxy));
      if ((perAddress.get(address) ?? 0) >= limits.connectionsPerAddress) {
        return refuse('connections_per_address', next, 'Too many connections from your network; close some tabs or try again later.', CONNECTIONS_RETRY_AFTER_SECONDS);
      }
      state.address = address;
      take(perAddress, address);
      next();
    },
    admitUser(socket, next) {
      const state = states.get(socket.conn);
      if (!state || state.userId !== undefined) return next();
      const { userId } = socket.data;
      const until = coolingDown.get(userId);
      if (until !== undefined && until > Date.now()) {
        return refuse('flood_cool_down', next, 'Your connection sent too much too fast; try again shortly.', Math.ceil((until - Date.now()) / 1000));
      }
      if ((perUser.get(userId) ?? 0) >= limits.connectionsPerUser) {
        return refuse('connections_per_user', next, 'You have too many open connections; close some tabs or devices.', CONNECTIONS_RETRY_AFTER_SECONDS);
      }
      state.userId = userId;
      take(perUser, userId);
      next();
    },
    stop,
  };
}

/** The client's address as the REST API sees it: X-Forwarded-For's first hop when the proxy is trusted. */
export function clientAddressOf(handshake: { address: string; headers: IncomingHttpHeaders }, trustProxy: boolean): string {
  if (trustProxy) {
    const header = handshake.headers['x-forwarded-for'];
    const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0]?.trim();
    if (first) return first.slice(0, 64);
  }
  return handshake.address;
}

/**
 * The key an address is counted under: IPv4 as is (also when mapped into IPv6), IPv6 by its /64 — one subscriber
 * usually holds a whole /64, so counting single IPv6 addresses would count nothing.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.toLowerCase().split('%')[0]!.split('::');
  const left = head ? head.split(':') : [];
  const right = address.includes('::') && tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
