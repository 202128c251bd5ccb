import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { RealtimeConnection, type AppSocket, type TokenResult } from './connection.svelte.ts';

function fakeJwt(exp: number): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'HS256' })}.${encode({ exp, sid: 's' })}.sig`;
}

const freshToken = (n: number) => `${fakeJwt(Math.floor(Date.now() / 1000) + 900)}${n}`;

/** Just enough of a socket.io-client Socket to drive the connection's state machine. */
class FakeSocket extends EventEmitter {
  connected = false;
  active = false;
  connects = 0;
  disconnects = 0;
  io = new EventEmitter();
  auth: ((cb: (data: object) => void) => void) | undefined;

  connect() {
    this.connects += 1;
    this.active = true;
    return this;
  }
  disconnect() {
    this.disconnects += 1;
    this.active = false;
    if (this.connected) {
      this.connected = false;
      this.emit('disconnect', 'io client disconnect');
    }
    return this;
  }
  /** Runs the handshake's auth callback the way socket.io-client does on engine open. */
  handshake(): Promise<{ token?: string }> {
    return new Promise((resolve) => this.auth?.((data) => resolve(data as { token?: string })));
  }
  serverAccepts() {
    this.connected = true;
    this.emit('connect');
  }
  serverRejects(code: string) {
    this.active = false;
    this.emit('connect_error', Object.assign(new Error('rejected'), { data: { code, message: 'no' } }));
  }
}

function setup(tokens: TokenResult[]) {
  const socket = new FakeSocket();
  const fetchToken = vi.fn(async () => tokens.shift() ?? { kind: 'unavailable' as const });
  const onSessionEnded = vi.fn();
  const connection = new RealtimeConnection({
    onSessionEnded,
    fetchToken,
    createSocket: (options) => {
      socket.auth = options.auth as FakeSocket['auth'];
      return socket as unknown as AppSocket;
    },
  });
  connection.start();
  return { socket, fetchToken, onSessionEnded, connection };
}

describe('RealtimeConnection', () => {
  it('connects with a fetched token and reuses it while it is fresh', async () => {
    const token = freshToken(1);
    const { socket, fetchToken, connection } = setup([{ kind: 'ok', token }]);
    expect(connection.status).toBe('reconnecting');
    expect(socket.connects).toBe(1);

    expect(await socket.handshake()).toEqual({ token });
    socket.serverAccepts();
    expect(connection.status).toBe('connected');

    socket.connected = false;
    socket.emit('disconnect', 'transport close');
    expect(connection.status).toBe('reconnecting');
    expect(await socket.handshake()).toEqual({ token });
    expect(fetchToken).toHaveBeenCalledTimes(1);
    connection.destroy();
  });

  it('fetches a new token once when the server rejects the current one', async () => {
    const { socket, fetchToken, connection } = setup([
      { kind: 'ok', token: freshToken(1) },
      { kind: 'ok', token: freshToken(2) },
    ]);
    await socket.handshake();
    socket.serverRejects('unauthenticated');
    expect(connection.status).toBe('reconnecting');
    expect(socket.connects).toBe(2);
    expect(await socket.handshake()).toEqual({ token: freshToken(2) });
    expect(fetchToken).toHaveBeenCalledTimes(2);

    // A second rejection without a successful connect in between is not retried forever.
    socket.serverRejects('unauthenticated');
    expect(connection.status).toBe('offline');
    expect(socket.connects).toBe(2);
    connection.destroy();
  });

  it('ends the session when the server revokes it', async () => {
    const { socket, onSessionEnded, connection } = setup([{ kind: 'ok', token: freshToken(1) }]);
    await socket.handshake();
    socket.serverAccepts();
    socket.emit('session:revoked', { sessionId: 's', reason: 'revoked' });
    expect(onSessionEnded).toHaveBeenCalledExactlyOnceWith('revoked');
    expect(socket.disconnects).toBe(1);
    expect(connection.status).toBe('offline');
    connection.destroy();
  });

  it('ends the session when the token endpoint says the browser is signed out', async () => {
    const { socket, onSessionEnded, connection } = setup([{ kind: 'signed_out' }]);
    socket.auth?.(() => {
      throw new Error('must not send a handshake without a session');
    });
    await vi.waitFor(() => expect(onSessionEnded).toHaveBeenCalledWith('signed_out'));
    expect(connection.status).toBe('offline');
    connection.destroy();
  });

  it('reports offline when socket.io gives up, and reconnecting while it retries', () => {
    const { socket, connection } = setup([]);
    socket.io.emit('reconnect_attempt', 1);
    expect(connection.status).toBe('reconnecting');
    socket.io.emit('reconnect_failed');
    expect(connection.status).toBe('offline');
    connection.retry();
    expect(connection.status).toBe('reconnecting');
    expect(socket.connects).toBe(2);
    connection.destroy();
  });

  it('comes back after retryAfter when a restarting server turns the handshake away, not before', async () => {
    vi.useFakeTimers();
    try {
      const { socket, connection } = setup([{ kind: 'ok', token: freshToken(1) }]);
      await socket.handshake();
      socket.active = false;
      socket.emit('connect_error', Object.assign(new Error('restarting'), { data: { code: 'unavailable', message: 'restarting', retryAfter: 2 } }));
      expect(connection.status).toBe('reconnecting');
      // Spread over half to one and a half times retryAfter.
      vi.advanceTimersByTime(999);
      expect(socket.connects).toBe(1);
      vi.advanceTimersByTime(2001);
      expect(socket.connects).toBe(2);
      connection.destroy();
    } finally {
      vi.useRealTimers();
    }
  });

  it('waits out a refusal for too many connections (rate_limited) as long as the server says, never in a tight loop', async () => {
    vi.useFakeTimers();
    try {
      const { socket, connection } = setup([{ kind: 'ok', token: freshToken(1) }]);
      await socket.handshake();
      socket.active = false;
      socket.emit('connect_error', Object.assign(new Error('too many'), { data: { code: 'rate_limited', message: 'too many', retryAfter: 30 } }));
      expect(connection.status).toBe('reconnecting');
      vi.advanceTimersByTime(29_999);
      expect(socket.connects).toBe(1);
      vi.advanceTimersByTime(1);
      expect(socket.connects).toBe(2);
      // Without retryAfter (or a shorter one), the client's own 15 s.
      socket.active = false;
      socket.emit('connect_error', Object.assign(new Error('too many'), { data: { code: 'rate_limited', message: 'too many', retryAfter: 1 } }));
      vi.advanceTimersByTime(14_999);
      expect(socket.connects).toBe(2);
      vi.advanceTimersByTime(1);
      expect(socket.connects).toBe(3);
      connection.destroy();
    } finally {
      vi.useRealTimers();
    }
  });

  it('shows connected again when the browser network comes back without the socket having dropped', async () => {
    const { socket, connection } = setup([{ kind: 'ok', token: freshToken(1) }]);
    await socket.handshake();
    socket.serverAccepts();
    connection.retry();
    expect(connection.status).toBe('connected');
    expect(socket.connects).toBe(1);
    connection.destroy();
  });

  it('stops listening and disconnects on destroy', () => {
    const { socket, connection } = setup([]);
    connection.destroy();
    expect(socket.disconnects).toBe(1);
    expect(socket.listenerCount('connect')).toBe(0);
    expect(socket.io.listenerCount('reconnect_failed')).toBe(0);
    expect(connection.status).toBe('offline');
  });
});
