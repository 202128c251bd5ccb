import { randomBytes } from 'node:crypto';
import { link, open, readFile, rm } from 'node:fs/promises';
import type { Agent } from 'node:https';
import path from 'node:path';
import webpush from 'web-push';

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
const UNREADABLE_ATTEMPTS = 40;
const UNREADABLE_RETRY_MS = 50;

/**
 * The development key pair in DATA_DIR/vapid-keys.json, generated on first start (the JWT key ring's pattern): it is
 * published with an exclusive create, so of several nodes starting together on one DATA_DIR the first decides and the
 * others read its pair; later starts keep it, so browsers' subscriptions survive restarts.
 */
export async function loadOrCreateDevVapidKeys(dataDir: string): Promise<{ keys: VapidKeys; created: boolean }> {
  const file = path.join(dataDir, DEV_VAPID_FILE);
  for (let unreadable = 0; ; ) {
    const found = await readVapidFile(file);
    if (typeof found === 'object') return { keys: found, created: false };
    if (found === 'missing') {
      const generated = webpush.generateVAPIDKeys();
      const keys: VapidKeys = { publicKey: generated.publicKey, privateKey: generated.privateKey };
      if (await createExclusively(file, JSON.stringify(keys, null, 2))) return { keys, created: true };
      continue; // another node published its pair first
    }
    if (++unreadable >= UNREADABLE_ATTEMPTS) {
      throw new Error(`${file} is not a valid VAPID key pair. Delete it to generate a new one (devices subscribe again), or set VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY.`);
    }
    await new Promise((resolve) => setTimeout(resolve, UNREADABLE_RETRY_MS));
  }
}

async function readVapidFile(file: string): Promise<VapidKeys | 'missing' | 'unreadable'> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  try {
    const keys = JSON.parse(text) as Partial<VapidKeys>;
    if (typeof keys.publicKey === 'string' && typeof keys.privateKey === 'string' && isVapidPublicKey(keys.publicKey) && isVapidPrivateKey(keys.privateKey)) {
      return { publicKey: keys.publicKey, privateKey: keys.privateKey };
    }
  } catch {
    // not JSON (yet)
  }
  return 'unreadable';
}

/**
 * Creates `file` (0600) with `contents` unless it exists; false when it does. Written whole to a private temporary file
 * and hard-linked into place, so readers never see half a file and exactly one racing creator wins.
 */
async function createExclusively(file: string, contents: string): Promise<boolean> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(contents, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(temp, file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  } finally {
    await rm(temp, { force: true });
  }
}
