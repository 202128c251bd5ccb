import type { AssetKind } from '../../contracts/media.ts';
import { createUrlSigner, deriveUrlSecrets, type UrlSigner } from './signing.ts';
import type { AssetStorage } from './storage.ts';

/** Everything the media operations need, built once per node by the composition root (Deps.media). */
export interface MediaService {
  storage: AssetStorage;
  /** Largest accepted upload per kind, in bytes. */
  limits: Record<AssetKind, number>;
  /** The largest of `limits`: the cap while an upload's kind is not known yet. */
  maxUploadBytes: number;
  /** Images larger than this many pixels are refused before decoding (decompression bombs). */
  maxImagePixels: number;
  signer: UrlSigner;
  /** Lifetime of a signed content URL. */
  urlTtlSeconds: number;
  /** Path prefix of the content routes, e.g. `/api/v1/assets`. */
  urlPrefix: string;
  /** Uploads are spooled here (DATA_DIR/tmp/uploads) while they are checked and processed. */
  tempDir: string;
  /** A pending upload (and a spooled temp file) older than this is abandoned; the clean-up job removes it. */
  pendingMaxAgeMs: number;
  /** A ready asset never attached to anything is removed after this. */
  unattachedMaxAgeMs: number;
  /** How often the clean-up job runs. */
  cleanupIntervalMs: number;
}

export interface MediaSettings {
  storage: AssetStorage;
  maxBytes: number;
  imageMaxBytes: number;
  /** Secrets every node shares (ASSET_URL_SECRET, else the JWT key ring); see signing.ts. */
  sharedSecrets: readonly string[];
  urlTtlSeconds: number;
  urlPrefix: string;
  tempDir: string;
  maxImagePixels?: number;
  pendingMaxAgeMs?: number;
  unattachedMaxAgeMs?: number;
  cleanupIntervalMs?: number;
}

const HOUR = 3_600_000;

export function createMediaService(settings: MediaSettings): MediaService {
  const image = Math.min(settings.imageMaxBytes, settings.maxBytes);
  const limits: Record<AssetKind, number> = {
    image,
    video: settings.maxBytes,
    audio: settings.maxBytes,
    pdf: settings.maxBytes,
    epub: settings.maxBytes,
    file: settings.maxBytes,
  };
  return {
    storage: settings.storage,
    limits,
    maxUploadBytes: Math.max(...Object.values(limits)),
    maxImagePixels: settings.maxImagePixels ?? 50_000_000,
    signer: createUrlSigner(deriveUrlSecrets(settings.sharedSecrets)),
    urlTtlSeconds: settings.urlTtlSeconds,
    urlPrefix: settings.urlPrefix,
    tempDir: settings.tempDir,
    pendingMaxAgeMs: settings.pendingMaxAgeMs ?? 3 * HOUR,
    unattachedMaxAgeMs: settings.unattachedMaxAgeMs ?? 24 * HOUR,
    cleanupIntervalMs: settings.cleanupIntervalMs ?? HOUR,
  };
}
