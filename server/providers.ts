/**
 * What the environment names for a node: media storage, web push, the payment provider, external search, and the
 * signer of e-mail unsubscribe links (server/node.ts composes the node from them).
 */
import { createHmac } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { API_PREFIX } from '../api/app.ts';
import type { PaymentProvider } from '../domain/commerce/provider.ts';
import { createStripeProvider } from '../domain/commerce/stripeProvider.ts';
import { createTestProvider } from '../domain/commerce/testProvider.ts';
import type { JwtKey } from '../domain/auth/tokens.ts';
import { createS3Storage } from '../domain/media/s3Storage.ts';
import { createMediaService, type MediaService } from '../domain/media/service.ts';
import { createLocalStorage, type AssetStorage } from '../domain/media/storage.ts';
import { createUrlSigner, type UrlSigner } from '../domain/media/signing.ts';
import { loadOrCreateDevVapidKeys, type PushSettings } from '../domain/notifications/vapid.ts';
import type { Clock } from '../domain/shared/time.ts';
import { createMeiliSearch } from '../domain/search/meili.ts';
import type { ExternalIndex, SearchBackend } from '../domain/search/backend.ts';
import type { Orm } from '../orm/database.ts';
import type { Env } from './env.ts';

/** Signs e-mail unsubscribe tokens with secrets derived (labelled HMAC) from the JWT key ring every node shares. */
export function unsubscribeSigner(jwtKeys: JwtKey[]): UrlSigner {
  return createUrlSigner(jwtKeys.map((k) => createHmac('sha256', k.secret).update('edulure email unsubscribe v1').digest()));
}

/**
 * Media storage from the environment: an S3-compatible bucket when S3_BUCKET is set, else local disk under
 * DATA_DIR/assets. URLs are signed with ASSET_URL_SECRET or, by default, a secret derived from the JWT key ring, which
 * every node of a cluster already shares.
 */
export function mediaService(env: Env, jwtKeys: JwtKey[]): MediaService {
  const dataDir = path.resolve(env.DATA_DIR);
  return createMediaService({
    storage: assetStorageFor(env),
    maxBytes: env.ASSET_MAX_BYTES,
    imageMaxBytes: env.ASSET_IMAGE_MAX_BYTES,
    sharedSecrets: env.ASSET_URL_SECRET ? [env.ASSET_URL_SECRET] : jwtKeys.map((k) => k.secret),
    urlTtlSeconds: env.ASSET_URL_TTL_SECONDS,
    urlPrefix: `${API_PREFIX}/assets`,
    tempDir: path.join(dataDir, 'tmp', 'uploads'),
  });
}

/** The asset storage the environment names: the S3-compatible bucket when S3_BUCKET is set, else DATA_DIR/assets. */
export function assetStorageFor(env: Env): AssetStorage {
  if (!env.S3_BUCKET) return createLocalStorage(path.join(path.resolve(env.DATA_DIR), 'assets'));
  return createS3Storage({
    bucket: env.S3_BUCKET,
    region: env.S3_REGION,
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    ...(env.S3_ENDPOINT ? { endpoint: env.S3_ENDPOINT } : {}),
    ...(env.S3_ACCESS_KEY_ID && env.S3_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY } }
      : {}),
  });
}

/**
 * Meilisearch when MEILI_URL is set: its settings are applied and waited for here; if it cannot be reached at start,
 * the node still starts (search answers from PostgreSQL and readiness says degraded until it answers).
 */
export async function externalSearch(
  env: Env,
  deps: { orm: Orm; clock: Clock; logger: Logger },
): Promise<{ backend: SearchBackend; index: ExternalIndex } | null> {
  if (!env.MEILI_URL) return null;
  const meili = createMeiliSearch(deps, { url: env.MEILI_URL, apiKey: env.MEILI_API_KEY, indexName: env.MEILI_INDEX });
  try {
    await meili.index.prepare();
    deps.logger.info({ index: env.MEILI_INDEX }, 'Meilisearch ready; PostgreSQL is the fallback');
  } catch (err) {
    deps.logger.warn({ err: String(err) }, 'Meilisearch is not ready; searching PostgreSQL until it answers');
  }
  return meili;
}

/**
 * Web push from the environment: VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY when set; otherwise, outside production, a pair
 * generated once and kept in DATA_DIR (every node on that DATA_DIR signs with it); in production without keys, off.
 */
export async function pushSettings(env: Env, logger: Logger): Promise<PushSettings | null> {
  const subject = env.VAPID_SUBJECT ?? 'mailto:push@edulure.invalid';
  const common = { ttlSeconds: 24 * 3600, timeoutMs: 10_000, allowPrivateEndpoints: env.NODE_ENV !== 'production' };
  if (env.VAPID_PUBLIC_KEY && env.VAPID_PRIVATE_KEY) {
    return { vapid: { subject, publicKey: env.VAPID_PUBLIC_KEY, privateKey: env.VAPID_PRIVATE_KEY }, ...common };
  }
  if (env.NODE_ENV === 'production') {
    logger.warn('web push is off: set VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY and VAPID_SUBJECT to turn it on');
    return null;
  }
  const dataDir = path.resolve(env.DATA_DIR);
  await mkdir(dataDir, { recursive: true });
  const { keys, created } = await loadOrCreateDevVapidKeys(dataDir);
  if (created) logger.info({ dataDir }, 'generated a development VAPID key pair (set VAPID_* in production)');
  return { vapid: { subject, ...keys }, ...common };
}

/**
 * The payment provider the environment names: Stripe when STRIPE_SECRET_KEY is set; otherwise test payments, except
 * in production, where nothing priced can be bought until Stripe is configured.
 */
export function paymentProvider(env: Env, clock: Clock): PaymentProvider | null {
  if (env.STRIPE_SECRET_KEY) {
    return createStripeProvider({ secretKey: env.STRIPE_SECRET_KEY, ...(env.STRIPE_API_URL ? { apiUrl: env.STRIPE_API_URL } : {}) });
  }
  return env.NODE_ENV === 'production' ? null : createTestProvider(clock);
}
