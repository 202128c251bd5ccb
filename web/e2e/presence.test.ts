import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import {
  connectionStatus,
  haveChromium,
  reportMissingChromium,
  seriousA11yViolations,
  signedInApi,
  signIn,
  startProduct,
  uniqueEmail,
  waitForChannel,
  waitUntilLive,
  type Api,
  type Product,
} from './harness.ts';

reportMissingChromium('the presence journeys');

/** Live updates normally land in milliseconds; the margin is for a loaded CI machine. */
const LIVE = { timeout: 10_000 };

/** The status a presence dot shows (`data-presence` on PresenceDot). */
function shown(dot: Locator): Promise<string | null> {
  return dot.getAttribute('data-presence', { timeout: 5_000 }).catch(() => null);
}

/** The status picker in the app bar, and the dot beside it. */
function picker(page: Page) {
  const select = page.getByRole('combobox', { name: 'Status' });
  return { select, dot: select.locator('xpath=..').locator('[data-presence]') };
}

/** Signs in on a fresh device and waits until its socket is connected. */
async function signedInDevice(product: Product, email: string): Promise<{ page: Page; close: () => Promise<void> }> {
  const { context, page } = await product.newDevice();
  const pageErrors: string[] = [];
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await signIn(page, product.baseUrl, email);
  await expect.poll(() => connectionStatus(page).textContent(), { timeout: 15_000 }).toBe('connected');
  return {
    page,
    close: async () => {
      await context.close();
      expect(pageErrors).toEqual([]);
    },
  };
}

describe.skipIf(!haveChromium)('presence in two browser contexts', () => {
  let product: Product;
  const ada = { email: uniqueEmail('ada'), name: 'Ada Lovelace', api: undefined as unknown as Api, id: '' };
  const bob = { email: uniqueEmail('bob'), name: 'Bob Kahn', api: undefined as unknown as Api, id: '' };
  let communityId = '';

  beforeAll(async () => {
    product = await startProduct();
    for (const person of [ada, bob]) {
      person.api = await signedInApi(product.baseUrl, person.email, person.name);
      person.id = (await person.api<{ user: { id: string } }>('GET', '/me')).user.id;
    }
    const created = await ada.api<{ community: { id: string } }>('POST', '/communities', {
      name: `Presence Lab ${Date.now().toString(36)}`,
      visibility: 'public',
    });
    communityId = created.community.id;
    await bob.api('POST', `/communities/${communityId}/join`);
  });

  afterAll(async () => {
    await product?.close();
  });

  it('the DM list and the DM header show the other person online as soon as the page opens, and offline when they leave', async () => {
    const { channel } = await ada.api<{ channel: { id: string } }>('POST', '/dms', { userIds: [bob.id] });
    const bobDevice = await signedInDevice(product, bob.email);
    const adaDevice = await signedInDevice(product, ada.email);
    try {
      // Bob was online before Ada's page loaded: his status was announced before she was listening.
      await adaDevice.page.goto(`/app/dm/${channel.id}`);
      await waitForChannel(adaDevice.page);
      const listEntry = adaDevice.page.getByRole('navigation', { name: 'Direct messages' }).getByRole('link', { name: /Bob Kahn/ });
      const header = adaDevice.page.getByRole('list', { name: 'People in this conversation' });
      await expect.poll(() => shown(listEntry.locator('[data-presence]')), LIVE).toBe('online');
      await expect.poll(() => header.textContent(), LIVE).toContain('Bob Kahn is online');
      expect(await seriousA11yViolations(adaDevice.page)).toEqual([]);

      // Bob closes his last tab: both places say so without a reload.
      await bobDevice.close();
      await expect.poll(() => shown(listEntry.locator('[data-presence]')), { timeout: 20_000 }).toBe('offline');
      await expect.poll(() => header.textContent(), LIVE).toContain('Bob Kahn is offline');
    } finally {
      await adaDevice.close();
      await bobDevice.close().catch(() => {});
    }
  });

  it('after signing in again the status picker shows the status the person chose, as the dot and the others do', async () => {
    const first = await signedInDevice(product, ada.email);
    const bobDevice = await signedInDevice(product, bob.email);
    try {
      await picker(first.page).select.selectOption('dnd');
      await expect.poll(() => shown(picker(first.page).dot), LIVE).toBe('dnd');
      await first.page.getByRole('button', { name: 'Sign out' }).click();
      await first.page.waitForURL((url) => !url.pathname.startsWith('/app'));

      // Ada signs in again on another device: the status she chose is still hers, and everything says so.
      const again = await signedInDevice(product, ada.email);
      try {
        await expect.poll(() => shown(picker(again.page).dot), LIVE).toBe('dnd');
        await expect.poll(() => picker(again.page).select.inputValue(), LIVE).toBe('dnd');
        await bobDevice.page.goto(`/app/c/${communityId}`);
        const members = bobDevice.page.getByRole('list', { name: 'Members' }).getByRole('listitem').filter({ hasText: ada.name });
        await expect.poll(() => members.textContent(), LIVE).toContain('(do not disturb)');

        // A second tab of the same device opens while the first is connected: it shows the same.
        const tab = await again.page.context().newPage();
        await tab.goto('/app');
        await expect.poll(() => connectionStatus(tab).textContent(), { timeout: 15_000 }).toBe('connected');
        await expect.poll(() => picker(tab).select.inputValue(), LIVE).toBe('dnd');
        await expect.poll(() => shown(picker(tab).dot), LIVE).toBe('dnd');
        expect(await seriousA11yViolations(tab)).toEqual([]);

        // Back to online from that tab: the other tab follows.
        await picker(tab).select.selectOption('online');
        await expect.poll(() => picker(again.page).select.inputValue(), LIVE).toBe('online');
        await expect.poll(() => shown(picker(again.page).dot), LIVE).toBe('online');
      } finally {
        await again.close();
      }
    } finally {
      await first.close();
      await bobDevice.close();
    }
  });

  it('in class chat the presence dots agree with the classroom roster', async () => {
    const startsAt = new Date(Date.now() + 5 * 60_000).toISOString();
    const { classroom } = await ada.api<{ classroom: { id: string } }>('POST', '/classrooms', {
      communityId,
      title: 'Presence, live',
      startsAt,
      durationMinutes: 30,
      capacity: 10,
    });
    await bob.api('POST', `/classrooms/${classroom.id}/register`);
    await ada.api('POST', `/classrooms/${classroom.id}/start`);
    const liveUrl = `/app/c/${communityId}/classes/${classroom.id}/live`;
    const roster = (page: Page, name: string) => page.getByRole('list', { name: 'Participants' }).getByTestId('participant').filter({ hasText: name });
    const chatMessage = (page: Page, text: string) =>
      page.getByRole('log', { name: 'Messages in Class chat' }).getByTestId('message').filter({ hasText: text });

    const bobDevice = await signedInDevice(product, bob.email);
    const adaDevice = await signedInDevice(product, ada.email);
    try {
      await bobDevice.page.goto(liveUrl);
      await waitUntilLive(bobDevice.page, bobDevice.page.getByRole('list', { name: 'Participants' }));
      await bobDevice.page.locator('section[data-joined="true"]').waitFor({ timeout: 15_000 });
      const bobComposer = bobDevice.page.getByRole('textbox', { name: 'Message Class chat' });
      await bobComposer.fill('Hello from the back row');
      await bobComposer.press('Enter');
      await chatMessage(bobDevice.page, 'Hello from the back row').waitFor(LIVE);

      // Ada opens the live room after Bob is in it.
      await adaDevice.page.goto(liveUrl);
      await waitUntilLive(adaDevice.page, adaDevice.page.getByRole('list', { name: 'Participants' }));
      await expect.poll(() => roster(adaDevice.page, bob.name).textContent(), LIVE).toContain('(here)');
      const bobsMessage = chatMessage(adaDevice.page, 'Hello from the back row');
      await bobsMessage.waitFor(LIVE);
      await expect.poll(() => shown(bobsMessage.locator('[data-presence]')), LIVE).toBe('online');
      expect(await seriousA11yViolations(adaDevice.page)).toEqual([]);

      // Bob leaves: the roster and the dot both say he is gone.
      await bobDevice.close();
      await expect.poll(() => roster(adaDevice.page, bob.name).textContent(), { timeout: 20_000 }).toContain('(not here)');
      await expect.poll(() => shown(bobsMessage.locator('[data-presence]')), { timeout: 20_000 }).toBe('offline');
    } finally {
      await adaDevice.close();
      await bobDevice.close().catch(() => {});
    }
  });
});
