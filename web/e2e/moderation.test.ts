import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  channelMessage as message,
  waitForChannel,
  haveChromium,
  reportMissingChromium,
  seriousA11yViolations,
  signUp,
  startProduct,
  uniqueEmail,
  type Product,
} from './harness.ts';

reportMissingChromium('the moderation journey');

const UUID = '[0-9a-f-]{36}';
/** What moderators do reaches the people concerned at once: these waits are the product's promise, not CI slack. */
const AT_ONCE = { timeout: 2_000 };

async function say(page: Page, text: string): Promise<void> {
  const composer = page.getByRole('textbox', { name: 'Message #general' });
  await composer.fill(text);
  await composer.press('Enter');
  await message(page, text).waitFor();
}

/** Reports a chat message through its Report button and dialog. */
async function report(page: Page, text: string, author: string, reason: string, note: string): Promise<void> {
  await message(page, text).getByRole('button', { name: `Report message by ${author}` }).click();
  const dialog = page.getByRole('dialog', { name: `Report message by ${author}` });
  await dialog.getByRole('radio', { name: reason }).check();
  await dialog.getByLabel('Anything moderators should know? (optional)').fill(note);
  await dialog.getByRole('button', { name: 'Send report' }).click();
  await dialog.getByTestId('report-sent').waitFor();
  await dialog.getByRole('button', { name: 'Done' }).click();
}

function queueCase(page: Page, text: string) {
  return page.getByRole('list', { name: 'Cases' }).getByTestId('case').filter({ hasText: text });
}

/** The dialog that asks before a destructive action (ban, kick, time out, hide, delete). */
function confirmDialog(page: Page) {
  return page.getByRole('alertdialog');
}

/** Opens a case from the queue, claims it and fills in the reason (and minutes), ready for an action button. */
async function prepare(page: Page, caseText: string, reason: string, minutes?: string): Promise<void> {
  await queueCase(page, caseText).click();
  await page.waitForURL(new RegExp(`/moderation/cases/${UUID}$`));
  const detail = page.getByTestId('case-detail');
  await detail.getByRole('button', { name: 'Claim' }).click();
  await detail.getByText('You claimed this case').waitFor();
  await detail.getByLabel('Reason (required)').fill(reason);
  if (minutes) await detail.getByLabel('Minutes (time out; how long a kick lasts)').fill(minutes);
}

const CONFIRMED_FIRST = ['Hide', 'Delete', 'Time out', 'Kick', 'Ban'];

/**
 * Presses an action on the open case; the destructive ones ask first, and `inDialog` may change the dialog's options
 * before it is confirmed.
 */
async function press(page: Page, action: string, inDialog?: (dialog: ReturnType<typeof confirmDialog>) => Promise<void>): Promise<void> {
  await page.getByTestId('case-detail').getByRole('button', { name: action, exact: true }).click();
  if (!CONFIRMED_FIRST.includes(action)) return;
  const dialog = confirmDialog(page);
  await dialog.waitFor();
  // The safe choice has the focus.
  await expect.poll(() => dialog.getByRole('button', { name: 'Cancel' }).evaluate((el) => el === document.activeElement)).toBe(true);
  await inDialog?.(dialog);
  await dialog.getByRole('button', { name: action, exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
}

describe.skipIf(!haveChromium)('moderation in real browsers', () => {
  let product: Product;

  beforeAll(async () => {
    product = await startProduct();
  });

  afterAll(async () => {
    await product?.close();
  });

  it('reports reach the live console; a timeout and a ban reach the people concerned at once', async () => {
    const owner = await product.newDevice();
    const mia = await product.newDevice();
    const sam = await product.newDevice();
    const community = `Safe Space ${Date.now().toString(36)}`;
    const pageErrors: string[] = [];
    for (const { page } of [owner, mia, sam]) {
      page.on('pageerror', (err) => pageErrors.push(err.message));
      // Refused sends and loads show up as failed requests in the console; the pages say what happened instead.
      page.on('console', (msg) => msg.type() === 'error' && !/Failed to load resource/.test(msg.text()) && pageErrors.push(msg.text()));
    }
    try {
      await signUp(owner.page, product.baseUrl, uniqueEmail('olga'), 'Olga Owner');
      await signUp(mia.page, product.baseUrl, uniqueEmail('mia'), 'Mia Member');
      await signUp(sam.page, product.baseUrl, uniqueEmail('sam'), 'Sam Spammer');

      // The owner creates a community with a channel; two members join and open it.
      await owner.page.goto('/app/c');
      await owner.page.getByLabel('Name', { exact: true }).fill(community);
      await owner.page.getByRole('button', { name: 'Create community' }).click();
      await owner.page.waitForURL(new RegExp(`/app/c/${UUID}$`));
      const communityUrl = owner.page.url();
      await owner.page.getByRole('button', { name: 'New channel' }).click();
      await owner.page.getByLabel('Channel name').fill('general');
      await owner.page.getByRole('button', { name: 'Create channel' }).click();
      await owner.page.waitForURL(new RegExp(`/app/c/${UUID}/${UUID}$`));
      const channelUrl = owner.page.url();
      for (const { page } of [mia, sam]) {
        await page.goto(`/app/c?q=${encodeURIComponent(community)}`);
        await page.getByRole('button', { name: `Join ${community}` }).click();
        await page.waitForURL(communityUrl);
        // Members have no console.
        expect(await page.getByRole('navigation', { name: 'Community sections' }).getByRole('link', { name: 'Moderation' }).count()).toBe(0);
        await page.goto(channelUrl);
        await waitForChannel(page);
      }
      await say(sam.page, 'Buy cheap followers now!!!');
      await say(mia.page, 'Hello everyone');
      await message(mia.page, 'Buy cheap followers now!!!').waitFor();
      await message(sam.page, 'Hello everyone').waitFor();

      // The owner opens the console from the community's sections; it is live before anyone reports.
      await owner.page.getByRole('navigation', { name: 'Community sections' }).getByRole('link', { name: 'Moderation' }).click();
      await owner.page.waitForURL(`${communityUrl}/moderation`);
      await expect.poll(() => owner.page.getByTestId('queue-live').textContent(), { timeout: 15_000 }).toBe('Live');
      expect(await seriousA11yViolations(owner.page)).toEqual([]);

      // Mia reports Sam's message; Sam reports Mia's. Both cases appear in the open console by themselves.
      await report(mia.page, 'Buy cheap followers now!!!', 'Sam Spammer', 'Spam or advertising', 'Posted in every channel');
      await queueCase(owner.page, 'Buy cheap followers now!!!').waitFor(AT_ONCE);
      await expect.poll(() => owner.page.getByTestId('queue-announcement').textContent(), AT_ONCE).toBe('New case: A message by Sam Spammer reported.');
      await report(sam.page, 'Hello everyone', 'Mia Member', 'Harassment or bullying', 'Retaliation');
      await queueCase(owner.page, 'Hello everyone').waitFor(AT_ONCE);
      expect(await queueCase(owner.page, 'Buy cheap followers now!!!').textContent()).toContain('Message by Sam Spammer');

      // Sam's report is retaliation; the owner times Mia out anyway, to see the timeout land: Mia is told at once,
      // and a message she tries to send is refused with the server's reason.
      // The moderator looks at every case while acting: the filter they chose stays through the actions' page updates.
      const filterButton = (name: string) => owner.page.getByRole('group', { name: 'Show cases' }).getByRole('button', { name, exact: true });
      await filterButton('All').click();
      // Time out asks first: Cancel sends nothing and the case stays as it was.
      await prepare(owner.page, 'Hello everyone', 'Testing the timeout', '10');
      await owner.page.getByTestId('case-detail').getByRole('button', { name: 'Time out', exact: true }).click();
      const asking = confirmDialog(owner.page);
      await asking.getByRole('heading', { name: 'Time out Mia Member for 10 minutes?' }).waitFor();
      expect(await seriousA11yViolations(owner.page)).toEqual([]);
      await asking.getByRole('button', { name: 'Cancel' }).click();
      await asking.waitFor({ state: 'detached' });
      expect(await owner.page.getByTestId('action-result').textContent()).toBe('');
      expect(await owner.page.getByTestId('case-resolution').count()).toBe(0);
      await owner.page.getByTestId('case-detail').getByText('You claimed this case').waitFor();
      expect(await mia.page.getByTestId('notice-timed_out').count()).toBe(0);
      await press(owner.page, 'Time out');
      await owner.page.getByTestId('action-result').getByText('Done: timed out.').waitFor();
      expect(await filterButton('All').getAttribute('aria-pressed')).toBe('true');
      await queueCase(owner.page, 'Hello everyone').getByText('Resolved').waitFor();
      expect(await queueCase(owner.page, 'Buy cheap followers now!!!').count()).toBe(1);
      await filterButton('Needs action').click();
      await expect.poll(() => queueCase(owner.page, 'Hello everyone').count(), AT_ONCE).toBe(0);
      await mia.page.getByTestId('notice-timed_out').waitFor(AT_ONCE);
      expect(await mia.page.getByTestId('notice-timed_out').textContent()).toContain(`A moderator of ${community} timed you out`);
      // Her composer stops taking messages until the timeout ends (the server refuses them anyway).
      const miaComposer = mia.page.getByRole('textbox', { name: 'Message #general' });
      await expect.poll(() => miaComposer.isDisabled(), AT_ONCE).toBe(true);

      // The timeout survives a reload: the banner is back, with the community's name.
      await mia.page.reload();
      await waitForChannel(mia.page);
      await mia.page.getByTestId('notice-timed_out').waitFor();
      expect(await mia.page.getByTestId('notice-timed_out').textContent()).toContain(`A moderator of ${community} timed you out`);
      await expect.poll(() => miaComposer.isDisabled()).toBe(true);
      await message(mia.page, 'Buy cheap followers now!!!').waitFor();

      // The owner opens Sam's case: the reported message with its context, then bans Sam.
      await queueCase(owner.page, 'Buy cheap followers now!!!').click();
      await owner.page.waitForURL(new RegExp(`/moderation/cases/${UUID}$`));
      const detail = owner.page.getByTestId('case-detail');
      await detail.getByRole('heading', { name: 'Message by Sam Spammer' }).waitFor();
      expect(await detail.getByTestId('case-target-body').textContent()).toContain('Buy cheap followers now!!!');
      await detail.getByText('Posted in every channel').waitFor();
      await detail.getByRole('region', { name: 'Around the message' }).getByText('Hello everyone').waitFor();
      expect(await seriousA11yViolations(owner.page)).toEqual([]);
      // Banning for spam also hides Sam's recent messages (ticked by default for a spam report).
      await prepare(owner.page, 'Buy cheap followers now!!!', 'Spam after a warning in DMs');
      await press(owner.page, 'Ban', async (dialog) => {
        await dialog.getByRole('heading', { name: 'Ban Sam Spammer?' }).waitFor();
        expect(await dialog.getByLabel(/Also hide their messages from the last 24 hours/).isChecked()).toBe(true);
      });

      // Mia's open channel drops Sam's message at once.
      await expect.poll(() => message(mia.page, 'Buy cheap followers now!!!').count(), AT_ONCE).toBe(0);
      await message(mia.page, 'Hello everyone').waitFor();

      // Sam's open chat page loses the community at once: a clear message, and nothing left to type into.
      const lost = sam.page.getByTestId('community-access-lost');
      await lost.waitFor(AT_ONCE);
      expect(await lost.getByRole('heading').textContent()).toBe(`You no longer have access to ${community}`);
      expect(await lost.textContent()).toContain('A moderator banned you from this community.');
      expect(await sam.page.getByRole('textbox', { name: 'Message #general' }).count()).toBe(0);
      expect(await sam.page.getByRole('navigation', { name: 'Channels' }).count()).toBe(0);

      // The console shows the outcome, and the queue updated live: nothing in it needs action any more.
      await owner.page.getByTestId('case-resolution').getByText(/banned/).waitFor(AT_ONCE);
      await expect.poll(() => owner.page.getByRole('list', { name: 'Cases' }).getByTestId('case').count(), AT_ONCE).toBe(0);
      await filterButton('Resolved').click();
      await queueCase(owner.page, 'Buy cheap followers now!!!').waitFor();

      // Sam cannot come back: the community page offers no way in.
      await sam.page.goto(communityUrl);
      expect(await sam.page.getByRole('textbox', { name: 'Message #general' }).count()).toBe(0);
      expect(await sam.page.getByTestId('community-ban').textContent()).toContain('You are banned from this community.');
      expect(await sam.page.getByRole('button', { name: 'Join community' }).count()).toBe(0);

      // The audit log has both actions; the ban can be lifted from there.
      await owner.page.getByRole('navigation', { name: 'Moderation sections' }).getByRole('link', { name: 'Audit log' }).click();
      await owner.page.waitForURL(`${communityUrl}/moderation/audit`);
      const entries = owner.page.getByTestId('audit-entry');
      await entries.filter({ hasText: 'banned Sam Spammer' }).waitFor();
      await entries.filter({ hasText: 'timed out Mia Member' }).waitFor();
      const unban = owner.page.getByRole('list', { name: 'Banned people' }).getByRole('button', { name: 'Unban Sam Spammer' });
      await unban.waitFor();
      expect(await seriousA11yViolations(owner.page)).toEqual([]);
      await unban.click();
      await owner.page.getByText('Unbanned. They can join again.').waitFor();
      await entries.filter({ hasText: 'unbanned Sam Spammer' }).waitFor();

      // Unbanned, Sam can join again and his open tab gets the community back.
      await sam.page.goto(communityUrl);
      await sam.page.getByRole('button', { name: 'Join community' }).click();
      await sam.page.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name: /general/ }).click();
      await sam.page.waitForURL(channelUrl);
      await waitForChannel(sam.page);
      expect(await sam.page.getByTestId('community-access-lost').count()).toBe(0);

      // Automod settings: a word filter that refuses, and slow mode on #general.
      await owner.page.getByRole('navigation', { name: 'Moderation sections' }).getByRole('link', { name: 'Settings' }).click();
      await owner.page.waitForURL(`${communityUrl}/moderation/settings`);
      await owner.page.getByLabel('Words and phrases').fill('followers\ncasino');
      await owner.page.getByLabel('#general').fill('5');
      await owner.page.getByRole('button', { name: 'Save settings' }).click();
      await owner.page.getByRole('status').getByText('Saved.').waitFor();
      await owner.page.reload();
      expect(await owner.page.getByLabel('Words and phrases').inputValue()).toBe('followers\ncasino');
      expect(await owner.page.getByLabel('#general').inputValue()).toBe('5');
      expect(await seriousA11yViolations(owner.page)).toEqual([]);

      expect(pageErrors).toEqual([]);
    } finally {
      await owner.context.close();
      await mia.context.close();
      await sam.context.close();
    }
  });
});
