import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { Router } from '@koa/router';
import { jwtVerify } from 'jose';
import pg from 'pg';

export interface BenchServer {
  url: string;
  close(): Promise<void>;
}

/** The floor: node:http answering a fixed JSON body, no auth, no database. No server of ours can be faster. */
export async function startBaselineServer(body: unknown): Promise<BenchServer> {
  const payload = JSON.stringify(body);
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
  });
  return listen(server, async () => {});
}

/** Where Edulure's access tokens come from (domain/auth/tokens.ts); the fair baseline accepts the same tokens. */
const ISSUER = 'edulure';
const AUDIENCE = 'edulure:access';

/**
 * The fair baseline for `GET /api/v1/me`: what a bare Koa app with a `pg` pool does for the same answer. It verifies
 * the bearer JWT (jose, HS256, issuer, audience, expiry, as Edulure does) with one key, reads the user by primary key
 * with a parameterised statement, and answers the same JSON. Nothing else: no request id, logging, metrics, security
 * headers, CORS, body parsing, revocation check or ORM.
 */
export async function startKoaPgBaseline(options: {
  databaseUrl: string;
  jwtSecret: string;
  /** Edulure's pool size, so neither side waits on connections the other has. */
  poolMax: number;
}): Promise<BenchServer> {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: options.poolMax });
  const key = new TextEncoder().encode(options.jwtSecret);
  const router = new Router();
  router.get('/api/v1/me', async (ctx) => {
    const match = /^Bearer\s+(\S+)$/i.exec(ctx.get('authorization'));
    let userId: string | undefined;
    try {
      if (match) userId = (await jwtVerify(match[1]!, key, { algorithms: ['HS256'], issuer: ISSUER, audience: AUDIENCE })).payload.sub;
    } catch {
      userId = undefined;
    }
    if (!userId) {
      ctx.status = 401;
      ctx.body = { error: { code: 'unauthenticated', message: 'Sign in first.' } };
      return;
    }
    const { rows } = await pool.query<{
      id: string;
      email: string;
      display_name: string;
      role: string;
      email_verified_at: Date | null;
      created_at: Date;
    }>('select id, email, display_name, role, email_verified_at, created_at from users where id = $1', [userId]);
    const user = rows[0];
    if (!user) {
      ctx.status = 401;
      ctx.body = { error: { code: 'unauthenticated', message: 'This account no longer exists.' } };
      return;
    }
    ctx.body = {
      user: {
        id: user.id,
        email: user.email,
        displayName: user.display_name,
        role: user.role,
        emailVerified: user.email_verified_at != null,
        createdAt: user.created_at.toISOString(),
      },
    };
  });
  const app = new Koa();
  app.use(router.routes());
  return listen(http.createServer(app.callback()), () => pool.end());
}

async function listen(server: http.Server, release: () => Promise<void>): Promise<BenchServer> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await release();
    },
  };
}
