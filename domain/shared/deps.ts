import type { Orm, Logger } from '../../orm/database.ts';
// Transports name the logger and the ORM handle they are given through the domain, never through orm/ itself.
export type { Orm, Logger };
import type { TokenService } from '../auth/tokens.ts';
import type { PaymentProvider } from '../commerce/provider.ts';
import type { MediaService } from '../media/service.ts';
import type { PushSettings } from '../notifications/vapid.ts';
import type { UrlSigner } from '../media/signing.ts';
import type { PresenceReader } from '../presence/store.ts';
import type { SearchService } from '../search/backend.ts';
import type { ActionLimits } from './actionLimits.ts';
import type { EventBus } from './events.ts';
import type { Publisher } from './publisher.ts';
import type { RateLimiter, RateLimiterFactory, RevocationStore } from './stores.ts';
import type { Clock } from './time.ts';

export interface AuthSettings {
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  loginMaxFailures: number;
  loginLockoutSeconds: number;
  /** Origin used in links sent by e-mail, e.g. https://learn.example.com */
  publicUrl: string;
}

export interface ClassroomSettings {
  /** Agora project; null → video tokens answer `unavailable`. */
  agora: { appId: string; appCertificate: string } | null;
  rtcTokenTtlSeconds: number;
  /** Share of the class (0–100) a learner must attend to count as attended. */
  attendanceThresholdPercent: number;
  /** A drop shorter than this does not end an attendance interval. */
  reconnectGraceMs: number;
}

export interface CommerceSettings {
  /** Stripe when STRIPE_SECRET_KEY is set, test payments otherwise; null in production without Stripe (priced checkout answers `unavailable`). */
  provider: PaymentProvider | null;
  /** For the web's Payment Element (Stripe only). */
  publishableKey: string | null;
  /** Verifies Stripe's webhook signatures; without it the webhook endpoint answers `unavailable`. */
  webhookSecret: string | null;
  /** The platform's share of each price net of tax, 0–100. */
  platformFeePercent: number;
  /** How long a pending checkout holds its coupon use and classroom seat. */
  checkoutHoldMinutes: number;
}

export interface NotificationSettings {
  /** How long before a class starts its registered learners are reminded. */
  classReminderMinutes: number;
  /** How long after a notification the e-mail digest goes out (one per burst) if it is still unread. */
  emailNotifyDelayMinutes: number;
  /** Signs the one-click e-mail unsubscribe tokens (a secret derived from the JWT key ring; every key verifies). */
  unsubscribeSigner: UrlSigner;
}

export interface AuthLimiters {
  loginFailuresByAccount: RateLimiter;
  loginFailuresByIp: RateLimiter;
  verificationResends: RateLimiter;
}

/** Everything a domain operation may touch, handed in by the composition root (no module singletons). */
export interface Deps {
  orm: Orm;
  tokens: TokenService;
  revocations: RevocationStore;
  limiters: AuthLimiters;
  rateLimiterFactory: RateLimiterFactory;
  /** Budgets for reports, invites and new DMs, spent by the operations themselves. */
  actionLimits: ActionLimits;
  /** Reaches connected clients. Operations emit domain events instead; a feature's client listener publishes them. */
  publisher: Publisher;
  /** Domain events: emitted after commit, recorded durably inside a transaction (see events.ts). */
  events: EventBus;
  /** Who is online (Redis when clustered, in-process otherwise). */
  presence: PresenceReader;
  logger: Logger;
  auth: AuthSettings;
  classrooms: ClassroomSettings;
  /** Uploaded media: the store (local disk or S3), per-kind limits and the URL signer. */
  media: MediaService;
  commerce: CommerceSettings;
  notifications: NotificationSettings;
  /** Web push (VAPID); null when it is off (production without VAPID keys): its routes answer `unavailable`. */
  push: PushSettings | null;
  /** Explorer search: PostgreSQL, or Meilisearch with PostgreSQL as the fallback; its indexer keeps both fresh. */
  search: SearchService;
  clock: Clock;
}

/** Who is calling, as proven by a verified access token. */
export interface Actor {
  userId: string;
  sessionId: string;
  role: 'user' | 'instructor' | 'moderator' | 'admin';
}

/** Where a request came from; stored on sessions so users can recognise their devices. */
export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

export function createAuthLimiters(factory: RateLimiterFactory, auth: AuthSettings): AuthLimiters {
  return {
    loginFailuresByAccount: factory({
      keyPrefix: 'login-fail-account',
      points: auth.loginMaxFailures,
      durationSeconds: auth.loginLockoutSeconds,
      blockSeconds: auth.loginLockoutSeconds,
    }),
    // An IP may try a few accounts (shared networks), but not spray many.
    loginFailuresByIp: factory({
      keyPrefix: 'login-fail-ip',
      points: auth.loginMaxFailures * 4,
      durationSeconds: auth.loginLockoutSeconds,
      blockSeconds: auth.loginLockoutSeconds,
    }),
    verificationResends: factory({ keyPrefix: 'verify-resend', points: 3, durationSeconds: 3600 }),
  };
}
