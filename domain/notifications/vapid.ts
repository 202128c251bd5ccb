import type { Agent } from 'node:https';
import path from 'node:path';
import webpush from 'web-push';
import { loadOrCreateSharedFile } from '../shared/sharedFile.ts';

/*
 * VAPID: the key pair that identifies this server to browsers' push services. A browser subscribes with the public
 * key, and every push is signed with the private one, so all nodes of a deployment must share one pair — and keep it:
 * a new pair silently orphans every existing subscription.
 */

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

export interface PushSettings {
  vapid: VapidKeys & {
    /** Who runs this server, for the push services: `mailto:…` or an https URL. */
    subject: string;
  };
  /** How long a push service keeps a push for a device that is offline. */
  ttlSeconds: number;
  /** How long one request to a push service may take. */
  timeoutMs: number;
  /** For requests to push services (a private CA, a proxy); tests trust their loopback push service through it. */
  agent?: Agent;
  /**
   * Endpoints on private, loopback or link-local hosts are accepted (development and tests). Off in production:
   * subscribing refuses them and sending goes through an agent that refuses private DNS answers (pushTargets.ts).
   */
  allowPrivateEndpoints: boolean;
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Whether a base64url string decodes to `bytes` bytes (VAPID: a 65-byte uncompressed P-256 point, a 32-byte scalar). */
export function isBase64UrlOfLength(value: string, bytes: number): boolean {
  return BASE64URL.test(value) && Buffer.from(value, 'base64url').length === bytes;
}

export const isVapidPublicKey = (value: string) => isBase64UrlOfLength(value, 65);
export const isVapidPrivateKey = (value: string) => isBase64UrlOfLength(value, 32);

const DEV_VAPID_FILE = 'vapid-keys.json';

/**
 * The development key pair in DATA_DIR/vapid-keys.json, generated on first start (the JWT key ring's pattern): it is
 * published with an exclusive create, so of several nodes starting together on one DATA_DIR the first decides and the
 * others read its pair; later starts keep it, so browsers' subscriptions survive restarts.
 */
export async function loadOrCreateDevVapidKeys(dataDir: string): Promise<{ keys: VapidKeys; created: boolean }> {
  const file = path.join(dataDir, DEV_VAPID_FILE);
  const { value, created } = await loadOrCreateSharedFile<VapidKeys>(file, {
    parse: (text) => {
      const keys = JSON.parse(text) as Partial<VapidKeys>;
      const valid = typeof keys.publicKey === 'string' && typeof keys.privateKey === 'string' && isVapidPublicKey(keys.publicKey) && isVapidPrivateKey(keys.privateKey);
      return valid ? { publicKey: keys.publicKey!, privateKey: keys.privateKey! } : null;
    },
    generate: () => {
      const generated = webpush.generateVAPIDKeys();
      return { publicKey: generated.publicKey, privateKey: generated.privateKey };
    },
    unreadable: `${file} is not a valid VAPID key pair. Delete it to generate a new one (devices subscribe again), or set VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY.`,
  });
  return { keys: value, created };
}
