import { createHmac, timingSafeEqual } from 'node:crypto';

/** Signs and checks asset URLs with HMAC-SHA256. The first secret signs; every secret verifies (rotation). */
export interface UrlSigner {
  sign(message: string): string;
  verify(message: string, signature: string): boolean;
}

const LABEL = 'edulure asset urls v1';

/**
 * The URL secrets from secrets every node of a cluster already shares: ASSET_URL_SECRET when set, else the JWT key
 * ring (JWT_KEYS, or the development ring in DATA_DIR). Each is passed through HMAC with a label, so the value that
 * signs URLs is never the one that signs tokens, and rotating the JWT ring rotates these along with it.
 */
export function deriveUrlSecrets(sharedSecrets: readonly string[]): Buffer[] {
  if (sharedSecrets.length === 0) throw new Error('asset URLs need at least one secret');
  return sharedSecrets.map((secret) => createHmac('sha256', secret).update(LABEL).digest());
}

export function createUrlSigner(secrets: readonly Buffer[]): UrlSigner {
  const mac = (secret: Buffer, message: string) => createHmac('sha256', secret).update(message).digest();
  return {
    sign: (message) => mac(secrets[0]!, message).toString('base64url'),
    verify(message, signature) {
      const given = Buffer.from(signature, 'base64url');
      // base64url decoding ignores stray characters; insist the signature is exactly what we would have written.
      if (given.length !== 32 || given.toString('base64url') !== signature) return false;
      return secrets.some((secret) => timingSafeEqual(mac(secret, message), given));
    },
  };
}
