import { dev } from '$app/environment';
import type { ErrorBody } from '$contracts/errors.ts';
import type { VapidKeyDto } from '$contracts/notifications.ts';

/**
 * unsupported: this browser has no web push; denied: the person (or the browser) refused notifications for this
 * site; off / on: whether this device is subscribed; unknown: not checked yet (server render).
 */
export type PushState = 'unknown' | 'unsupported' | 'denied' | 'off' | 'on';

const SERVICE_WORKER = '/service-worker.js';
const ENDPOINT = '/app/notifications/push';

export function pushSupported(): boolean {
  return typeof window !== 'undefined' && 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;
}

/** The VAPID key as the bytes `applicationServerKey` takes. */
function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(base64url.length / 4) * 4, '=');
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function call<T>(method: 'GET' | 'POST' | 'DELETE', body?: unknown): Promise<{ ok: true; data: T } | { ok: false; message: string }> {
  try {
    const response = await fetch(ENDPOINT, {
      method,
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
    const payload: unknown = response.status === 204 ? undefined : await response.json().catch(() => undefined);
    if (response.ok) return { ok: true, data: payload as T };
    const error = (payload as { error?: ErrorBody } | undefined)?.error;
    return { ok: false, message: error?.message || `The request failed (HTTP ${response.status}).` };
  } catch {
    return { ok: false, message: 'Edulure is not reachable right now.' };
  }
}

/**
 * Desktop notifications on this device: asks the browser's permission only when the person asks for them, then
 * registers the service worker, subscribes with the server's VAPID key and stores the subscription; turning them off
 * unsubscribes and forgets it on the server.
 */
export class PushDevice {
  state = $state<PushState>('unknown');
  busy = $state(false);
  /** Why the last attempt did not work, in words for the person. */
  error = $state<string | null>(null);
  /** What the last attempt did, when it worked. */
  notice = $state<string | null>(null);

  /** Reads this device's state (browser only). */
  async check(): Promise<void> {
    if (!pushSupported()) {
      this.state = 'unsupported';
      return;
    }
    if (Notification.permission === 'denied') {
      this.state = 'denied';
      return;
    }
    const subscription = await this.#subscription();
    this.state = subscription && Notification.permission === 'granted' ? 'on' : 'off';
  }

  async enable(): Promise<void> {
    if (this.busy) return;
    if (!pushSupported()) {
      this.state = 'unsupported';
      return;
    }
    this.busy = true;
    this.error = null;
    this.notice = null;
    try {
      const permission = await Notification.requestPermission();
      if (permission === 'denied') {
        this.state = 'denied';
        return;
      }
      if (permission !== 'granted') {
        this.error = 'Desktop notifications need your permission. Try again and choose "Allow".';
        return;
      }
      const key = await call<VapidKeyDto>('GET');
      if (!key.ok) {
        this.error = `Desktop notifications are not available right now: ${key.message}`;
        return;
      }
      await navigator.serviceWorker.register(SERVICE_WORKER, { type: dev ? 'module' : 'classic' });
      const registration = await navigator.serviceWorker.ready;
      let subscription: PushSubscription;
      try {
        subscription =
          (await registration.pushManager.getSubscription()) ??
          (await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key.data.publicKey) }));
      } catch {
        this.error =
          "This browser could not reach its push service, so desktop notifications can't be turned on here. " +
          'Check your connection, or try another browser.';
        this.state = 'off';
        return;
      }
      const stored = await call('POST', subscription.toJSON());
      if (!stored.ok) {
        await subscription.unsubscribe().catch(() => false);
        this.error = `Desktop notifications could not be turned on: ${stored.message}`;
        this.state = 'off';
        return;
      }
      this.state = 'on';
      this.notice = 'Desktop notifications are on for this device.';
    } catch {
      this.error = 'Desktop notifications could not be turned on in this browser.';
    } finally {
      this.busy = false;
    }
  }

  async disable(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.error = null;
    this.notice = null;
    try {
      const subscription = await this.#subscription();
      if (subscription) {
        const { endpoint } = subscription;
        await subscription.unsubscribe();
        const removed = await call('DELETE', { endpoint });
        // The browser no longer holds it; the server drops it by itself at the next push it cannot deliver.
        if (!removed.ok) this.error = `This device is unsubscribed, but the server could not be told: ${removed.message}`;
      }
      this.state = 'off';
      if (!this.error) this.notice = 'Desktop notifications are off for this device.';
    } catch {
      this.error = 'Desktop notifications could not be turned off in this browser.';
    } finally {
      this.busy = false;
    }
  }

  async #subscription(): Promise<PushSubscription | null> {
    const registration = await navigator.serviceWorker.getRegistration().catch(() => undefined);
    return (await registration?.pushManager.getSubscription().catch(() => null)) ?? null;
  }
}
