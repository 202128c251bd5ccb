import { createContext } from 'svelte';
import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import type {
  ClientToServerEvents,
  ConnectErrorData,
  ServerToClientEvents,
  SessionRevokedPayload,
} from '$contracts/realtime.ts';
import { isTokenFresh, renewalMarginSeconds } from '$lib/jwt.ts';

export type ConnectionStatus = 'connected' | 'reconnecting' | 'offline';
export type AppSocket = Socket<ServerToClientEvents, ClientToServerEvents>;
export type SessionEndReason = SessionRevokedPayload['reason'] | 'signed_out';

export type TokenResult = { kind: 'ok'; token: string } | { kind: 'signed_out' } | { kind: 'unavailable' };

export interface RealtimeConnectionOptions {
  /** Called once when the server ends this session (logout elsewhere, revocation, token reuse) or it has lapsed. */
  onSessionEnded: (reason: SessionEndReason) => void;
  /** Defaults to GET /session/token, which the server hook refreshes as needed. */
  fetchToken?: () => Promise<TokenResult>;
  /** Seam for tests; defaults to socket.io-client's `io`. */
  createSocket?: (options: Partial<ManagerOptions & SocketOptions>) => AppSocket;
  /** Socket.IO's own retries before the indicator says `offline` and waits for the network or the user. */
  reconnectionAttempts?: number;
}

/** How long a server-initiated disconnect must follow a connect to count as a rejection loop rather than a blip. */
const SHORT_LIVED_MS = 5_000;
const MAX_QUICK_KICKS = 3;
const RATE_LIMIT_RETRY_MS = 15_000;

/**
 * The tab's one Socket.IO connection and its status. Inert until `start()` (so it can be built during SSR);
 * `destroy()` when the signed-in area unmounts.
 */
export class RealtimeConnection {
  status = $state<ConnectionStatus>('reconnecting');

  #options: RealtimeConnectionOptions;
  #socket: AppSocket | null = null;
  #token: string | null = null;
  #tokenRejected = false;
  /** The unauthenticated retry happens once per successful connection, so a broken server cannot make us spin. */
  #authRetried = false;
  #quickKicks = 0;
  #connectedAt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #ended = false;
  #destroyed = false;

  constructor(options: RealtimeConnectionOptions) {
    this.#options = options;
  }

  /** The live socket for feature stores (chat, presence…) to attach their handlers to. */
  get socket(): AppSocket | null {
    return this.#socket;
  }

  start(): void {
    if (this.#socket || this.#destroyed) return;
    const create = this.#options.createSocket ?? ((opts) => io(opts) as AppSocket);
    const socket = create({
      path: '/socket.io',
      transports: ['websocket'],
      autoConnect: false,
      // A fresh Manager per instance: socket.io-client's manager cache would otherwise outlive destroy().
      forceNew: true,
      reconnectionAttempts: this.#options.reconnectionAttempts ?? 10,
      reconnectionDelay: 500,
      reconnectionDelayMax: 5_000,
      auth: (cb) => void this.#provideAuth(cb),
    });
    this.#socket = socket;

    socket.on('connect', () => {
      this.#authRetried = false;
      this.#connectedAt = Date.now();
      this.#setStatus('connected');
    });
    socket.on('disconnect', (reason) => this.#onDisconnect(reason));
    socket.on('connect_error', (err) => this.#onConnectError(err));
    socket.on('session:revoked', (payload) => this.#endSession(payload.reason));
    socket.io.on('reconnect_attempt', this.#onReconnectAttempt);
    socket.io.on('reconnect_failed', this.#onReconnectFailed);

    globalThis.addEventListener?.('online', this.#onOnline);
    globalThis.addEventListener?.('offline', this.#onOffline);

    if (browserOffline()) this.#setStatus('offline');
    else socket.connect();
  }

  /** Try again now (the indicator's button, or the network coming back). */
  retry(): void {
    const socket = this.#socket;
    if (!socket || this.#ended || this.#destroyed) return;
    this.#clearRetryTimer();
    // The browser may report a network blip that never broke the WebSocket.
    if (socket.connected) {
      this.#setStatus('connected');
      return;
    }
    this.#setStatus('reconnecting');
    socket.connect();
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#clearRetryTimer();
    globalThis.removeEventListener?.('online', this.#onOnline);
    globalThis.removeEventListener?.('offline', this.#onOffline);
    const socket = this.#socket;
    if (socket) {
      socket.io.off('reconnect_attempt', this.#onReconnectAttempt);
      socket.io.off('reconnect_failed', this.#onReconnectFailed);
      socket.removeAllListeners();
      socket.disconnect();
    }
    this.#socket = null;
    this.status = 'offline';
  }

  async #provideAuth(cb: (data: object) => void): Promise<void> {
    if (!this.#token || this.#tokenRejected || !isTokenFresh(this.#token, Date.now(), renewalMarginSeconds(this.#token, 10))) {
      const fetchToken = this.#options.fetchToken ?? fetchSessionToken;
      let result: TokenResult;
      try {
        result = await fetchToken();
      } catch {
        result = { kind: 'unavailable' };
      }
      if (this.#destroyed || this.#ended) return;
      if (result.kind === 'signed_out') {
        this.#endSession('signed_out');
        return;
      }
      if (result.kind === 'ok') {
        this.#token = result.token;
        this.#tokenRejected = false;
      }
      // When the token endpoint is unreachable we still send what we have: the handshake then fails like any other
      // network failure and Socket.IO's backoff takes over.
    }
    cb({ token: this.#token ?? '' });
  }

  #onConnectError(err: Error): void {
    if (this.#destroyed || this.#ended) return;
    const socket = this.#socket;
    if (!socket) return;
    // Transport failures leave the socket active and Socket.IO retries with backoff on its own.
    if (socket.active) {
      this.#setStatus('reconnecting');
      return;
    }
    // A refusal from the server's handshake middleware: Socket.IO will not retry by itself.
    const data = (err as Error & { data?: Partial<ConnectErrorData> }).data;
    const code = data?.code;
    if (code === 'unauthenticated' && !this.#authRetried) {
      this.#authRetried = true;
      this.#tokenRejected = true;
      this.#setStatus('reconnecting');
      socket.connect();
      return;
    }
    if (code === 'rate_limited') {
      // Too many connections, or a cool-down after a flood: the server says how long; never sooner than our own wait.
      const retryAfterS = data?.retryAfter ?? 0;
      this.#setStatus('reconnecting');
      this.#scheduleRetry(Math.max(RATE_LIMIT_RETRY_MS, retryAfterS * 1000));
      return;
    }
    if (code === 'unavailable') {
      // A node restarting or briefly cut off from its database: the next try (spread so that a node's clients do not
      // all come back at once) usually reaches another node.
      const retryAfterMs = 1000 * Math.max(1, data?.retryAfter ?? 1);
      this.#setStatus('reconnecting');
      this.#scheduleRetry(retryAfterMs * (0.5 + Math.random()));
      return;
    }
    this.#setStatus('offline');
  }

  #onDisconnect(reason: Socket.DisconnectReason): void {
    if (this.#destroyed || this.#ended) return;
    if (reason === 'io client disconnect') {
      this.#setStatus('offline');
      return;
    }
    if (reason === 'io server disconnect') {
      // The server dropped us on purpose (e.g. its token check on a long-lived socket): come back with a fresh
      // token, but stop if it keeps refusing right after each connect.
      this.#quickKicks = Date.now() - this.#connectedAt < SHORT_LIVED_MS ? this.#quickKicks + 1 : 0;
      if (this.#quickKicks >= MAX_QUICK_KICKS) {
        this.#setStatus('offline');
        return;
      }
      this.#tokenRejected = true;
      this.#setStatus('reconnecting');
      this.#scheduleRetry(500 * 2 ** this.#quickKicks);
      return;
    }
    this.#setStatus('reconnecting');
  }

  #endSession(reason: SessionEndReason): void {
    if (this.#ended || this.#destroyed) return;
    this.#ended = true;
    this.#clearRetryTimer();
    this.#token = null;
    this.#socket?.disconnect();
    this.status = 'offline';
    this.#options.onSessionEnded(reason);
  }

  #onOnline = (): void => this.retry();

  #onReconnectAttempt = (): void => this.#setStatus('reconnecting');

  #onReconnectFailed = (): void => this.#setStatus('offline');

  #onOffline = (): void => this.#setStatus('offline');

  #setStatus(next: ConnectionStatus): void {
    // While the browser knows it has no network, "reconnecting" would promise something that cannot happen.
    this.status = next === 'reconnecting' && browserOffline() ? 'offline' : next;
  }

  #scheduleRetry(delayMs: number): void {
    this.#clearRetryTimer();
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.retry();
    }, delayMs);
  }

  #clearRetryTimer(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }
}

function browserOffline(): boolean {
  return typeof navigator !== 'undefined' && 'onLine' in navigator && navigator.onLine === false;
}

/** Asks the web server for the current access token; the httpOnly cookies ride along, the token never hits storage. */
export async function fetchSessionToken(): Promise<TokenResult> {
  const response = await fetch('/session/token', {
    headers: { accept: 'application/json' },
    credentials: 'same-origin',
    cache: 'no-store',
  });
  if (response.status === 401) return { kind: 'signed_out' };
  if (!response.ok) return { kind: 'unavailable' };
  const body = (await response.json()) as { accessToken?: unknown };
  return typeof body.accessToken === 'string' ? { kind: 'ok', token: body.accessToken } : { kind: 'unavailable' };
}

/** Lets pages under /app reach the tab's connection without prop drilling. */
export const [getRealtimeConnection, setRealtimeConnection] = createContext<RealtimeConnection>();
