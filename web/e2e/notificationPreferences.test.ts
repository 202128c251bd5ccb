import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectionStatus,
  haveChromium,
  reportMissingChromium,
  seriousA11yViolations,
  signedInApi,
  signIn,
  startProduct,
  uniqueEmail,
  type Product,
} from './harness.ts';

reportMissingChromium('the notification preferences and desktop notifications journey');

const LIVE = { timeout: 15_000 };

interface Preferences {
  kinds: Record<string, { inApp: boolean; email: boolean; push: boolean }>;
  mutedCommunityIds: string[];
  quietStart: number | null;
  quietEnd: number | null;
  timeZone: string;
  emailUnsubscribed: boolean;
}

describe.skipIf(!haveChromium)('notification preferences and desktop notifications in a real browser', () => {
  let product: Product;

  beforeAll(async () => {
    product = await startProduct();
  });

  afterAll(async () => {
    await product?.close();
  });

  it('saves kinds, a muted community and quiet hours in the browser’s time zone; they are there after a reload', async () => {
    const stamp = Date.now().toString(36);
    const email = uniqueEmail('pia');
    const pia = await signedInApi(product.baseUrl, email, 'Pia Prefs');
    const { community } = await pia<{ community: { id: string } }>('POST', '/communities', { name: `Quiet ${stamp}`, visibility: 'private' });
    // She unsubscribed from e-mail through a digest's link earlier.
    await pia('PUT', '/me/notification-preferences', { emailUnsubscribed: true });

    const { context, page } = await product.newDevice({ timezoneId: 'Asia/Tokyo' });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    try {
      await signIn(page, product.baseUrl, email);
      await page.goto('/app/notifications');
      await page.getByRole('link', { name: 'Preferences' }).click();
      await page.waitForURL(/\/app\/notifications\/preferences$/);
      await page.getByRole('heading', { name: 'Notification preferences' }).waitFor();

      // Real checkboxes named by kind and channel; the defaults the server filled in.
      const dmEmail = page.getByRole('checkbox', { name: 'Direct messages: E-mail' });
      const reactionPush = page.getByRole('checkbox', { name: 'Reactions to my messages: Desktop' });
      const followerInApp = page.getByRole('checkbox', { name: 'Someone follows me: In the app' });
      expect(await dmEmail.isChecked()).toBe(true);
      expect(await reactionPush.isChecked()).toBe(true);
      expect(await followerInApp.isChecked()).toBe(true);
      // No quiet hours yet: the time zone offered is this browser's.
      const zone = page.getByLabel('Time zone', { exact: true });
      await expect.poll(() => zone.inputValue(), LIVE).toBe('Asia/Tokyo');
      expect(await seriousA11yViolations(page)).toEqual([]);

      await dmEmail.uncheck();
      await reactionPush.uncheck();
      await followerInApp.uncheck();
      await page.getByRole('checkbox', { name: `Mute Quiet ${stamp}` }).check();
      await page.getByLabel('From', { exact: true }).fill('22:30');
      await page.getByLabel('Until', { exact: true }).fill('07:00');
      await page.getByRole('button', { name: 'Save preferences' }).click();
      await page.getByTestId('preferences-saved').waitFor(LIVE);

      const stored = await pia<Preferences>('GET', '/me/notification-preferences');
      expect(stored.kinds.dm).toEqual({ inApp: true, email: false, push: true });
      expect(stored.kinds.reaction).toEqual({ inApp: true, email: false, push: false });
      expect(stored.kinds.new_follower?.inApp).toBe(false);
      expect(stored.mutedCommunityIds).toEqual([community.id]);
      expect([stored.quietStart, stored.quietEnd, stored.timeZone]).toEqual([22 * 60 + 30, 7 * 60, 'Asia/Tokyo']);

      await page.reload();
      await page.getByRole('heading', { name: 'Notification preferences' }).waitFor();
      expect(await dmEmail.isChecked()).toBe(false);
      expect(await reactionPush.isChecked()).toBe(false);
      expect(await followerInApp.isChecked()).toBe(false);
      expect(await page.getByRole('checkbox', { name: 'Direct messages: In the app' }).isChecked()).toBe(true);
      expect(await page.getByRole('checkbox', { name: `Mute Quiet ${stamp}` }).isChecked()).toBe(true);
      expect(await page.getByLabel('From', { exact: true }).inputValue()).toBe('22:30');
      expect(await page.getByLabel('Until', { exact: true }).inputValue()).toBe('07:00');
      expect(await zone.inputValue()).toBe('Asia/Tokyo');

      // Half a quiet-hours range is refused beside the field, and nothing changes.
      await page.getByLabel('Until', { exact: true }).fill('');
      await page.getByRole('button', { name: 'Save preferences' }).click();
      await page.getByText('Quiet hours need an end as well as a start.').waitFor(LIVE);
      expect(await page.getByRole('alert').filter({ hasText: 'Check the highlighted fields' }).count()).toBe(1);
      expect((await pia<Preferences>('GET', '/me/notification-preferences')).quietEnd).toBe(7 * 60);

      // E-mail is off after the unsubscribe; one button turns it back on.
      await page.getByRole('heading', { name: 'E-mail is off' }).waitFor();
      await page.getByRole('button', { name: 'Send me notification e-mails again' }).click();
      await page.getByText('Notification e-mails are back on.').waitFor(LIVE);
      expect(await page.getByRole('heading', { name: 'E-mail is off' }).count()).toBe(0);
      expect((await pia<Preferences>('GET', '/me/notification-preferences')).emailUnsubscribed).toBe(false);

      expect(await seriousA11yViolations(page)).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);

  it('asks for permission only on the click, then the service worker shows a delivered push', async () => {
    const email = uniqueEmail('quin');
    await signedInApi(product.baseUrl, email, 'Quin Push');
    const { context, page } = await product.newDevice();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    try {
      await signIn(page, product.baseUrl, email);
      await expect.poll(() => connectionStatus(page).textContent(), LIVE).toBe('connected');
      // Nothing was asked on the way in.
      expect(await page.evaluate(() => Notification.permission)).toBe('default');

      // The bell offers desktop notifications once; "Not now" puts the offer away for good.
      const bell = page.getByTestId('notification-bell');
      await bell.click();
      const offer = page.getByRole('dialog').getByRole('region', { name: 'Desktop notifications' });
      await offer.getByRole('button', { name: 'Enable desktop notifications' }).waitFor(LIVE);
      await offer.getByRole('button', { name: 'Not now' }).click();
      expect(await offer.count()).toBe(0);
      await page.reload();
      await bell.click();
      await page.getByRole('dialog').getByRole('link', { name: 'See all notifications' }).waitFor(LIVE);
      expect(await offer.count()).toBe(0);
      expect(await page.evaluate(() => Notification.permission)).toBe('default');
      await page.keyboard.press('Escape');

      await page.goto('/app/notifications/preferences');

      await context.grantPermissions(['notifications'], { origin: product.baseUrl });
      await page.getByRole('button', { name: 'Enable desktop notifications' }).click();
      // This machine's Chromium has no push service to reach: either it subscribed (the server stored it) or it says why.
      const on = page.getByRole('button', { name: 'Turn off on this device' });
      const failed = page.getByTestId('push-error');
      await expect.poll(async () => (await on.count()) + (await failed.count()), LIVE).toBe(1);
      if ((await failed.count()) > 0) {
        expect(await failed.textContent()).toContain("This browser could not reach its push service, so desktop notifications can't be turned on here.");
      }

      // Where the browser can subscribe, the subscription goes to the server through this page's session, and back out.
      const subscription = {
        endpoint: `https://push.example.test/send/${crypto.randomUUID()}`,
        expirationTime: null,
        keys: { p256dh: `B${'A'.repeat(86)}`, auth: 'A'.repeat(22) },
      };
      const stored = await page.evaluate(async (body) => {
        const send = (method: string, payload: unknown) =>
          fetch('/app/notifications/push', { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
        const key = await fetch('/app/notifications/push').then((r) => r.json() as Promise<{ publicKey: string }>);
        const added = await send('POST', body);
        const removed = await send('DELETE', { endpoint: body.endpoint });
        return { key: key.publicKey.length > 80, added: added.status, removed: removed.status };
      }, subscription);
      expect(stored).toEqual({ key: true, added: 201, removed: 204 });

      // The service worker is registered; a push delivered to it shows as a desktop notification.
      const cdp = await context.newCDPSession(page);
      const registrationId = new Promise<string>((resolve) => {
        cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations }) => {
          const ours = registrations.find((r) => r.scopeURL === `${product.baseUrl}/` && !r.isDeleted);
          if (ours) resolve(ours.registrationId);
        });
      });
      await cdp.send('ServiceWorker.enable');
      await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
      const payload = { id: crypto.randomUUID(), title: 'Ada mentioned you', body: 'Morning, the notes are up', url: '/app/notifications' };
      await cdp.send('ServiceWorker.deliverPushMessage', {
        origin: product.baseUrl,
        registrationId: await registrationId,
        data: JSON.stringify(payload),
      });
      await expect
        .poll(
          () =>
            page.evaluate(async () => {
              const registration = await navigator.serviceWorker.ready;
              return (await registration.getNotifications()).map((n) => ({ title: n.title, body: n.body, icon: n.icon }));
            }),
          LIVE,
        )
        .toEqual([{ title: payload.title, body: payload.body, icon: `${product.baseUrl}/favicon.svg` }]);

      // Clicking it brings this tab to where the notification leads.
      const [worker] = context.serviceWorkers();
      expect(worker).toBeDefined();
      await worker!.evaluate(async () => {
        const scope = self as unknown as {
          registration: ServiceWorkerRegistration;
          NotificationEvent: new (type: string, init: { notification: Notification }) => Event;
        };
        const [shown] = await scope.registration.getNotifications();
        self.dispatchEvent(new scope.NotificationEvent('notificationclick', { notification: shown! }));
      });
      await page.waitForURL(`${product.baseUrl}/app/notifications`, LIVE);
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 120_000);
});
