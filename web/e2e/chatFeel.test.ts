import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContextOptions, Locator, Page } from 'playwright-core';
import {
  channelMessage as message,
  connectionStatus,
  haveChromium,
  reportMissingChromium,
  seriousA11yViolations,
  signedInApi,
  signIn,
  startProduct,
  uniqueEmail,
  waitForChannel,
  type Api,
  type Product,
} from './harness.ts';

reportMissingChromium('the chat feel journeys');

/** Live updates normally land in milliseconds; the margin is for a loaded CI machine. */
const LIVE = { timeout: 10_000 };

const opacity = (locator: Locator) => locator.evaluate((el) => getComputedStyle(el).opacity);

describe.skipIf(!haveChromium)('chat that feels like one', () => {
  let product: Product;
  const ada = { email: uniqueEmail('ada'), name: 'Ada Lovelace', api: undefined as unknown as Api };
  const bob = { email: uniqueEmail('bob'), name: 'Bob Kahn', api: undefined as unknown as Api };
  let communityId = '';
  let channelPath = '';

  async function device(email: string, options?: BrowserContextOptions) {
    const { context, page } = await product.newDevice(options);
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await signIn(page, product.baseUrl, email);
    await expect.poll(() => connectionStatus(page).textContent(), { timeout: 15_000 }).toBe('connected');
    return { context, page, errors };
  }

  /** Sends a message and waits for it to show (as `shown`, when markup changes how it reads). */
  async function send(page: Page, text: string, shown = text) {
    const composer = page.getByRole('textbox', { name: 'Message #general' });
    await composer.fill(text);
    await composer.press('Enter');
    await message(page, shown).waitFor();
  }

  beforeAll(async () => {
    product = await startProduct();
    for (const person of [ada, bob]) person.api = await signedInApi(product.baseUrl, person.email, person.name);
    const { community } = await ada.api<{ community: { id: string } }>('POST', '/communities', {
      name: `Feel Lab ${Date.now().toString(36)}`,
      visibility: 'public',
    });
    communityId = community.id;
    await bob.api('POST', `/communities/${communityId}/join`);
    const { channel } = await ada.api<{ channel: { id: string } }>('POST', `/communities/${communityId}/channels`, { name: 'general' });
    channelPath = `/app/c/${communityId}/${channel.id}`;
  });

  afterAll(async () => {
    await product?.close();
  });

  it('groups, hides actions until hover or focus, renders markdown, completes and highlights mentions, and edits with ↑', async () => {
    const a = await device(ada.email, { viewport: { width: 1280, height: 900 } });
    const b = await device(bob.email, { viewport: { width: 1280, height: 640 } });
    try {
      await a.page.goto(channelPath);
      await b.page.goto(channelPath);
      await waitForChannel(a.page);
      await waitForChannel(b.page);

      // Two quick messages by one person: one header (avatar and name), the second compact.
      await send(a.page, 'first quick one');
      await send(a.page, 'second quick one');
      await message(b.page, 'second quick one').waitFor();
      const first = message(b.page, 'first quick one');
      const second = message(b.page, 'second quick one');
      expect(await first.getByTestId('message-header').count()).toBe(1);
      expect((await first.getByTestId('message-avatar').textContent())?.trim()).toBe('AL');
      expect(await second.getByTestId('message-header').count()).toBe(0);
      expect(await second.getByTestId('message-avatar').count()).toBe(0);
      expect(await b.page.getByTestId('date-divider').allTextContents()).toEqual([expect.stringContaining('Today')]);

      // The actions stay out of sight until the message is hovered…
      await b.page.mouse.move(1, 1);
      const toolbar = first.getByTestId('message-toolbar');
      expect(await opacity(toolbar)).toBe('0');
      await first.getByTestId('message-body').hover();
      expect(await opacity(toolbar)).toBe('1');
      // …or something in it has focus: Tab from the message reaches its toolbar, and the toolbar shows.
      await b.page.mouse.move(1, 1);
      await first.focus();
      let reached = false;
      for (let i = 0; i < 4 && !reached; i++) {
        await b.page.keyboard.press('Tab');
        reached = await toolbar.getByRole('button', { name: 'Add reaction' }).evaluate((el) => el === document.activeElement);
      }
      expect(reached).toBe(true);
      expect(await opacity(toolbar)).toBe('1');
      // Not Ada's message: Bob can reply and report, not edit or delete.
      expect((await toolbar.getByRole('button').allTextContents()).map((t) => t.trim())).toEqual(['☺+', 'Reply in thread', 'Report']);

      // The emoji picker searches by name and works from the keyboard.
      await b.page.keyboard.press('Enter');
      await b.page.getByRole('searchbox', { name: 'Search emoji' }).fill('rock');
      await b.page.keyboard.press('Enter');
      await first.getByRole('button', { name: 'rocket reaction, 1 person' }).waitFor();
      await message(a.page, 'first quick one').getByRole('button', { name: 'rocket reaction, 1 person' }).waitFor(LIVE);

      // Markdown and a bare link arrive rendered; plain text stays plain.
      await send(a.page, 'read **this** guide: https://example.org/guide', 'read this guide');
      const linked = message(b.page, 'read this guide');
      await linked.waitFor(LIVE);
      const link = linked.getByRole('link', { name: 'https://example.org/guide' });
      expect(await link.getAttribute('href')).toBe('https://example.org/guide');
      expect(await link.getAttribute('rel')).toBe('nofollow noopener noreferrer');
      expect(await linked.locator('strong').textContent()).toBe('this');

      // Bob mentions Ada through the autocomplete; Ada sees the mention highlighted.
      const bobComposer = b.page.getByRole('textbox', { name: 'Message #general' });
      await bobComposer.click();
      await b.page.keyboard.type('thanks @Lov');
      const suggestions = b.page.getByRole('listbox', { name: 'People to mention' });
      await suggestions.waitFor();
      expect(await suggestions.getByRole('option').allTextContents()).toEqual([expect.stringContaining('Ada Lovelace')]);
      expect(await bobComposer.getAttribute('aria-activedescendant')).toBe(await suggestions.getByRole('option').first().getAttribute('id'));
      await b.page.keyboard.press('Enter');
      expect(await bobComposer.inputValue()).toBe('thanks @Ada Lovelace ');
      expect(await suggestions.count()).toBe(0);
      await b.page.keyboard.type('have a look');
      await b.page.keyboard.press('Enter');
      const mentioned = message(a.page, 'have a look');
      await mentioned.waitFor(LIVE);
      await expect.poll(() => mentioned.getByTestId('mention-me').textContent(), LIVE).toBe('@Ada Lovelace');
      expect(await message(b.page, 'have a look').getByTestId('mention-me').count()).toBe(0);
      // Escape closes the suggestions without sending anything.
      await b.page.keyboard.type('@Ad');
      await suggestions.waitFor();
      await b.page.keyboard.press('Escape');
      expect(await suggestions.count()).toBe(0);
      await bobComposer.fill('');

      // Enter sends, Shift+Enter adds a line; ↑ in the empty composer edits my last message, Escape cancels.
      const adaComposer = a.page.getByRole('textbox', { name: 'Message #general' });
      await adaComposer.click();
      await a.page.keyboard.type('line one');
      await a.page.keyboard.press('Shift+Enter');
      await a.page.keyboard.type('line two');
      await a.page.keyboard.press('Enter');
      await expect.poll(() => message(b.page, 'line one').getByTestId('message-body').textContent(), LIVE).toBe('line one\nline two');
      await a.page.keyboard.press('ArrowUp');
      const editor = a.page.getByRole('textbox', { name: 'Edit message' });
      expect(await editor.inputValue()).toBe('line one\nline two');
      await a.page.keyboard.press('Escape');
      expect(await editor.count()).toBe(0);
      expect(await adaComposer.evaluate((el) => el === document.activeElement)).toBe(true);
      await a.page.keyboard.press('ArrowUp');
      await editor.fill('edited with the arrow key');
      await editor.press('Enter');
      await message(b.page, 'edited with the arrow key').getByText('(edited)').waitFor(LIVE);

      expect(await seriousA11yViolations(a.page)).toEqual([]);
      expect(await seriousA11yViolations(b.page)).toEqual([]);

      // Scrolled up, Bob gets a pill for what arrives; it jumps to the first of them.
      for (let i = 1; i <= 12; i++) await send(a.page, `filler ${i}`);
      await message(b.page, 'filler 12').waitFor(LIVE);
      const scroller = b.page.getByRole('log', { name: 'Messages in #general' }).locator('xpath=..');
      await scroller.evaluate((el) => el.scrollTo({ top: 0 }));
      await b.page.waitForTimeout(200);
      await send(a.page, 'news while away');
      await send(a.page, 'more news');
      const pill = b.page.getByTestId('new-messages-pill');
      await expect.poll(() => pill.textContent(), LIVE).toContain('2 new messages');
      expect(await message(b.page, 'news while away').isVisible()).toBe(true);
      const inView = (item: Locator) =>
        item.evaluate((el) => {
          const box = el.getBoundingClientRect();
          const frame = el.closest('[role="log"]')!.parentElement!.getBoundingClientRect();
          return box.top >= frame.top - 1 && box.bottom <= frame.bottom + 1;
        });
      expect(await inView(message(b.page, 'news while away'))).toBe(false);
      await pill.click();
      expect(await inView(message(b.page, 'news while away'))).toBe(true);
      expect(await pill.count()).toBe(0);

      expect(a.errors).toEqual([]);
      expect(b.errors).toEqual([]);
    } finally {
      await a.context.close();
      await b.context.close();
    }
  });

  it('keyboard users skip to the composer; at 390 px the list and the conversation take turns, members in a drawer', async () => {
    const wide = await device(bob.email, { viewport: { width: 1440, height: 900 } });
    try {
      await wide.page.goto(channelPath);
      await waitForChannel(wide.page);
      // The member list is a column of its own: names are whole, not cut.
      const names = wide.page.getByRole('list', { name: 'Members' }).getByText(ada.name, { exact: false });
      expect(await names.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
      // From the top of the page, a handful of Tab presses and the skip link reach the composer.
      await wide.page.locator('body').focus();
      let presses = 0;
      while (presses < 40 && (await wide.page.evaluate(() => document.activeElement?.textContent?.trim())) !== 'Skip to composer') {
        await wide.page.keyboard.press('Tab');
        presses++;
      }
      expect(presses).toBeLessThan(25);
      await wide.page.keyboard.press('Enter');
      expect(await wide.page.getByRole('textbox', { name: 'Message #general' }).evaluate((el) => el === document.activeElement)).toBe(true);
    } finally {
      await wide.context.close();
    }

    const phone = await device(bob.email, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const overflow = () => phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    try {
      await phone.page.goto(`/app/c/${communityId}`);
      const channels = phone.page.getByRole('navigation', { name: 'Channels' });
      await channels.getByRole('link', { name: /general/ }).click();
      await waitForChannel(phone.page);
      // The conversation alone: the channel list is one step back.
      expect(await channels.isVisible()).toBe(false);
      await message(phone.page, 'first quick one').waitFor();
      expect(await overflow()).toBe(0);
      expect(await seriousA11yViolations(phone.page)).toEqual([]);

      // Members open in a drawer that keeps focus until Escape, which returns it to the button.
      const membersButton = phone.page.getByRole('button', { name: /Members/ });
      await membersButton.click();
      const drawer = phone.page.getByRole('dialog', { name: 'People in this community' });
      await drawer.getByRole('listitem').filter({ hasText: ada.name }).waitFor();
      for (let i = 0; i < 6; i++) await phone.page.keyboard.press('Tab');
      expect(await drawer.evaluate((el) => el.contains(document.activeElement))).toBe(true);
      expect(await seriousA11yViolations(phone.page)).toEqual([]);
      await phone.page.keyboard.press('Escape');
      expect(await drawer.count()).toBe(0);
      expect(await membersButton.evaluate((el) => el === document.activeElement)).toBe(true);

      // A tap on a message shows its actions (there is no hover on a touch screen).
      const tapped = message(phone.page, 'first quick one');
      await tapped.getByTestId('message-body').tap();
      expect(await opacity(tapped.getByTestId('message-toolbar'))).toBe('1');

      await phone.page.getByTestId('back-to-list').click();
      await phone.page.waitForURL(new RegExp(`/app/c/${communityId}$`));
      expect(await channels.isVisible()).toBe(true);
      expect(await overflow()).toBe(0);
      expect(phone.errors).toEqual([]);
    } finally {
      await phone.context.close();
    }
  });
});
