import type { IncomingMessage, ServerResponse } from 'node:http';
import Koa, { type Next } from 'koa';
import { Router } from '@koa/router';
import cors from '@koa/cors';
import helmet from 'koa-helmet';
import type { Logger } from 'pino';
import type { Deps } from '../domain/shared/deps.ts';
import { AppError } from '../domain/shared/errors.ts';
import type { Metrics } from '../domain/shared/metrics.ts';
import { withTimeout } from '../domain/shared/time.ts';
import type { ApiContext, ApiState } from './context.ts';
import { jsonBody } from './middlewares/body.ts';
import { errorHandler } from './middlewares/errors.ts';
import { requestContext } from './middlewares/requestContext.ts';
import { buildOpenApiDocument, createOpenApiRegistry, renderDocsPage } from './openapi.ts';
import { createRouteKit } from './routeKit.ts';
import { authRoutes } from './routes/auth.ts';
import { assetRoutes } from './routes/assets.ts';
import { classroomRoutes } from './routes/classrooms.ts';
import { courseLearningRoutes } from './routes/courseLearning.ts';
import { courseRoutes } from './routes/courses.ts';
import { ebookRoutes } from './routes/ebooks.ts';
import { teachingRoutes } from './routes/teaching.ts';
import { checkoutRoutes } from './routes/checkout.ts';
import { couponRoutes } from './routes/coupons.ts';
import { orderRoutes } from './routes/orders.ts';
import { salesRoutes } from './routes/sales.ts';
import { tierRoutes } from './routes/tiers.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { notificationRoutes } from './routes/notifications.ts';
import { notificationPreferenceRoutes } from './routes/notificationPreferences.ts';
import { pushRoutes } from './routes/push.ts';
import { communityRoutes } from './routes/communities.ts';
import { feedRoutes } from './routes/feed.ts';
import { messageRoutes } from './routes/messages.ts';
import { searchRoutes } from './routes/search.ts';
import { savedSearchRoutes } from './routes/savedSearches.ts';
import { moderationRoutes } from './routes/moderation.ts';
import { moderationSettingsRoutes } from './routes/moderationSettings.ts';
import { devRoutes } from './routes/dev.ts';
import { meRoutes } from './routes/me.ts';
import { dashboardRoutes } from './routes/dashboard.ts';
import { presenceRoutes } from './routes/presence.ts';

export const API_PREFIX = '/api/v1';
/** Headers through which the composed web handler (SvelteKit adapter-node) learns the scheme and client address. */
export const WEB_PROTOCOL_HEADER = 'x-edulure-proto';
export const WEB_ADDRESS_HEADER = 'x-edulure-remote-ip';

export interface ApiOptions {
  logger: Logger;
  metrics: Metrics;
  allowedOrigins: string[];
  trustProxy: boolean;
  internalSecret: string;
  bodyLimitBytes: number;
  authRequestsPerMinute: number;
  /** Exposes /api/v1/dev/* (outbox viewer) — development without SMTP only. */
  devRoutes: boolean;
  /** Named checks for /health/ready; each resolves or throws. */
  readiness: Record<string, () => Promise<unknown>>;
  /** Checks whose failure leaves the node serving with less (search falling back to PostgreSQL): `degraded`, still 200. */
  degradable?: Record<string, () => Promise<unknown>>;
  isDraining: () => boolean;
  /** How long each readiness check may take before it counts as failing (DEPENDENCY_TIMEOUT_MS). */
  readinessTimeoutMs?: number;
  /** Handles every path that is not the API (the SvelteKit app). */
  fallback?: (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
}

const API_PATHS = /^\/(api|health|metrics)(\/|$)/;

export function createApiApp(deps: Deps, options: ApiOptions): Koa<ApiState> {
  const app = new Koa<ApiState>();
  app.proxy = options.trustProxy;

  const registry = createOpenApiRegistry();
  const router = new Router<ApiState>({ prefix: API_PREFIX });
  const route = createRouteKit(router as never, registry, deps, API_PREFIX);
  const authPerIp = deps.rateLimiterFactory({
    keyPrefix: 'auth-ip',
    points: options.authRequestsPerMinute,
    durationSeconds: 60,
  });
  authRoutes(route, deps, authPerIp);
  meRoutes(route, deps);
  dashboardRoutes(route, deps);
  communityRoutes(route, deps);
  presenceRoutes(route, deps);
  messageRoutes(route, deps);
  moderationRoutes(route, deps);
  moderationSettingsRoutes(route, deps);
  classroomRoutes(route, deps);
  feedRoutes(route, deps);
  assetRoutes(route, deps);
  courseRoutes(route, deps);
  courseLearningRoutes(route, deps);
  ebookRoutes(route, deps);
  teachingRoutes(route, deps);
  checkoutRoutes(route, deps);
  orderRoutes(route, deps);
  couponRoutes(route, deps);
  salesRoutes(route, deps);
  tierRoutes(route, deps);
  webhookRoutes(route, deps);
  notificationRoutes(route, deps);
  notificationPreferenceRoutes(route, deps);
  pushRoutes(route, deps);
  searchRoutes(route, deps);
  savedSearchRoutes(route, deps);
  if (options.devRoutes) devRoutes(route, deps);
  const openApi = buildOpenApiDocument(registry);
  const docsPage = renderDocsPage(openApi);

  const ops = new Router<ApiState>();
  ops.get('/health/live', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  ops.get('/health/ready', async (ctx) => {
    const checks: Record<string, string> = {};
    let ok = !options.isDraining();
    if (!ok) checks.node = 'draining';
    await Promise.all(
      Object.entries(options.readiness).map(async ([name, check]) => {
        try {
          await withTimeout(check(), options.readinessTimeoutMs ?? 2000);
          checks[name] = 'ok';
        } catch (err) {
          ok = false;
          checks[name] = `failing: ${(err as Error).message ?? String(err)}`;
        }
      }),
    );
    let degraded = false;
    await Promise.all(
      Object.entries(options.degradable ?? {}).map(async ([name, check]) => {
        try {
          await withTimeout(check(), options.readinessTimeoutMs ?? 2000);
          checks[name] = 'ok';
        } catch (err) {
          degraded = true;
          checks[name] = `degraded: ${(err as Error).message ?? String(err)}`;
        }
      }),
    );
    ctx.status = ok ? 200 : 503;
    ctx.body = ok ? { status: degraded ? 'degraded' : 'ready', checks } : { status: 'unavailable', checks, error: { code: 'unavailable', message: describeFailures(checks) } };
  });
  ops.get('/metrics', async (ctx) => {
    ctx.type = options.metrics.registry.contentType;
    ctx.body = await options.metrics.registry.metrics();
  });
  ops.get(`${API_PREFIX}/openapi.json`, (ctx) => {
    ctx.body = openApi;
  });
  ops.get('/api/docs', (ctx) => {
    ctx.type = 'html';
    ctx.body = docsPage;
  });

  const isApiPath = (ctx: ApiContext) => API_PATHS.test(ctx.path);
  const apiOnly = (mw: (ctx: ApiContext, next: Next) => unknown) => (ctx: ApiContext, next: Next) =>
    isApiPath(ctx) ? mw(ctx, next) : next();

  app.use(apiOnly(requestContext(options.logger, options.metrics, options) as never));
  app.use(apiOnly(errorHandler(options.metrics) as never));
  app.use(apiOnly(helmet() as never));
  app.use(
    apiOnly(
      cors({
        origin: (ctx) => {
          const origin = ctx.get('origin');
          return options.allowedOrigins.includes(origin) ? origin : '';
        },
        credentials: true,
        allowHeaders: ['authorization', 'content-type', 'x-request-id'],
        exposeHeaders: ['x-request-id', 'retry-after'],
        maxAge: 600,
      }) as never,
    ),
  );
  app.use(
    apiOnly(
      jsonBody({
        limitBytes: options.bodyLimitBytes,
        multipartPaths: [`${API_PREFIX}/assets`],
        formPaths: [`${API_PREFIX}/notifications/unsubscribe`],
      }) as never,
    ),
  );
  app.use(apiOnly(ops.routes() as never));
  app.use(apiOnly(router.routes() as never));
  app.use(apiOnly(router.allowedMethods({ throw: true }) as never));
  app.use(async (ctx: ApiContext, next: Next) => {
    if (isApiPath(ctx)) {
      if (ctx.body === undefined && ctx.status === 404) throw new AppError('not_found', `No route for ${ctx.method} ${ctx.path}.`);
      return next();
    }
    if (!options.fallback) {
      ctx.status = 404;
      ctx.body = 'Not found';
      return;
    }
    ctx.respond = false;
    // The web handler learns the scheme and client address from these (set as PROTOCOL_HEADER / ADDRESS_HEADER for
    // adapter-node). Overwritten on every request, so a client cannot supply its own; Koa honours TRUST_PROXY.
    ctx.req.headers[WEB_PROTOCOL_HEADER] = ctx.protocol;
    ctx.req.headers[WEB_ADDRESS_HEADER] = ctx.state.client?.ip ?? ctx.ip;
    options.fallback(ctx.req, ctx.res, () => {
      ctx.res.statusCode = 404;
      ctx.res.end('Not found');
    });
  });
  // Koa's default error output is HTML; API errors are already JSON above, so only log here.
  app.on('error', (err, ctx?: ApiContext) => {
    if ((err as { expose?: boolean }).expose) return;
    (ctx?.state.log ?? options.logger).warn({ err: String(err) }, 'response error');
  });
  return app;
}

function describeFailures(checks: Record<string, string>): string {
  return Object.entries(checks)
    .filter(([, v]) => v !== 'ok')
    .map(([name, v]) => `${name} ${v}`)
    .join('; ');
}
