import { z } from 'zod';
import { isVapidPrivateKey, isVapidPublicKey } from '../domain/notifications/vapid.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const booleanish = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const optionalUrl = (protocols: RegExp, what: string) =>
  z
    .string()
    .trim()
    .transform((v) => (v === '' ? undefined : v))
    .pipe(
      z
        .url({ protocol: protocols, message: `must be a ${what} URL` })
        .optional(),
    )
    .optional();

/** `kid:secret,kid2:secret2` — the first key signs, every key verifies (rotation). */
const jwtKeys = z
  .string()
  .trim()
  .transform((raw, ctx) => {
    const keys: { kid: string; secret: string }[] = [];
    for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
      const at = part.indexOf(':');
      const kid = at > 0 ? part.slice(0, at) : '';
      const secret = at > 0 ? part.slice(at + 1) : '';
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(kid)) {
        ctx.addIssue({ code: 'custom', message: `entry "${part.slice(0, 12)}…" must look like kid:secret` });
        return z.NEVER;
      }
      if (secret.length < 32) {
        ctx.addIssue({ code: 'custom', message: `secret for key "${kid}" must be at least 32 characters` });
        return z.NEVER;
      }
      if (keys.some((k) => k.kid === kid)) {
        ctx.addIssue({ code: 'custom', message: `key id "${kid}" appears twice` });
        return z.NEVER;
      }
      keys.push({ kid, secret });
    }
    if (keys.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'needs at least one kid:secret entry' });
      return z.NEVER;
    }
    return keys;
  });

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().trim().min(1).default('0.0.0.0'),
  PUBLIC_URL: optionalUrl(/^https?$/, 'http(s)'),
  DATABASE_URL: optionalUrl(/^postgres(ql)?$/, 'postgres://'),
  EMBEDDED_PG_PORT: z.coerce.number().int().min(1024).max(65535).default(54329),
  REDIS_URL: optionalUrl(/^rediss?$/, 'redis://'),
  REDIS_KEY_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _ only (up to 64)')
    .default('edulure'),
  ALLOWED_ORIGINS: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (!v) return undefined;
      const origins = v.split(',').map((o) => o.trim()).filter(Boolean);
      for (const origin of origins) {
        try {
          const url = new URL(origin);
          if (url.origin !== origin) throw new Error('not an origin');
        } catch {
          ctx.addIssue({ code: 'custom', message: `"${origin}" is not an origin like https://example.com` });
          return z.NEVER;
        }
      }
      return origins;
    }),
  JWT_KEYS: jwtKeys.optional(),
  DATA_DIR: z.string().trim().min(1).default('.data'),
  RATE_LIMIT_AUTH_PER_MINUTE: positiveInt(30),
  LOGIN_MAX_FAILURES: positiveInt(5),
  LOGIN_LOCKOUT_SECONDS: positiveInt(900),
  RATE_LIMIT_EVENTS_PER_10S: positiveInt(60),
  RATE_LIMIT_MESSAGES_PER_10S: positiveInt(20),
  // Abuse limits (docs/operations.md, "Abuse limits"). Reports, invites and new DM conversations per user per hour.
  RATE_LIMIT_REPORTS_PER_HOUR: positiveInt(20),
  RATE_LIMIT_INVITES_PER_HOUR: positiveInt(30),
  RATE_LIMIT_NEW_DMS_PER_HOUR: positiveInt(20),
  // Open sockets per user and per client address (IPv6 by /64), counted on each node.
  SOCKET_CONNECTIONS_PER_USER: positiveInt(20),
  SOCKET_CONNECTIONS_PER_IP: positiveInt(100),
  // Each socket's packets: a burst of SOCKET_EVENT_BURST, refilled at SOCKET_EVENTS_PER_SECOND; past it the socket is closed.
  SOCKET_EVENT_BURST: positiveInt(200),
  SOCKET_EVENTS_PER_SECOND: positiveInt(20),
  // What one socket may leave unread (queued on this node) before it is closed as a slow consumer.
  SOCKET_MAX_BUFFERED_BYTES: z.coerce.number().int().min(64 * 1024).default(1024 * 1024),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  SMTP_URL: optionalUrl(/^smtps?$/, 'smtp://'),
  MAIL_FROM: z.string().trim().default('Edulure <no-reply@edulure.local>'),
  SEED_DEMO: z.enum(['auto', 'always', 'never']).default('auto'),
  TRUST_PROXY: booleanish.default(false),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(120_000).default(25_000),
  // On SIGTERM the node's sockets are closed in slices over this long (at most half of SHUTDOWN_GRACE_MS), so the
  // nodes taking its clients over are not hit by all of them at once: a node takes ≈ 250 a second over, so 10 s moves
  // 2,500 clients with each away for under a second (docs/performance.md, "Rolling restart"). 0: all at once.
  SHUTDOWN_HANDOVER_MS: z.coerce.number().int().min(0).max(60_000).default(10_000),
  // How long a request may wait on Redis or PostgreSQL (a connection from the pool, a Redis reply) before it is answered
  // `unavailable` with retryAfter; see docs/operations.md, "Dependency outages".
  DEPENDENCY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  // Presence: a SIGKILLed node's users show offline within about NODE_TTL + SWEEP_INTERVAL + COALESCE.
  PRESENCE_NODE_TTL_MS: z.coerce.number().int().min(300).max(120_000).default(10_000),
  PRESENCE_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  PRESENCE_COALESCE_MS: z.coerce.number().int().min(0).max(5_000).default(300),
  // Live classrooms. Without both Agora values, video tokens answer `unavailable`; everything else works.
  AGORA_APP_ID: z.string().trim().regex(/^[0-9a-f]{32}$/i, 'an Agora App ID is 32 hex characters').optional(),
  AGORA_APP_CERTIFICATE: z.string().trim().regex(/^[0-9a-f]{32}$/i, 'an Agora App Certificate is 32 hex characters').optional(),
  RTC_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(3600).default(3600),
  CLASSROOM_ATTENDANCE_THRESHOLD_PERCENT: z.coerce.number().min(1).max(100).default(50),
  CLASSROOM_RECONNECT_GRACE_SECONDS: z.coerce.number().int().min(0).max(600).default(30),
  // Registered learners are reminded this many minutes before a class starts.
  CLASS_REMINDER_MINUTES: z.coerce.number().int().min(1).max(1440).default(10),
  // Notifications a user has not seen in-app are e-mailed (one digest) this many minutes after the first of a burst.
  EMAIL_NOTIFY_DELAY_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
  // Media assets. Stored on local disk under DATA_DIR/assets unless S3_BUCKET names an S3-compatible bucket.
  ASSET_MAX_BYTES: z.coerce.number().int().min(1024).default(500 * 1024 * 1024),
  ASSET_IMAGE_MAX_BYTES: z.coerce.number().int().min(1024).default(25 * 1024 * 1024),
  ASSET_URL_TTL_SECONDS: z.coerce.number().int().min(60).max(7 * 24 * 3600).default(3600),
  ASSET_URL_SECRET: z.string().trim().min(32, 'must be at least 32 characters').optional(),
  S3_BUCKET: z.string().trim().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name').optional(),
  S3_ENDPOINT: optionalUrl(/^https?$/, 'http(s)'),
  S3_REGION: z.string().trim().min(1).default('us-east-1'),
  S3_ACCESS_KEY_ID: z.string().trim().min(1).optional(),
  S3_SECRET_ACCESS_KEY: z.string().trim().min(1).optional(),
  S3_FORCE_PATH_STYLE: booleanish.default(false),
  // Commerce. Without STRIPE_SECRET_KEY, test payments (a labelled Pay / Decline page) — refused in production.
  STRIPE_SECRET_KEY: z.string().trim().regex(/^(sk|rk)_(test|live)_[A-Za-z0-9]+$/, 'a Stripe secret key starts with sk_test_, sk_live_ or rk_').optional(),
  STRIPE_PUBLISHABLE_KEY: z.string().trim().regex(/^pk_(test|live)_[A-Za-z0-9]+$/, 'a Stripe publishable key starts with pk_test_ or pk_live_').optional(),
  STRIPE_WEBHOOK_SECRET: z.string().trim().regex(/^whsec_[A-Za-z0-9+/=]+$/, 'a Stripe webhook signing secret starts with whsec_').optional(),
  STRIPE_API_URL: optionalUrl(/^https?$/, 'http(s)'),
  PLATFORM_FEE_PERCENT: z.coerce.number().min(0).max(100).default(10),
  CHECKOUT_HOLD_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(15),
  // Web push (VAPID). Both keys, or neither: in development and tests a pair is generated once in DATA_DIR; in production
  // without them web push is off (the public-key route answers `unavailable`). Generate with `npx web-push generate-vapid-keys`.
  VAPID_PUBLIC_KEY: z.string().trim().refine(isVapidPublicKey, 'a VAPID public key is 65 bytes, base64url (87 characters)').optional(),
  VAPID_PRIVATE_KEY: z.string().trim().refine(isVapidPrivateKey, 'a VAPID private key is 32 bytes, base64url (43 characters)').optional(),
  // Search: PostgreSQL full-text by default; Meilisearch when MEILI_URL is set (PostgreSQL stays the fallback).
  MEILI_URL: optionalUrl(/^https?$/, 'http(s)'),
  MEILI_API_KEY: z.string().trim().min(1).optional(),
  MEILI_INDEX: z.string().trim().regex(/^[A-Za-z0-9_-]{1,100}$/, 'letters, digits, - and _').default('edulure'),
  VAPID_SUBJECT: z.string().trim().regex(/^(mailto:\S+@\S+|https:\/\/\S+)$/, 'mailto:someone@example.com or an https:// URL').optional(),
}).superRefine((env, ctx) => {
  if (Boolean(env.S3_ACCESS_KEY_ID) !== Boolean(env.S3_SECRET_ACCESS_KEY)) {
    const missing = env.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID';
    ctx.addIssue({ code: 'custom', path: [missing], message: 'S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are set together' });
  }
  if (env.STRIPE_SECRET_KEY && (!env.STRIPE_PUBLISHABLE_KEY || !env.STRIPE_WEBHOOK_SECRET)) {
    const missing = env.STRIPE_PUBLISHABLE_KEY ? 'STRIPE_WEBHOOK_SECRET' : 'STRIPE_PUBLISHABLE_KEY';
    ctx.addIssue({ code: 'custom', path: [missing], message: 'is needed with STRIPE_SECRET_KEY (see the README: connecting Stripe)' });
  }
  if (Boolean(env.VAPID_PUBLIC_KEY) !== Boolean(env.VAPID_PRIVATE_KEY)) {
    const missing = env.VAPID_PUBLIC_KEY ? 'VAPID_PRIVATE_KEY' : 'VAPID_PUBLIC_KEY';
    ctx.addIssue({ code: 'custom', path: [missing], message: 'VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY are set together' });
  }
  if (env.NODE_ENV === 'production' && env.VAPID_PUBLIC_KEY && !env.VAPID_SUBJECT) {
    ctx.addIssue({ code: 'custom', path: ['VAPID_SUBJECT'], message: 'is needed with the VAPID keys in production (mailto: or https: contact for push services)' });
  }
  if (!env.S3_BUCKET && (env.S3_ENDPOINT || env.S3_ACCESS_KEY_ID)) {
    ctx.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'is needed when other S3_ variables are set (or unset them to store on local disk)' });
  }
});

export type Env = z.infer<typeof EnvSchema>;

/** Never echoed back in error output: they may hold credentials. */
const SECRET_VARIABLES = new Set([
  'JWT_KEYS',
  'DATABASE_URL',
  'REDIS_URL',
  'SMTP_URL',
  'AGORA_APP_CERTIFICATE',
  'ASSET_URL_SECRET',
  'S3_SECRET_ACCESS_KEY',
  'STRIPE_SECRET_KEY',
  'STRIPE_WEBHOOK_SECRET',
  'VAPID_PRIVATE_KEY',
  'MEILI_API_KEY',
]);

export interface EnvProblem {
  variable: string;
  message: string;
}

/** Parses an environment; returns every problem rather than the first. */
export function parseEnv(source: Record<string, string | undefined>): { env: Env } | { problems: EnvProblem[] } {
  // Blank values count as unset, as they do in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const result = EnvSchema.safeParse(cleaned);
  if (result.success) return { env: result.data };
  return {
    problems: result.error.issues.map((issue) => ({
      variable: String(issue.path[0] ?? '(environment)'),
      message: issue.message,
    })),
  };
}

/** Loads the process environment or prints every problem in plain words and exits non-zero. */
export function loadEnv(source: Record<string, string | undefined> = process.env): Env {
  const parsed = parseEnv(source);
  if ('env' in parsed) return parsed.env;
  process.stderr.write('Edulure cannot start: the environment has problems.\n');
  for (const problem of parsed.problems) {
    const shown = SECRET_VARIABLES.has(problem.variable) ? '(hidden)' : JSON.stringify(source[problem.variable] ?? null);
    process.stderr.write(`  - ${problem.variable}: ${problem.message} (got ${shown})\n`);
  }
  process.stderr.write('See .env.example for every variable and its default.\n');
  process.exit(1);
}
