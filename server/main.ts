import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pino from 'pino';
import { WEB_ADDRESS_HEADER, WEB_PROTOCOL_HEADER, type ApiOptions } from '../api/app.ts';
import { ensureDataDir, prepareDatabase, resolveDatabase, resolveJwtKeys } from './bootstrap.ts';
import { loadEnv } from './env.ts';
import { createNode } from './node.ts';
import { withWebDelivery } from './webDelivery.ts';
import { takeOverShutdownSignals } from '../orm/database.ts';
import type { DemoAccount } from '../orm/seeders/demoData.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

async function main() {
  const env = loadEnv();
  const logger = pino({ level: env.LOG_LEVEL, base: { pid: process.pid } });
  const dataDir = await ensureDataDir(env);
  const database = await resolveDatabase(env, dataDir, logger);
  const stopDatabase = async () => database.embedded?.stop();
  try {
    const jwtKeys = await resolveJwtKeys(env, dataDir, logger);
    const demoAccounts = await prepareDatabase(env, database, logger);
    const publicUrl = env.PUBLIC_URL?.replace(/\/$/, '') ?? `http://localhost:${env.PORT}`;
    const allowedOrigins = env.ALLOWED_ORIGINS ?? [
      new URL(publicUrl).origin,
      `http://localhost:${env.PORT}`,
      `http://127.0.0.1:${env.PORT}`,
    ];

    // Filled once the node listens: the web server needs the node's loopback address and secret first.
    const web: { handler?: ApiOptions['fallback'] } = {};
    const node = await createNode({
      env,
      databaseUrl: database.url,
      jwtKeys,
      publicUrl,
      allowedOrigins,
      logger,
      fallback: (req, res, next) => (web.handler ? web.handler(req, res, next) : next()),
    });
    const port = await node.listen(env.PORT);
    // The web server code calls the API over loopback in this same process.
    process.env.EDULURE_INTERNAL_API = `http://127.0.0.1:${port}`;
    process.env.EDULURE_INTERNAL_SECRET = node.internalSecret;
    web.handler = await loadWebHandler(logger, Math.max(env.ASSET_MAX_BYTES, env.ASSET_IMAGE_MAX_BYTES));

    logger.info({ port, url: publicUrl, redis: Boolean(env.REDIS_URL), embeddedDatabase: Boolean(database.embedded) }, 'Edulure is ready');
    printBanner(publicUrl, demoAccounts);

    let stopping = false;
    const shutdown = async (signal: string) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting now');
        process.exit(1);
      }
      stopping = true;
      const signalledAt = Date.now();
      logger.info({ signal }, 'shutting down');
      try {
        // The node finishes what it accepted within SHUTDOWN_GRACE_MS (a supervisor's kill usually follows soon after);
        // what still runs then is abandoned, as a crash would: unacked sends are sent again by their clients.
        let overran = false;
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          node.close(),
          new Promise<void>((resolve) => {
            timer = setTimeout(() => {
              overran = true;
              resolve();
            }, env.SHUTDOWN_GRACE_MS);
          }),
        ]);
        clearTimeout(timer);
        if (overran) logger.error({ graceMs: env.SHUTDOWN_GRACE_MS }, 'shutdown did not finish within SHUTDOWN_GRACE_MS; exiting anyway');
        else logger.info({ ms: Date.now() - signalledAt }, 'shut down');
        await stopDatabase();
        process.exit(overran ? 1 : 0);
      } catch (err) {
        logger.error({ err: String(err) }, 'shutdown failed');
        process.exit(1);
      }
    };
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
    process.on('SIGINT', () => void shutdown('SIGINT'));
    if (database.embedded) takeOverShutdownSignals();
  } catch (err) {
    await stopDatabase().catch(() => {});
    throw err;
  }
}

/** The SvelteKit app built by `npm run build` (adapter-node). Without a build the API still runs. */
async function loadWebHandler(logger: pino.Logger, uploadLimitBytes: number): Promise<ApiOptions['fallback']> {
  const handlerFile = path.join(ROOT, 'build', 'handler.js');
  if (!existsSync(handlerFile)) {
    logger.warn('no web build found (build/handler.js); run `npm run build` — serving the API only');
    return (_req, res) => {
      res.statusCode = 503;
      res.setHeader('content-type', 'text/plain; charset=utf-8');
      res.end('The web app is not built yet. Run `npm run build` (npm start does this for you).');
    };
  }
  // adapter-node reads these once at import; without them it assumes https and CSRF checks refuse form posts.
  process.env.PROTOCOL_HEADER = WEB_PROTOCOL_HEADER;
  process.env.ADDRESS_HEADER = WEB_ADDRESS_HEADER;
  // Uploads from the app pass through the web server to the API, which enforces the per-kind limits; adapter-node's
  // own default (512 KB) would refuse them first. A little room above the largest upload covers the multipart framing.
  process.env.BODY_SIZE_LIMIT ??= String(uploadLimitBytes + 1024 * 1024);
  const { handler } = (await import(pathToFileURL(handlerFile).href)) as { handler: NonNullable<ApiOptions['fallback']> };
  return withWebDelivery(handler);
}

function printBanner(url: string, demoAccounts: DemoAccount[]) {
  const lines = [`\n  Edulure is running at ${url}\n`];
  if (demoAccounts.length) {
    lines.push('  Demo accounts (created now; DEMO ONLY — these passwords are public):');
    for (const a of demoAccounts) lines.push(`    ${a.role.padEnd(10)} ${a.email.padEnd(32)} ${a.password}`);
    lines.push('');
  }
  process.stdout.write(lines.join('\n') + '\n');
}

main().catch((err) => {
  process.stderr.write(`Edulure failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
