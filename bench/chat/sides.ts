/**
 * The two systems under test, each as 2 server processes sharing one Redis: the bare Socket.IO baseline, and
 * Edulure (`server/main.ts`, the production entry point) sharing one PostgreSQL as well.
 */
import path from 'node:path';
import { freePort } from '../../test/ports.ts';
import { forkNode, waitForOk, type Managed } from './processes.ts';
import type { Side } from './protocol.ts';

export interface RunningSide {
  side: Side;
  urls: string[];
  /** Edulure: `restart(n)` replaces entry n with a new process on the same port (after the old one exited). */
  servers: Managed[];
  /** Edulure: heapUsed as prom-client reports it on /metrics (no forced GC), per node. */
  metricsHeapUsed?(): Promise<(number | null)[]>;
  /** Edulure: starts node n again with the same settings and port; resolves once it is ready. */
  restart?(n: number): Promise<Managed>;
  stop(): Promise<void>;
}

const ROOT = path.resolve(import.meta.dirname, '../..');

export async function startBaselineSide(options: { redisUrl: string; nodes: number; runTag: string }): Promise<RunningSide> {
  const servers: Managed[] = [];
  const urls: string[] = [];
  try {
    for (let n = 0; n < options.nodes; n++) {
      const port = await freePort();
      const server = forkNode(
        `baseline-${n}`,
        path.join(ROOT, 'bench/chat/baselineServer.ts'),
        { PORT: String(port), REDIS_URL: options.redisUrl, BENCH_REDIS_KEY: `bench-chat-baseline-${options.runTag}`, NODE_ENV: 'production' },
        { probe: true },
      );
      servers.push(server);
      urls.push(`http://127.0.0.1:${port}`);
    }
    await Promise.all(servers.map((s, n) => waitForOk(`${urls[n]}/health`, s, 30_000)));
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()));
    throw err;
  }
  return { side: 'baseline', urls, servers, stop: async () => void (await Promise.all(servers.map((s) => s.stop()))) };
}

export async function startEdulureSide(options: {
  databaseUrl: string;
  redisUrl: string;
  nodes: number;
  jwtKeys: string;
  dataDir: string;
  runTag: string;
  /** Settings over the bench's own (e.g. SHUTDOWN_GRACE_MS). */
  env?: Record<string, string>;
}): Promise<RunningSide> {
  const servers: Managed[] = [];
  const urls: string[] = [];
  const envOf: Record<string, string>[] = [];
  const fork = (n: number) => forkNode(`edulure-${n}`, path.join(ROOT, 'server/main.ts'), envOf[n]!, { probe: true });
  try {
    for (let n = 0; n < options.nodes; n++) {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      envOf[n] = {
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        PUBLIC_URL: url,
        ALLOWED_ORIGINS: url,
        DATABASE_URL: options.databaseUrl,
        REDIS_URL: options.redisUrl,
        REDIS_KEY_PREFIX: `bench-chat-${options.runTag}`,
        JWT_KEYS: options.jwtKeys,
        ACCESS_TOKEN_TTL_SECONDS: '3600',
        SEED_DEMO: 'never',
        LOG_LEVEL: 'warn',
        DATA_DIR: options.dataDir,
        // The bench sends far more than a person would; the limiters still run (a Redis round trip each).
        RATE_LIMIT_MESSAGES_PER_10S: '1000000000',
        RATE_LIMIT_EVENTS_PER_10S: '1000000000',
        // Every simulated client comes from 127.0.0.1 and sends faster than a person.
        SOCKET_CONNECTIONS_PER_IP: '1000000000',
        SOCKET_EVENT_BURST: '1000000000',
        SOCKET_EVENTS_PER_SECOND: '1000000000',
        SHUTDOWN_GRACE_MS: '2000',
        ...options.env,
      };
      const server = fork(n);
      servers.push(server);
      urls.push(url);
      // One at a time: both run migrations under the advisory lock; sequential start keeps the log readable.
      await waitForOk(`${url}/health/ready`, server, 60_000);
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.stop()));
    throw err;
  }
  return {
    side: 'edulure',
    urls,
    servers,
    async metricsHeapUsed() {
      return Promise.all(
        urls.map(async (url) => {
          try {
            const text = await (await fetch(`${url}/metrics`)).text();
            const match = /^nodejs_heap_size_used_bytes(?:\{[^}]*\})? ([\d.e+]+)$/m.exec(text);
            return match ? Number(match[1]) : null;
          } catch {
            return null;
          }
        }),
      );
    },
    async restart(n) {
      const server = fork(n);
      servers[n] = server;
      await waitForOk(`${urls[n]}/health/ready`, server, 60_000);
      return server;
    },
    stop: async () => void (await Promise.all(servers.map((s) => s.stop()))),
  };
}
