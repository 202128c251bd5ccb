import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import pino, { type Logger } from 'pino';
import { createApiApp, type ApiOptions } from '../api/app.ts';
import { registerAuthClientEvents } from '../domain/auth/clientEvents.ts';
import { registerChatClientEvents } from '../domain/chat/clientEvents.ts';
import { registerReadStateClientEvents } from '../domain/chat/readStateClientEvents.ts';
import { registerClassroomClientEvents } from '../domain/classrooms/clientEvents.ts';
import { registerCourseClientEvents } from '../domain/courses/clientEvents.ts';
import { registerCourseLearningClientEvents } from '../domain/courses/learningClientEvents.ts';
import { registerEbookClientEvents } from '../domain/ebooks/clientEvents.ts';
import { registerCommerceClientEvents } from '../domain/commerce/clientEvents.ts';
import { expireOrderJob, reconcileJob, scheduleReconciliation } from '../domain/commerce/expiry.ts';
import { processPaymentEvent } from '../domain/commerce/paymentEvents.ts';
import { passwordResetJob } from '../domain/auth/passwordReset.ts';
import { reloadRecentRevocations } from '../domain/auth/sessions.ts';
import { TokenService, type JwtKey } from '../domain/auth/tokens.ts';
import { registerFeedClientEvents } from '../domain/feed/clientEvents.ts';
import { registerCommunityClientEvents } from '../domain/communities/clientEvents.ts';
import { assetCleanupJob, scheduleAssetCleanup } from '../domain/media/cleanup.ts';
import { registerModerationClientEvents } from '../domain/moderation/clientEvents.ts';
import { createSmtpTransport, emailDelivery, type MailTransport } from '../domain/notifications/delivery.ts';
import { registerNotificationClientEvents } from '../domain/notifications/clientEvents.ts';
import { messageNoticeSweepJob, registerMessageNotices, scheduleMessageNoticeSweep } from '../domain/notifications/messageNotices.ts';
import { registerActivityNotifications } from '../domain/notifications/activityNotifications.ts';
import { registerNotificationRetraction } from '../domain/notifications/retract.ts';
import { classReminderJob, registerClassReminderListeners } from '../domain/notifications/classReminders.ts';
import { emailDigestJob, scheduleEmailDigests } from '../domain/notifications/emailDigest.ts';
import { registerFeedNotifications } from '../domain/notifications/feedNotifications.ts';
import { lessonReleaseJob, scheduleLessonReleases } from '../domain/notifications/lessonReleases.ts';
import { reactionCountJob, registerReactionNotifications } from '../domain/notifications/reactionNotifications.ts';
import { registerPushDelivery } from '../domain/notifications/push.ts';
import { createMemoryPresenceStore } from '../domain/presence/memoryStore.ts';
import { createRedisPresenceStore } from '../domain/presence/redisStore.ts';
import { presenceTimings } from '../domain/presence/store.ts';
import { createActionLimits } from '../domain/shared/actionLimits.ts';
import { createAuthLimiters, type Deps } from '../domain/shared/deps.ts';
import { createEventBus, type EventBus } from '../domain/shared/events.ts';
import { startJobRunner } from '../domain/shared/jobRunner.ts';
import { countFailedJobs, type JobHandlers } from '../domain/shared/jobs.ts';
import { countDomainEvents, createMetrics, type Metrics } from '../domain/shared/metrics.ts';
import type { Publisher } from '../domain/shared/publisher.ts';
import { systemClock, type Clock } from '../domain/shared/time.ts';
import { createMemoryRevocationStore, createRateLimiterFactory, createRedisRevocationStore } from '../domain/shared/stores.ts';
import { createSearchService } from '../domain/search/service.ts';
import { savedSearchAlertJob, scheduleSavedSearchAlerts } from '../domain/search/saved.ts';
import { registerSearchIndexing } from '../domain/search/indexer.ts';
import { openOrm, type Orm } from '../orm/database.ts';
import { createRedisClient } from '../realtime/redisClients.ts';
import { createRealtime } from '../realtime/server.ts';
import type { Env } from './env.ts';
import { externalSearch, mediaService, paymentProvider, pushSettings, unsubscribeSigner } from './providers.ts';

export interface NodeConfig {
  env: Env;
  databaseUrl: string;
  jwtKeys: JwtKey[];
  /** The app's own origin, used in e-mailed links and as the default allowed origin. */
  publicUrl: string;
  allowedOrigins: string[];
  /** Isolates this cluster's keys and channels in a shared Redis. */
  redisKeyPrefix?: string;
  logger?: Logger;
  fallback?: ApiOptions['fallback'];
  /** Tests hand in a controllable clock; defaults to the system clock. */
  clock?: Clock;
  /** The job runner on this node; tests shorten the poll for due retries. */
  jobs?: { concurrency?: number; pollIntervalMs?: number };
}

export interface EdulureNode {
  deps: Deps;
  orm: Orm;
  httpServer: http.Server;
  /** Loopback secret the in-process web server uses to forward the browser's address. */
  internalSecret: string;
  listen(port: number, host?: string): Promise<number>;
  /** Graceful: stop accepting, tell sockets, drain requests, close Redis and the database. */
  close(): Promise<void>;
}

/** Jobs run at once per node: e-mail and durable listeners wait on the network, not on this CPU. */
const JOB_CONCURRENCY = 4;

/** Composes one Edulure node: REST, Socket.IO and (optionally) the web handler on one HTTP server. */
export async function createNode(config: NodeConfig): Promise<EdulureNode> {
  const { env } = config;
  const logger = config.logger ?? pino({ level: env.LOG_LEVEL, base: { node: process.pid } });
  const orm = await openOrm(config.databaseUrl, { connectTimeoutMs: env.DEPENDENCY_TIMEOUT_MS });
  const metrics = createMetrics({
    defaultMetrics: env.NODE_ENV !== 'test',
    countFailedJobs: () => countFailedJobs(orm.em.fork()),
  });
  const redisKeyPrefix = config.redisKeyPrefix ?? env.REDIS_KEY_PREFIX;
  // No request waits on Redis longer than DEPENDENCY_TIMEOUT_MS (docs/operations.md, "Dependency outages").
  const redis = env.REDIS_URL ? createRedisClient(env.REDIS_URL, { timeoutMs: env.DEPENDENCY_TIMEOUT_MS, logger }) : undefined;
  const onRedisFallback = (feature: string) => metrics.dependencyFallbacks.inc({ dependency: 'redis', feature });

  const tokens = new TokenService(config.jwtKeys, env.ACCESS_TOKEN_TTL_SECONDS);
  const rateLimiterFactory = createRateLimiterFactory(redis, redisKeyPrefix, { onFallback: onRedisFallback });
  const auth = {
    accessTokenTtlSeconds: env.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlDays: env.REFRESH_TOKEN_TTL_DAYS,
    loginMaxFailures: env.LOGIN_MAX_FAILURES,
    loginLockoutSeconds: env.LOGIN_LOCKOUT_SECONDS,
    publicUrl: config.publicUrl,
  };
  const presenceConfig = presenceTimings({
    coalesceMs: env.PRESENCE_COALESCE_MS,
    nodeTtlMs: env.PRESENCE_NODE_TTL_MS,
    sweepIntervalMs: env.PRESENCE_SWEEP_INTERVAL_MS,
  });
  const presence = redis
    ? createRedisPresenceStore(redis, `${redisKeyPrefix}:presence:`, presenceConfig)
    : createMemoryPresenceStore(presenceConfig);
  // The realtime layer supplies the real publisher below; nothing publishes before the node listens.
  const publisherSlot: { current?: Publisher } = {};
  const events = createEventBus(logger);
  const clock = config.clock ?? systemClock;
  const search = createSearchService({ orm, clock, logger }, await externalSearch(env, { orm, clock, logger }));
  const deps: Deps = {
    orm,
    tokens,
    revocations: redis
      ? createRedisRevocationStore(redis, `${redisKeyPrefix}:revoked:`, { orm, onFallback: onRedisFallback })
      : createMemoryRevocationStore(),
    limiters: createAuthLimiters(rateLimiterFactory, auth),
    rateLimiterFactory,
    actionLimits: createActionLimits(
      rateLimiterFactory,
      { reportsPerHour: env.RATE_LIMIT_REPORTS_PER_HOUR, invitesPerHour: env.RATE_LIMIT_INVITES_PER_HOUR, newDmsPerHour: env.RATE_LIMIT_NEW_DMS_PER_HOUR },
      (limit) => metrics.abuseRefusals.inc({ limit }),
    ),
    publisher: {
      toRoom: (...args) => publisherSlot.current?.toRoom(...args),
      revokeSession: async (payload) => publisherSlot.current?.revokeSession(payload),
      leaveRoom: (...args) => publisherSlot.current?.leaveRoom(...args),
      joinRoom: (...args) => publisherSlot.current?.joinRoom(...args),
      revokePresence: (...args) => publisherSlot.current?.revokePresence(...args),
    },
    events,
    presence,
    logger,
    auth,
    classrooms: {
      agora:
        env.AGORA_APP_ID && env.AGORA_APP_CERTIFICATE
          ? { appId: env.AGORA_APP_ID, appCertificate: env.AGORA_APP_CERTIFICATE }
          : null,
      rtcTokenTtlSeconds: env.RTC_TOKEN_TTL_SECONDS,
      attendanceThresholdPercent: env.CLASSROOM_ATTENDANCE_THRESHOLD_PERCENT,
      reconnectGraceMs: env.CLASSROOM_RECONNECT_GRACE_SECONDS * 1000,
    },
    media: mediaService(env, config.jwtKeys),
    commerce: {
      provider: paymentProvider(env, config.clock ?? systemClock),
      publishableKey: env.STRIPE_SECRET_KEY ? (env.STRIPE_PUBLISHABLE_KEY ?? null) : null,
      webhookSecret: env.STRIPE_SECRET_KEY ? (env.STRIPE_WEBHOOK_SECRET ?? null) : null,
      platformFeePercent: env.PLATFORM_FEE_PERCENT,
      checkoutHoldMinutes: env.CHECKOUT_HOLD_MINUTES,
    },
    notifications: {
      classReminderMinutes: env.CLASS_REMINDER_MINUTES,
      emailNotifyDelayMinutes: env.EMAIL_NOTIFY_DELAY_MINUTES,
      unsubscribeSigner: unsubscribeSigner(config.jwtKeys),
    },
    push: await pushSettings(env, logger),
    search,
    clock,
  };
  registerListeners(events, { publisher: deps.publisher, metrics });
  const messageNotices = registerMessageNotices(events, deps);
  registerClassReminderListeners(events, deps);
  registerActivityNotifications(events, deps);
  registerFeedNotifications(events, deps);
  registerReactionNotifications(events, deps);
  registerNotificationRetraction(events, deps);
  registerPushDelivery(events, deps);
  registerSearchIndexing(events, deps, search.indexer);
  // Revocations live in a store with a TTL; reload the recent ones now and whenever Redis (re)connects, so a Redis
  // restart or flush never gives a revoked session a second life. A Redis that is down at start does not stop the node.
  const reload = () =>
    reloadRecentRevocations(deps).catch((err) => logger.warn({ err: String(err) }, 'could not reload revocations yet'));
  redis?.on('ready', () => void reload());
  await reload();

  const internalSecret = randomBytes(24).toString('base64url');
  let draining = false;
  const api = createApiApp(deps, {
    logger,
    metrics,
    allowedOrigins: config.allowedOrigins,
    trustProxy: env.TRUST_PROXY,
    internalSecret,
    bodyLimitBytes: 1024 * 1024,
    authRequestsPerMinute: env.RATE_LIMIT_AUTH_PER_MINUTE,
    devRoutes: env.NODE_ENV !== 'production' && !env.SMTP_URL,
    readiness: {
      database: () => orm.em.fork().getConnection().execute('select 1'),
      ...(redis ? { redis: () => redis.ping() } : {}),
    },
    degradable: search.external ? { search: () => search.check() } : {},
    isDraining: () => draining,
    readinessTimeoutMs: env.DEPENDENCY_TIMEOUT_MS,
    fallback: config.fallback,
  });
  const httpServer = http.createServer(api.callback());
  httpServer.keepAliveTimeout = 65_000;
  const realtime = await createRealtime(deps, {
    httpServer,
    metrics,
    logger,
    allowedOrigins: config.allowedOrigins,
    eventsPer10Seconds: env.RATE_LIMIT_EVENTS_PER_10S,
    messagesPer10Seconds: env.RATE_LIMIT_MESSAGES_PER_10S,
    shutdownHandoverMs: Math.min(env.SHUTDOWN_HANDOVER_MS, env.SHUTDOWN_GRACE_MS / 2),
    abuse: {
      connectionsPerUser: env.SOCKET_CONNECTIONS_PER_USER,
      connectionsPerAddress: env.SOCKET_CONNECTIONS_PER_IP,
      eventBurst: env.SOCKET_EVENT_BURST,
      eventsPerSecond: env.SOCKET_EVENTS_PER_SECOND,
      maxBufferedBytes: env.SOCKET_MAX_BUFFERED_BYTES,
      trustProxy: env.TRUST_PROXY,
    },
    ...(redis ? { redis: { client: redis, keyPrefix: redisKeyPrefix } } : {}),
    presence: { store: presence, timings: presenceConfig },
  });
  publisherSlot.current = realtime.publisher;

  // Without SMTP this node leaves e-mail jobs queued (the development outbox page lists the messages).
  const mail: MailTransport | undefined = env.SMTP_URL ? await createSmtpTransport(env.SMTP_URL) : undefined;
  const jobHandlers: JobHandlers = {
    'domain-event': events.deliverDurable,
    'assets.cleanup': assetCleanupJob(deps),
    'auth.password_reset': passwordResetJob(deps),
    'payments.event': async ({ event }) => {
      await processPaymentEvent(deps, event);
    },
    'orders.expire': expireOrderJob(deps),
    'orders.reconcile': reconcileJob(deps),
    'notifications.class_reminder': classReminderJob(deps),
    'notifications.email_digests': emailDigestJob(deps),
    'notifications.message_notices': messageNoticeSweepJob(deps),
    'notifications.lesson_releases': lessonReleaseJob(deps),
    'search.saved_alerts': savedSearchAlertJob(deps),
    'notifications.reactions': reactionCountJob(deps),
    ...(mail ? { 'email.send': emailDelivery({ orm, transport: mail, from: env.MAIL_FROM, logger }) } : {}),
  };
  const jobs = await startJobRunner({
    databaseUrl: config.databaseUrl,
    handlers: jobHandlers,
    logger,
    concurrency: config.jobs?.concurrency ?? JOB_CONCURRENCY,
    ...(config.jobs?.pollIntervalMs ? { pollIntervalMs: config.jobs.pollIntervalMs } : {}),
  });
  await scheduleAssetCleanup(deps);
  await scheduleReconciliation(deps);
  await scheduleLessonReleases(deps);
  await scheduleEmailDigests(deps);
  await scheduleMessageNoticeSweep(deps);
  await scheduleSavedSearchAlerts(deps);
  // Failed jobs wait for a person; say so at every start, not only in /metrics.
  const failedJobs = await countFailedJobs(orm.em.fork()).catch(() => 0);
  if (failedJobs > 0) {
    logger.warn({ failedJobs }, 'jobs failed for good and wait in graphile_worker.jobs (see last_error); retry or remove them');
  }

  let closing: Promise<void> | undefined;
  return {
    deps,
    orm,
    httpServer,
    internalSecret,
    listen(port, host = env.HOST) {
      return new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, host, () => {
          httpServer.off('error', reject);
          resolve((httpServer.address() as AddressInfo).port);
        });
      });
    },
    close() {
      closing ??= (async () => {
        const startedAt = Date.now();
        // Readiness turns 503 (the load balancer stops sending new work) and no new connection is accepted.
        draining = true;
        const httpClosed = new Promise<void>((resolve) => {
          if (!httpServer.listening) return resolve();
          httpServer.close(() => resolve());
        });
        httpServer.closeIdleConnections();
        await realtime.close();
        // REST requests under way get most of the grace period; the rest is for the work below.
        const forced = setTimeout(() => httpServer.closeAllConnections(), Math.max(0, startedAt + env.SHUTDOWN_GRACE_MS * 0.6 - Date.now()));
        await httpClosed;
        clearTimeout(forced);
        // Notifications of messages this node stored are made before it goes (a node killed instead leaves them to the sweep).
        await messageNotices.idle();
        // Jobs already running finish before the database goes away; queued ones wait for the next runner.
        await jobs.stop();
        await redis?.quit().catch(() => redis.disconnect());
        await orm.close(true);
      })();
      return closing;
    },
  };
}

/**
 * Every listener of domain events, in one place: the client publisher (one registration per feature), metrics, and
 * later notifications and search. Adding a listener here touches no operation.
 */
function registerListeners(bus: EventBus, { publisher, metrics }: { publisher: Publisher; metrics: Metrics }): void {
  registerAuthClientEvents(bus, publisher);
  registerFeedClientEvents(bus, publisher);
  registerClassroomClientEvents(bus, publisher);
  registerCommunityClientEvents(bus, publisher);
  registerChatClientEvents(bus, publisher);
  registerReadStateClientEvents(bus, publisher);
  registerModerationClientEvents(bus, publisher);
  registerCourseClientEvents(bus, publisher);
  registerCourseLearningClientEvents(bus, publisher);
  registerEbookClientEvents(bus, publisher);
  registerCommerceClientEvents(bus, publisher);
  registerNotificationClientEvents(bus, publisher);
  countDomainEvents(bus, metrics);
}
