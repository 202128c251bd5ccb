import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  channelMessage as message,
  connectionStatus,
  waitForChannel,
  haveChromium,
  reportMissingChromium,
  seriousA11yViolations,
  signUp,
  startProduct,
  uniqueEmail,
  type Product,
} from './harness.ts';

reportMissingChromium('the chat journeys');

const UUID = '[0-9a-f-]{36}';
/** Live updates normally land in milliseconds; the margin is for a loaded CI machine. */
const LIVE = { timeout: 10_000 };

/** What the main list shows, message by message: id, body and reactions. */
function channelSnapshot(page: Page) {
  return page
    .getByRole('log', { name: /^Messages in / })
    .getByTestId('message')
    .evaluateAll((items) =>
      items.map((item) => ({
        id: item.getAttribute('data-message-id'),
        body: item.querySelector('[data-testid="message-body"]')?.textContent ?? '(deleted)',
        reactions: [...item.querySelectorAll('[data-testid="reaction"]')].map((r) => r.getAttribute('aria-label')),
      })),
    );
}

describe.skipIf(!haveChromium)('chat in real browsers', () => {
  let product: Product;

  beforeAll(async () => {
    product = await startProduct();
  });

  afterAll(async () => {
    await product?.close();
  });

  it('two people chat live: messages, thread replies, edits, reactions, typing and a DM', async () => {
    const ada = await product.newDevice();
    const bob = await product.newDevice();
    const community = `Chat Lab ${Date.now().toString(36)}`;
    const pageErrors: string[] = [];
    for (const { page } of [ada, bob]) {
      page.on('pageerror', (err) => pageErrors.push(err.message));
      // The browser itself logs failed requests and the WebSocket dying while we take the network away.
      const expected = /Failed to load resource|ERR_INTERNET_DISCONNECTED/;
      page.on('console', (msg) => msg.type() === 'error' && !expected.test(msg.text()) && pageErrors.push(msg.text()));
    }
    try {
      await signUp(ada.page, product.baseUrl, uniqueEmail('ada'), 'Ada Lovelace');
      await signUp(bob.page, product.baseUrl, uniqueEmail('bob'), 'Bob Kahn');

      // Ada creates a public community and a channel through the UI.
      await ada.page.goto('/app/c');
      expect(await seriousA11yViolations(ada.page)).toEqual([]);
      await ada.page.getByLabel('Name', { exact: true }).fill(community);
      await ada.page.getByRole('button', { name: 'Create community' }).click();
      await ada.page.waitForURL(new RegExp(`/app/c/${UUID}$`));
      const communityUrl = ada.page.url();
      expect(await seriousA11yViolations(ada.page)).toEqual([]);
      await ada.page.getByRole('button', { name: 'New channel' }).click();
      await ada.page.getByLabel('Channel name').fill('general');
      await ada.page.getByRole('button', { name: 'Create channel' }).click();
      await ada.page.waitForURL(new RegExp(`/app/c/${UUID}/${UUID}$`));
      const channelUrl = ada.page.url();
      await waitForChannel(ada.page);

      // Bob finds it, joins, and opens the channel.
      await bob.page.goto(`/app/c?q=${encodeURIComponent(community)}`);
      expect(await seriousA11yViolations(bob.page)).toEqual([]);
      await bob.page.getByRole('button', { name: `Join ${community}` }).click();
      await bob.page.waitForURL(communityUrl);
      await bob.page.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name: /general/ }).click();
      await bob.page.waitForURL(channelUrl);
      await waitForChannel(bob.page);

      // Ada types: Bob sees the typing indicator, then the message, without reloading.
      const adaComposer = ada.page.getByRole('textbox', { name: 'Message #general' });
      await adaComposer.click();
      await ada.page.keyboard.type('Hello Bob, welcome', { delay: 40 });
      await expect.poll(() => bob.page.getByTestId('typing-indicator').textContent(), LIVE).toContain('Ada Lovelace is typing…');
      await ada.page.keyboard.press('Enter');
      await message(bob.page, 'Hello Bob, welcome').waitFor();
      await message(ada.page, 'Hello Bob, welcome').waitFor();
      expect(await ada.page.getByTestId('pending-message').count()).toBe(0);
      await expect.poll(() => bob.page.getByTestId('typing-indicator').textContent(), { timeout: 8_000 }).toBe('');

      // Shift+Enter makes a new line instead of sending.
      await adaComposer.click();
      await ada.page.keyboard.type('line one');
      await ada.page.keyboard.press('Shift+Enter');
      await ada.page.keyboard.type('line two');
      await ada.page.keyboard.press('Enter');
      await expect.poll(() => message(bob.page, 'line one').getByTestId('message-body').textContent(), LIVE).toBe('line one\nline two');

      // Bob replies in a thread; Ada sees the live reply count and the reply.
      await message(bob.page, 'Hello Bob, welcome').getByRole('button', { name: 'Reply in thread' }).click();
      const bobReply = bob.page.getByRole('textbox', { name: 'Reply in thread' });
      await bobReply.fill('Thanks Ada!');
      await bobReply.press('Enter');
      await bob.page.getByRole('complementary', { name: /Thread/ }).getByText('Thanks Ada!').waitFor();
      const replies = message(ada.page, 'Hello Bob, welcome').getByRole('button', { name: '1 reply, open thread' });
      await replies.waitFor();
      await replies.click();
      await ada.page.getByRole('complementary', { name: /Thread/ }).getByText('Thanks Ada!').waitFor();
      await ada.page.getByRole('heading', { name: 'Thread · 1 reply' }).waitFor();
      expect(await seriousA11yViolations(ada.page)).toEqual([]);
      await ada.page.getByRole('button', { name: 'Close thread' }).click();

      // Ada edits her message; Bob sees the edit.
      await message(ada.page, 'Hello Bob, welcome').getByRole('button', { name: 'Edit' }).click();
      const editor = ada.page.getByRole('textbox', { name: 'Edit message' });
      await editor.fill('Hello Bob, welcome aboard');
      await editor.press('Enter');
      const edited = message(bob.page, 'Hello Bob, welcome aboard');
      await edited.waitFor();
      expect(await edited.getByText('(edited)').isVisible()).toBe(true);

      // Bob reacts; the reaction shows on both pages.
      await edited.getByRole('button', { name: 'Add reaction' }).click();
      await bob.page.getByRole('button', { name: 'React with thumbs up' }).click();
      const reactionOn = (page: Page) =>
        message(page, 'Hello Bob, welcome aboard').getByRole('button', { name: 'thumbs up reaction, 1 person' });
      await reactionOn(bob.page).waitFor();
      await reactionOn(ada.page).waitFor();
      expect(await reactionOn(bob.page).getAttribute('aria-pressed')).toBe('true');
      expect(await reactionOn(ada.page).getAttribute('aria-pressed')).toBe('false');

      expect(await seriousA11yViolations(bob.page)).toEqual([]);

      // Bob loses the network; meanwhile Ada sends, edits, deletes and reacts. Back online, Bob's channel ends up
      // exactly like Ada's.
      await bob.context.setOffline(true);
      await expect.poll(() => bob.page.getByTestId('reconnect-banner').textContent(), LIVE).toContain('offline');
      for (const text of ['missed one', 'missed two']) {
        await adaComposer.fill(text);
        await adaComposer.press('Enter');
        await message(ada.page, text).waitFor();
      }
      await message(ada.page, 'missed two').getByRole('button', { name: 'Edit' }).click();
      await ada.page.getByRole('textbox', { name: 'Edit message' }).fill('missed two, edited');
      await ada.page.getByRole('textbox', { name: 'Edit message' }).press('Enter');
      await message(ada.page, 'missed two, edited').waitFor();
      await message(ada.page, 'missed one').getByRole('button', { name: 'Delete' }).click();
      await ada.page.getByRole('button', { name: 'Delete message' }).click();
      await message(ada.page, 'This message was deleted.').waitFor();
      await message(ada.page, 'missed two, edited').getByRole('button', { name: 'Add reaction' }).click();
      await ada.page.getByRole('button', { name: 'React with party' }).click();
      await message(ada.page, 'missed two, edited').getByRole('button', { name: 'party reaction, 1 person' }).waitFor();
      await ada.page.waitForTimeout(500);
      expect(await message(bob.page, 'missed two').count()).toBe(0);

      await bob.context.setOffline(false);
      await expect.poll(() => connectionStatus(bob.page).textContent(), { timeout: 20_000 }).toBe('connected');
      await expect.poll(() => channelSnapshot(bob.page), { timeout: 15_000 }).toEqual(await channelSnapshot(ada.page));
      expect(await bob.page.getByTestId('reconnect-banner').textContent()).toBe('');

      // Away from the channel, Bob's sidebar counts what he has not read; reading it clears the badge.
      await bob.page.getByRole('link', { name: community }).click();
      await bob.page.waitForURL(communityUrl);
      await adaComposer.fill('ping while you look elsewhere');
      await adaComposer.press('Enter');
      const bobGeneral = bob.page.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name: /general/ });
      await expect.poll(() => bobGeneral.getByTestId('unread-badge').textContent(), LIVE).toBe('1 unread');
      await bobGeneral.click();
      await message(bob.page, 'ping while you look elsewhere').waitFor();
      await bob.page.getByRole('link', { name: community }).click();
      await bob.page.waitForURL(communityUrl);
      await expect.poll(() => bobGeneral.getByTestId('unread-badge').count(), LIVE).toBe(0);
      await bob.page.reload();
      await expect.poll(() => bobGeneral.getByTestId('unread-badge').count(), LIVE).toBe(0);

      // Ada starts a DM with Bob from the member list (which shows him online); Bob finds it in his inbox.
      await expect
        .poll(
          () => ada.page.getByRole('list', { name: 'Members' }).getByRole('listitem').filter({ hasText: 'Bob Kahn' }).textContent(),
          LIVE,
        )
        .toContain('(online)');
      await ada.page.getByRole('button', { name: 'Message Bob Kahn' }).click();
      await ada.page.waitForURL(new RegExp(`/app/dm/${UUID}$`));
      const dmUrl = ada.page.url();
      await waitForChannel(ada.page);
      const dmComposer = ada.page.getByRole('textbox', { name: 'Message Bob Kahn' });
      await dmComposer.fill('Just between us');
      await dmComposer.press('Enter');
      await message(ada.page, 'Just between us').waitFor();
      await bob.page.goto('/app/dm');
      await bob.page.getByRole('navigation', { name: 'Direct messages' }).getByRole('link', { name: /Ada Lovelace/ }).click();
      await bob.page.waitForURL(dmUrl);
      await message(bob.page, 'Just between us').waitFor();
      expect(await seriousA11yViolations(bob.page)).toEqual([]);
      await bob.page.goto('/app/dm');
      expect(await seriousA11yViolations(bob.page)).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await ada.context.close();
      await bob.context.close();
    }
  });
});
