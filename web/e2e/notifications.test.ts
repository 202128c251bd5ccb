import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  channelMessage,
  connectionStatus,
  haveChromium,
  reportMissingChromium,
  seriousA11yViolations,
  signedInApi,
  signIn,
  startProduct,
  uniqueEmail,
  waitForChannel,
  type Product,
} from './harness.ts';

reportMissingChromium('the notification centre journey');

/** Live updates normally land in milliseconds; the margin is for a loaded CI machine (and the notification job). */
const LIVE = { timeout: 15_000 };

describe.skipIf(!haveChromium)('the notification centre in real browsers', () => {
  let product: Product;

  beforeAll(async () => {
    product = await startProduct();
  });

  afterAll(async () => {
    await product?.close();
  });

  it('a mention lights the bell and the tab title live; following it shows the message and clears the badge', async () => {
    const stamp = Date.now().toString(36);
    const adaEmail = uniqueEmail('ada');
    const beaEmail = uniqueEmail('bea');
    const beaName = `Bea ${stamp}`;
    const ada = await signedInApi(product.baseUrl, adaEmail, 'Ada Author');
    const bea = await signedInApi(product.baseUrl, beaEmail, beaName);
    const { community } = await ada<{ community: { id: string } }>('POST', '/communities', { name: `Bells ${stamp}`, visibility: 'public' });
    const { channel } = await ada<{ channel: { id: string } }>('POST', `/communities/${community.id}/channels`, { name: 'general' });
    await bea('POST', `/communities/${community.id}/join`);
    const channelPath = `/app/c/${community.id}/${channel.id}`;

    const adaDevice = await product.newDevice();
    // A short window, so the channel scrolls and the mentioned message starts out of view.
    const beaDevice = await product.newDevice({ viewport: { width: 900, height: 560 } });
    const pageErrors: string[] = [];
    for (const { page } of [adaDevice, beaDevice]) page.on('pageerror', (err) => pageErrors.push(err.message));
    try {
      await signIn(adaDevice.page, product.baseUrl, adaEmail);
      await signIn(beaDevice.page, product.baseUrl, beaEmail);

      // Bea is elsewhere in the app, connected, with nothing unread.
      const bell = beaDevice.page.getByTestId('notification-bell');
      const badge = beaDevice.page.getByTestId('notification-badge');
      await beaDevice.page.goto('/app/courses');
      await expect.poll(() => connectionStatus(beaDevice.page).textContent(), LIVE).toBe('connected');
      expect(await badge.count()).toBe(0);
      expect(await beaDevice.page.title()).not.toMatch(/^\(\d+\)/);

      // Ada mentions her in the channel.
      await adaDevice.page.goto(channelPath);
      await waitForChannel(adaDevice.page);
      const composer = adaDevice.page.getByRole('textbox', { name: 'Message #general' });
      await composer.fill(`Morning @${beaName}, the notes are up`);
      await composer.press('Enter');
      // Older messages, so the mentioned one is not simply the newest at the bottom.
      for (let i = 1; i <= 8; i++) {
        await composer.fill(`Filler line ${i}: ${'and then some more words about the notes '.repeat(6)}`);
        await composer.press('Enter');
        await channelMessage(adaDevice.page, `Filler line ${i}:`).waitFor(LIVE);
      }

      // Without a reload: the badge says 1 and so does the tab title.
      await expect.poll(() => badge.textContent(), LIVE).toBe('1');
      await expect.poll(() => beaDevice.page.title(), LIVE).toMatch(/^\(1\) /);
      expect(await bell.getAttribute('aria-label')).toBe('Notifications, 1 unread');

      // The bell opens the recent notifications; following one lands on the message, in view and highlighted.
      await bell.click();
      const item = beaDevice.page.getByRole('dialog').getByTestId('notification');
      await item.first().waitFor(LIVE);
      expect(await item.count()).toBe(1);
      expect(await item.first().textContent()).toContain('Ada Author');
      await item.first().click();
      await beaDevice.page.waitForURL(new RegExp(`${channelPath}\\?message=[0-9a-f-]{36}$`), LIVE);
      await waitForChannel(beaDevice.page);
      const mentioned = channelMessage(beaDevice.page, `Morning @${beaName}`);
      await expect.poll(() => mentioned.getAttribute('aria-current'), LIVE).toBe('true');
      await expect.poll(() => mentioned.evaluate((el) => {
        const box = el.getBoundingClientRect();
        const list = el.closest('[role="log"]')!.getBoundingClientRect();
        return box.top >= list.top && box.bottom <= list.bottom;
      }), LIVE).toBe(true);

      // Read now: the badge and the title's count are gone.
      await expect.poll(() => badge.count(), LIVE).toBe(0);
      await expect.poll(() => beaDevice.page.title(), LIVE).not.toMatch(/^\(\d+\)/);

      // The full page lists it as read and passes axe.
      await beaDevice.page.goto('/app/notifications');
      const listed = beaDevice.page.getByRole('list', { name: 'All notifications' }).getByTestId('notification');
      await listed.first().waitFor(LIVE);
      expect(await listed.first().getAttribute('data-unread')).toBe('false');
      expect(await seriousA11yViolations(beaDevice.page)).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await adaDevice.context.close();
      await beaDevice.context.close();
    }
  }, 120_000);

  it('a comment on my post notifies me; following it opens the feed at that post, even one older than the first page', async () => {
    const stamp = Date.now().toString(36);
    const adaEmail = uniqueEmail('ada');
    const beaEmail = uniqueEmail('bea');
    const ada = await signedInApi(product.baseUrl, adaEmail, 'Ada Commenter');
    const bea = await signedInApi(product.baseUrl, beaEmail, `Bea ${stamp}`);
    const { community } = await bea<{ community: { id: string } }>('POST', '/communities', { name: `Posts ${stamp}`, visibility: 'public' });
    await ada('POST', `/communities/${community.id}/join`);
    const { post } = await bea<{ post: { id: string } }>('POST', `/communities/${community.id}/posts`, { kind: 'text', body: `Reading list ${stamp}` });
    // Newer posts push it off the feed's first page.
    for (let i = 1; i <= 21; i++) await bea('POST', `/communities/${community.id}/posts`, { kind: 'text', body: `Later post ${i}` });
    await ada('POST', `/posts/${post.id}/comments`, { body: 'Adding two more titles' });

    const device = await product.newDevice({ viewport: { width: 900, height: 600 } });
    try {
      await signIn(device.page, product.baseUrl, beaEmail);
      await device.page.goto('/app/notifications');
      const listed = device.page.getByRole('list', { name: 'All notifications' }).getByTestId('notification');
      await expect.poll(() => listed.count(), LIVE).toBe(1);
      expect(await listed.first().textContent()).toContain('Ada Commenter commented on your post');
      await listed.first().click();
      await device.page.waitForURL(new RegExp(`/app/c/${community.id}/feed\\?post=${post.id}$`), LIVE);
      const card = device.page.locator(`[data-post-id="${post.id}"]`);
      await expect.poll(() => card.getAttribute('aria-current'), LIVE).toBe('true');
      expect(await card.textContent()).toContain(`Reading list ${stamp}`);
      await expect.poll(() => card.evaluate((el) => {
        const box = el.getBoundingClientRect();
        return box.top < window.innerHeight && box.bottom > 0;
      }), LIVE).toBe(true);
    } finally {
      await device.context.close();
    }
  }, 120_000);

  it('the badges are in the first paint; "Messages" counts a DM that arrives on another page and drops once it is read', async () => {
    const stamp = Date.now().toString(36);
    const adaEmail = uniqueEmail('ada');
    const beaEmail = uniqueEmail('bea');
    const beaName = `Bea ${stamp}`;
    const ada = await signedInApi(product.baseUrl, adaEmail, 'Ada Author');
    const bea = await signedInApi(product.baseUrl, beaEmail, beaName);
    const { user: beaUser } = await bea<{ user: { id: string } }>('GET', '/me');
    const { channel: dm } = await ada<{ channel: { id: string } }>('POST', '/dms', { userIds: [beaUser.id] });

    const adaDevice = await product.newDevice();
    const beaDevice = await product.newDevice();
    // Without JavaScript a page shows only what the server rendered.
    const beaStatic = await product.newDevice({ javaScriptEnabled: false });
    const pageErrors: string[] = [];
    for (const { page } of [adaDevice, beaDevice]) page.on('pageerror', (err) => pageErrors.push(err.message));
    try {
      await signIn(adaDevice.page, product.baseUrl, adaEmail);
      await signIn(beaDevice.page, product.baseUrl, beaEmail);
      const messages = beaDevice.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Messages/ });
      const unreadDms = beaDevice.page.getByTestId('unread-dms');
      await beaDevice.page.goto('/app/courses');
      await expect.poll(() => connectionStatus(beaDevice.page).textContent(), LIVE).toBe('connected');
      expect(await unreadDms.count()).toBe(0);

      // Ada writes to her while she is on another page: "Messages" says so without a reload.
      await adaDevice.page.goto(`/app/dm/${dm.id}`);
      await waitForChannel(adaDevice.page);
      const composer = adaDevice.page.getByRole('textbox', { name: `Message ${beaName}` });
      for (const text of ['Are you coming to the class?', 'It starts at ten']) {
        await composer.fill(text);
        await composer.press('Enter');
      }
      await expect.poll(() => unreadDms.textContent(), LIVE).toMatch(/^2\s*unread$/);
      expect(await messages.textContent()).toMatch(/Messages\s*2\s*unread/);

      // Ada also follows her: a notification. A page rendered without JavaScript already shows both counts.
      await ada('POST', `/users/${beaUser.id}/follow`);
      await expect.poll(() => beaDevice.page.getByTestId('notification-badge').textContent(), LIVE).toBe('1');
      await signIn(beaStatic.page, product.baseUrl, beaEmail);
      await beaStatic.page.goto('/app/courses');
      expect(await beaStatic.page.getByTestId('notification-badge').textContent()).toBe('1');
      expect(await beaStatic.page.getByTestId('notification-bell').getAttribute('aria-label')).toBe('Notifications, 1 unread');
      expect(await beaStatic.page.getByTestId('unread-dms').textContent()).toMatch(/^2\s*unread$/);

      // She reads the conversation: the count is gone, and stays gone on other pages.
      await messages.click();
      await beaDevice.page.getByRole('navigation', { name: 'Direct messages' }).getByRole('link', { name: /Ada Author/ }).click();
      await beaDevice.page.waitForURL(new RegExp(`/app/dm/${dm.id}$`));
      await waitForChannel(beaDevice.page);
      await channelMessage(beaDevice.page, 'It starts at ten').waitFor(LIVE);
      await expect.poll(() => unreadDms.count(), LIVE).toBe(0);
      await beaDevice.page.getByRole('link', { name: 'Courses' }).click();
      await beaDevice.page.waitForURL(/\/app\/courses$/);
      await expect.poll(() => connectionStatus(beaDevice.page).textContent(), LIVE).toBe('connected');
      expect(await unreadDms.count()).toBe(0);
      expect(pageErrors).toEqual([]);
    } finally {
      await adaDevice.context.close();
      await beaDevice.context.close();
      await beaStatic.context.close();
    }
  }, 120_000);
});

