import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  waitUntilLive,
  haveChromium,
  reportMissingChromium,
  seriousA11yViolations,
  signUp,
  startProduct,
  uniqueEmail,
  type Product,
} from './harness.ts';

reportMissingChromium('the feed journey');

const UUID = '[0-9a-f-]{36}';
/** New posts, comments and reactions reach other readers live; this is the product's promise, not CI slack. */
const LIVE = { timeout: 2_000 };

/** Waits until the feed has subscribed over the socket (live events flow from then on). */
function waitForFeed(page: Page): Promise<void> {
  return waitUntilLive(page, page.locator('section[data-live="true"]'));
}

function post(page: Page, text: string) {
  return page.getByRole('list', { name: 'Posts' }).getByTestId('post').filter({ hasText: text });
}

describe.skipIf(!haveChromium)('the community feed in real browsers', () => {
  let product: Product;

  beforeAll(async () => {
    product = await startProduct();
  });

  afterAll(async () => {
    await product?.close();
  });

  it('a post appears behind a live banner for another reader, who shows it, comments, reacts and votes', async () => {
    const ada = await product.newDevice();
    const bob = await product.newDevice();
    const community = `Reading Room ${Date.now().toString(36)}`;
    const pageErrors: string[] = [];
    for (const { page } of [ada, bob]) {
      page.on('pageerror', (err) => pageErrors.push(err.message));
      page.on('console', (msg) => msg.type() === 'error' && !/Failed to load resource/.test(msg.text()) && pageErrors.push(msg.text()));
    }
    try {
      await signUp(ada.page, product.baseUrl, uniqueEmail('ada'), 'Ada Lovelace');
      await signUp(bob.page, product.baseUrl, uniqueEmail('bob'), 'Bob Kahn');

      // Ada creates a community; Bob joins. Both open its feed from the community's sections.
      await ada.page.goto('/app/c');
      await ada.page.getByLabel('Name', { exact: true }).fill(community);
      await ada.page.getByRole('button', { name: 'Create community' }).click();
      await ada.page.waitForURL(new RegExp(`/app/c/${UUID}$`));
      const communityUrl = ada.page.url();
      await bob.page.goto(`/app/c?q=${encodeURIComponent(community)}`);
      await bob.page.getByRole('button', { name: `Join ${community}` }).click();
      await bob.page.waitForURL(communityUrl);
      for (const { page } of [ada, bob]) {
        await page.getByRole('navigation', { name: 'Community sections' }).getByRole('link', { name: 'Feed' }).click();
        await page.waitForURL(`${communityUrl}/feed`);
        await waitForFeed(page);
      }
      await bob.page.getByText('No posts yet. Start the conversation!').waitFor();
      expect(await seriousA11yViolations(bob.page)).toEqual([]);

      // Bob has something on screen; Ada posts. Her post shows for her at once, with its markdown rendered.
      await ada.page.getByLabel('Write a post').fill('Welcome to the **reading room**');
      await ada.page.getByRole('button', { name: 'Post', exact: true }).click();
      await post(ada.page, 'Welcome to the reading room').waitFor();
      // The composer is ready for the next post.
      expect(await ada.page.getByLabel('Write a post').inputValue()).toBe('');
      expect(await post(ada.page, 'Welcome to the reading room').getByTestId('post-body').innerHTML()).toContain('<strong>reading room</strong>');

      // Bob sees a banner instead of the post jumping in; showing it puts the post on top and moves focus there.
      const banner = bob.page.getByRole('button', { name: 'Show 1 new post' });
      await banner.waitFor(LIVE);
      expect(await bob.page.getByTestId('new-posts-status').textContent()).toBe('1 new post');
      expect(await bob.page.getByTestId('post').count()).toBe(0);
      expect(await seriousA11yViolations(bob.page)).toEqual([]);
      await banner.click();
      const welcome = post(bob.page, 'Welcome to the reading room');
      await welcome.waitFor();
      await expect.poll(() => welcome.evaluate((el) => el === document.activeElement)).toBe(true);
      expect(await bob.page.getByRole('button', { name: /new post/ }).count()).toBe(0);

      // Bob comments; Ada's count follows live and she reads the comment.
      await welcome.getByTestId('comments-button').click();
      await welcome.getByText('No comments yet.').waitFor();
      await welcome.getByRole('textbox', { name: 'Write a comment' }).fill('Glad to be here');
      await welcome.getByRole('button', { name: 'Comment', exact: true }).click();
      await welcome.getByTestId('comment').filter({ hasText: 'Glad to be here' }).waitFor();
      const adaWelcome = post(ada.page, 'Welcome to the reading room');
      await adaWelcome.getByRole('button', { name: '1 comment' }).waitFor(LIVE);
      await adaWelcome.getByRole('button', { name: '1 comment' }).click();
      await adaWelcome.getByTestId('comment').filter({ hasText: 'Glad to be here' }).waitFor();

      // Ada replies to the comment; Bob sees the reply live under it.
      await adaWelcome.getByRole('button', { name: 'Reply to Bob Kahn' }).click();
      await adaWelcome.getByRole('textbox', { name: 'Reply to Bob Kahn' }).fill('Make yourself at home');
      await adaWelcome.getByRole('button', { name: 'Reply', exact: true }).click();
      await welcome.getByRole('list', { name: 'Replies to Bob Kahn' }).getByText('Make yourself at home').waitFor(LIVE);

      // Bob reacts to the post; Ada sees it live.
      await welcome.getByRole('button', { name: 'Add reaction' }).first().click();
      await bob.page.getByRole('button', { name: 'React with thumbs up' }).click();
      await welcome.getByRole('button', { name: 'thumbs up reaction, 1 person' }).first().waitFor();
      await adaWelcome.getByRole('button', { name: 'thumbs up reaction, 1 person' }).first().waitFor(LIVE);

      // Ada asks a poll; Bob shows it and votes.
      await ada.page.getByRole('radio', { name: 'Poll' }).check();
      await ada.page.getByLabel('Question').fill('Next book?');
      await ada.page.getByLabel('Option 1').fill('Dune');
      await ada.page.getByLabel('Option 2').fill('Emma');
      await ada.page.getByRole('button', { name: 'Post', exact: true }).click();
      await post(ada.page, 'Next book?').waitFor();
      await bob.page.getByRole('button', { name: 'Show 1 new post' }).click(LIVE);
      const poll = post(bob.page, 'Next book?');
      await poll.getByRole('button', { name: 'Vote for Emma' }).click();
      await poll.getByRole('button', { name: 'Emma: 1 vote, your vote' }).waitFor();
      expect(await seriousA11yViolations(bob.page)).toEqual([]);

      // Bob follows Ada from her profile card; his home feed has her posts.
      await poll.getByTestId('person-name').click();
      const card = bob.page.getByTestId('profile-card');
      await card.getByRole('button', { name: 'Follow Ada Lovelace' }).click();
      await card.getByRole('button', { name: 'Unfollow Ada Lovelace' }).waitFor();
      await card.getByText('1 follower').waitFor();
      // The card leads to her full profile page.
      expect(await card.getByTestId('profile-link').getAttribute('href')).toMatch(/^\/app\/people\/[0-9a-f-]{36}$/);
      await bob.page.keyboard.press('Escape');
      await bob.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Feed' }).click();
      await bob.page.waitForURL(`${product.baseUrl}/app/feed`);
      await post(bob.page, 'Welcome to the reading room').waitFor();
      await post(bob.page, 'Next book?').waitFor();
      expect(await seriousA11yViolations(bob.page)).toEqual([]);

      expect(pageErrors).toEqual([]);
    } finally {
      await ada.context.close();
      await bob.context.close();
    }
  });
});
