/**
 * Edulure's service worker: desktop notifications only. It shows each web push (a PushPayload) as a notification and,
 * on a click, brings an open Edulure tab to where the notification leads, or opens one. It has no fetch handler, so
 * it never stands between the pages and the network.
 *
 * The project type-checks against the DOM library, so the few worker types used here are declared locally rather
 * than pulling in the conflicting WebWorker library.
 */
import type { PushPayload } from '$contracts/notifications.ts';

interface ExtendableEvent extends Event {
  waitUntil(work: Promise<unknown>): void;
}
interface PushEvent extends ExtendableEvent {
  readonly data: { json(): unknown; text(): string } | null;
}
interface NotificationEvent extends ExtendableEvent {
  readonly notification: Notification;
}
interface WindowClient {
  readonly url: string;
  focus(): Promise<WindowClient>;
  navigate(url: string): Promise<WindowClient | null>;
}
interface WorkerScope {
  readonly registration: ServiceWorkerRegistration;
  readonly location: Location;
  readonly clients: {
    matchAll(options: { type: 'window'; includeUncontrolled: boolean }): Promise<WindowClient[]>;
    openWindow(url: string): Promise<WindowClient | null>;
    claim(): Promise<void>;
  };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'push', listener: (event: PushEvent) => void): void;
  addEventListener(type: 'notificationclick', listener: (event: NotificationEvent) => void): void;
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void;
}

const worker = self as unknown as WorkerScope;

/** A payload from our server, or a plain notification when it cannot be read (a push must always show something). */
function payloadOf(event: PushEvent): PushPayload {
  const fallback: PushPayload = { id: '', title: 'Edulure', body: 'You have a new notification.', url: '/app/notifications' };
  try {
    const data = event.data?.json() as Partial<PushPayload> | undefined;
    if (!data || typeof data.title !== 'string') return fallback;
    return {
      id: typeof data.id === 'string' ? data.id : '',
      title: data.title,
      body: typeof data.body === 'string' ? data.body : '',
      url: typeof data.url === 'string' ? data.url : fallback.url,
    };
  } catch {
    return fallback;
  }
}

/** Only places inside this app: a payload cannot send a click to another site. */
function appUrl(url: string): string {
  const target = new URL(url, worker.location.origin);
  return target.origin === worker.location.origin ? target.href : new URL('/app/notifications', worker.location.origin).href;
}

// A new version takes over at once: there is no cached state that an older page could depend on.
worker.addEventListener('install', (event) => event.waitUntil(worker.skipWaiting()));
worker.addEventListener('activate', (event) => event.waitUntil(worker.clients.claim()));

worker.addEventListener('push', (event) => {
  const payload = payloadOf(event);
  event.waitUntil(
    worker.registration.showNotification(payload.title, {
      body: payload.body,
      icon: '/favicon.svg',
      // The same notification pushed again (an aggregated one updated) replaces the one on screen.
      tag: payload.id || undefined,
      data: { url: payload.url },
    }),
  );
});

worker.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data as { url?: unknown } | null;
  const url = appUrl(typeof data?.url === 'string' ? data.url : '/app/notifications');
  event.waitUntil(
    (async () => {
      const tabs = await worker.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const tab = tabs.find((t) => new URL(t.url).pathname.startsWith('/app')) ?? tabs[0];
      // navigate() works only for tabs this worker controls (all of them once it has claimed them); otherwise a new
      // window is the way there.
      const moved = tab ? await tab.navigate(url).catch(() => null) : null;
      if (moved) {
        await moved.focus().catch(() => undefined);
        return;
      }
      await worker.clients.openWindow(url);
    })(),
  );
});
