/**
 * Explorer search in the web app, on the demo data plus a few things made here with a word nobody else uses: the shell's
 * search box (the `/` shortcut, suggestions grouped by kind, the keyboard), the results page (kinds and facets with
 * counts, all in the address), the post page a result leads to, a phone's width, both themes under axe, and message
 * search in a community's chat.
 */
import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  channelMessage,
  haveChromium,
  loggedInApi,
  reportMissingChromium,
  seriousA11yViolations,
  signIn,
  startProduct,
  waitForChannel,
  type Api,
  type Product,
} from './harness.ts';

reportMissingChromium('explorer search');

const LEARNER = { email: 'learner@demo.edulure.test', password: 'learn-with-edulure' };
const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 };
/** A word only this run's courses, post and message carry. */
const token = `zq${randomBytes(4).toString('hex')}`;
const words = `watercolour ${token}`;

/** What this file made reaches the index from domain events (durable jobs) within a few seconds. */
async function ensureIndexed(api: Api, expected: number): Promise<void> {
  const found = async () => (await api<{ total: number }>('GET', `/search?${new URLSearchParams({ q: token, limit: '50' })}`)).total;
  const deadline = Date.now() + 5_000;
  while ((await found()) < expected) {
    if (Date.now() > deadline) throw new Error(`${token}: not indexed from domain events within 5 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function publishCourse(api: Api, communityId: string, course: Record<string, unknown>): Promise<string> {
  const { course: created } = await api<{ course: { id: string } }>('POST', '/courses', { communityId, summary: `All about ${words}.`, ...course });
  const { module } = await api<{ module: { id: string } }>('POST', `/courses/${created.id}/modules`, { title: 'First steps' });
  await api('POST', `/modules/${module.id}/lessons`, { title: 'Mixing colours', kind: 'text', body: '# Colours\n\nWet on wet.' });
  await api('POST', `/courses/${created.id}/publish`);
  return created.id;
}

const scrollWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth);
const results = (page: Page) => page.getByRole('list', { name: 'Results' }).getByTestId('search-hit');
const pathAndQuery = (page: Page) => {
  const url = new URL(page.url());
  return url.pathname + url.search;
};

describe.skipIf(!haveChromium)('explorer search in real browsers', () => {
  let product: Product;
  let communityId: string;
  let generalId: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    product = await startProduct({ SEED_DEMO: 'always' });
    const instructor = await loggedInApi(product.baseUrl, 'instructor@demo.edulure.test', 'teach-with-edulure');
    const { data: communities } = await instructor<{ data: { id: string; slug: string }[] }>('GET', '/communities?limit=100');
    communityId = communities.find((c) => c.slug === 'demo-academy')!.id;
    const { data: channels } = await instructor<{ data: { id: string; name: string }[] }>('GET', `/communities/${communityId}/channels`);
    generalId = channels.find((c) => c.name === 'general')!.id;

    ids.beginner = await publishCourse(instructor, communityId, { title: `Watercolour ${token} for beginners`, level: 'beginner', tags: ['painting'] });
    ids.master = await publishCourse(instructor, communityId, {
      title: `Watercolour ${token} masterclass`,
      level: 'advanced',
      tags: ['painting', 'portraits'],
      priceMinor: 4500,
      currency: 'EUR',
    });
    ({
      post: { id: ids.post },
    } = await instructor<{ post: { id: string } }>('POST', `/communities/${communityId}/posts`, { kind: 'text', body: `Watercolour ${token} meetup on Friday` }));
    await instructor('POST', `/posts/${ids.post}/comments`, { body: 'Count me in, bringing brushes.' });
    await ensureIndexed(instructor, 3);
  });

  afterAll(async () => {
    await product?.close();
  });

  it('the shell box: `/` focuses it, suggestions come grouped by kind, the keyboard picks one and opens it', async () => {
    const { context, page } = await product.newDevice({ viewport: { width: 1280, height: 800 } });
    try {
      await signIn(page, product.baseUrl, LEARNER.email, LEARNER.password);
      const box = page.getByRole('combobox', { name: 'Search Edulure' });
      await page.locator('body').click({ position: { x: 5, y: 400 } });
      await page.keyboard.press('/');
      await expect.poll(() => box.evaluate((el) => el === document.activeElement)).toBe(true);
      expect(await box.inputValue()).toBe(''); // the slash itself is not typed

      await page.keyboard.type(words);
      const listbox = page.getByRole('listbox', { name: 'Search suggestions' });
      const courses = listbox.getByRole('group', { name: 'Courses' });
      await courses.getByRole('option', { name: /masterclass/ }).waitFor();
      expect(await courses.getByRole('option').count()).toBe(2);
      await listbox.getByRole('group', { name: 'Posts' }).getByRole('option', { name: new RegExp(token) }).waitFor();
      await listbox.getByRole('option', { name: `See all results for “${words}”` }).waitFor();
      expect(await box.getAttribute('aria-expanded')).toBe('true');

      // Escape closes the list and keeps the words; ArrowDown opens it again and walks the options.
      await page.keyboard.press('Escape');
      expect(await box.getAttribute('aria-expanded')).toBe('false');
      expect(await box.inputValue()).toBe(words);
      await page.keyboard.press('ArrowDown');
      expect(await box.getAttribute('aria-expanded')).toBe('true');
      await page.keyboard.press('ArrowDown');
      const first = courses.getByRole('option').first();
      expect(await first.getAttribute('aria-selected')).toBe('true');
      expect(await box.getAttribute('aria-activedescendant')).toBe(await first.getAttribute('id'));
      const title = (await first.textContent())!.trim();

      await page.keyboard.press('Enter');
      await page.waitForURL(/\/app\/courses\/[0-9a-f-]{36}$/);
      await page.getByRole('heading', { level: 1, name: title }).waitFor();
      expect([ids.beginner, ids.master]).toContain(page.url().split('/').pop());

      // "/" typed in a field stays in the field.
      await page.goto('/app/search');
      const pageBox = page.getByTestId('search-page-input');
      await pageBox.fill('a');
      await pageBox.press('/');
      expect(await pageBox.inputValue()).toBe('a/');

      // Enter with no option chosen opens the results page; the search is then among the recent ones.
      await box.fill(words);
      await box.press('Enter');
      await page.waitForURL((url) => url.pathname === '/app/search' && url.searchParams.get('q') === words);
      await results(page).first().waitFor();
      await box.focus();
      await listbox.getByRole('group', { name: 'Recent searches' }).getByRole('option', { name: words }).waitFor();
    } finally {
      await context.close();
    }
  });

  it('the results page: kinds and facets with counts, each choice kept in the address, back and forward work', async () => {
    const { context, page } = await product.newDevice({ viewport: { width: 1280, height: 900 } });
    try {
      await signIn(page, product.baseUrl, LEARNER.email, LEARNER.password);
      await page.goto(`/app/search?${new URLSearchParams({ q: words })}`);
      await expect.poll(() => page.getByTestId('result-count').textContent()).toBe('3 results');
      const kinds = page.getByRole('navigation', { name: 'Result types' });
      expect(await kinds.getByRole('link', { name: /^All/ }).textContent()).toMatch(/All\s+3/);
      expect(await kinds.getByRole('link', { name: /^Courses/ }).textContent()).toMatch(/Courses\s+2/);
      expect(await kinds.getByRole('link', { name: /^Posts/ }).textContent()).toMatch(/Posts\s+1/);
      // Matches are marked in the snippets, and only with <mark>.
      const snippet = (await results(page).filter({ hasText: 'meetup' }).getByTestId('hit-snippet').innerHTML()).replace(/<!--[\s\S]*?-->/g, '');
      expect(snippet).toMatch(/<mark>[^<]*<\/mark>/);
      expect(snippet.replace(/<\/?mark>/g, '')).not.toMatch(/</);

      const filters = page.getByRole('complementary', { name: 'Filters' });
      const level = filters.getByRole('region', { name: 'Level' });
      expect(await level.getByRole('link', { name: /Advanced/ }).textContent()).toMatch(/1/);
      await level.getByRole('link', { name: /Advanced/ }).click();
      await page.waitForURL(/level=advanced/);
      await expect.poll(() => results(page).count()).toBe(1);
      expect(await results(page).first().textContent()).toContain('masterclass');
      expect(await results(page).first().getByTestId('hit-price').textContent()).toMatch(/45/);

      await page.goBack();
      await page.waitForURL((url) => !url.search.includes('level='));
      await expect.poll(() => results(page).count()).toBe(3);

      await kinds.getByRole('link', { name: /^Courses/ }).click();
      await page.waitForURL(/types=course/);
      await expect.poll(() => results(page).count()).toBe(2);
      await filters.getByRole('region', { name: 'Price' }).getByRole('link', { name: /^Free/ }).click();
      await page.waitForURL(/price=free/);
      await expect.poll(() => results(page).count()).toBe(1);
      expect(await results(page).first().textContent()).toContain('for beginners');
      expect(pathAndQuery(page)).toContain('types=course');

      // The address alone rebuilds the page.
      await page.reload();
      await expect.poll(() => results(page).count()).toBe(1);
      expect(await page.getByRole('list', { name: 'Active filters' }).textContent()).toMatch(/Only courses.*Price: free/s);

      await page.getByLabel('Sort by').selectOption('recent');
      await page.waitForURL(/sort=recent/);
      expect(pathAndQuery(page)).toMatch(/types=course.*price=free.*sort=recent/);

      // A tag leads to the results with that tag.
      await page.getByRole('link', { name: 'Clear all filters' }).click();
      await page.waitForURL((url) => !url.search.includes('price='));
      await filters.getByRole('region', { name: 'Tags' }).getByRole('link', { name: /#portraits/ }).click();
      await page.waitForURL(/tag=portraits/);
      await expect.poll(() => results(page).count()).toBe(1);

      // Nothing found: what to try instead.
      await page.goto(`/app/search?${new URLSearchParams({ q: `${token} xylophoneqq`, level: 'beginner' })}`);
      const none = page.getByTestId('no-results');
      await none.waitFor();
      await none.getByRole('link', { name: 'Search again without filters' }).waitFor();
      expect(await none.textContent()).toContain('Check the spelling');
      await none.getByRole('link', { name: 'courses', exact: true }).waitFor();

      // Nothing asked: recent searches and what is popular.
      await page.goto('/app/search');
      await page.getByTestId('recent-searches').getByRole('link', { name: new RegExp(token) }).first().waitFor();
      await page.getByRole('heading', { name: 'Popular on Edulure' }).waitFor();
    } finally {
      await context.close();
    }
  });

  it('a post found leads to its own page, with its comments', async () => {
    const { context, page } = await product.newDevice();
    try {
      await signIn(page, product.baseUrl, LEARNER.email, LEARNER.password);
      await page.goto(`/app/search?${new URLSearchParams({ q: words, types: 'post' })}`);
      await results(page).first().getByRole('link').first().click();
      await page.waitForURL(`**/app/c/${communityId}/feed/${ids.post}`);
      await page.getByTestId('post').filter({ hasText: 'meetup on Friday' }).waitFor();
      await page.getByTestId('comment').filter({ hasText: 'Count me in' }).waitFor();
      expect(await seriousA11yViolations(page)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('on a phone: nothing scrolls sideways, and the search icon opens the box in the menu', async () => {
    const { context, page } = await product.newDevice(PHONE);
    try {
      await signIn(page, product.baseUrl, LEARNER.email, LEARNER.password);
      for (const url of ['/app/search', `/app/search?${new URLSearchParams({ q: words })}`, `/app/search?${new URLSearchParams({ q: words, level: 'advanced' })}`]) {
        await page.goto(url);
        await page.waitForLoadState('networkidle').catch(() => {});
        expect(await scrollWidth(page), url).toBeLessThanOrEqual(390);
      }
      await page.getByTestId('search-icon').click();
      const box = page.getByRole('combobox', { name: 'Search Edulure' });
      await expect.poll(() => box.evaluate((el) => el === document.activeElement)).toBe(true);
      await page.keyboard.type(words);
      await page.getByRole('listbox', { name: 'Search suggestions' }).getByRole('group', { name: 'Courses' }).getByRole('option').first().waitFor();
      expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
    } finally {
      await context.close();
    }
  });

  it('axe finds nothing serious on the results page, in light and in dark', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const { context, page } = await product.newDevice({ colorScheme });
      try {
        await signIn(page, product.baseUrl, LEARNER.email, LEARNER.password);
        await page.goto(`/app/search?${new URLSearchParams({ q: words })}`);
        await results(page).first().waitFor();
        expect(await seriousA11yViolations(page), `${colorScheme}: results`).toEqual([]);
        // With the suggestions open, too.
        await page.getByRole('combobox', { name: 'Search Edulure' }).fill(words);
        await page.getByRole('listbox', { name: 'Search suggestions' }).getByRole('option').first().waitFor();
        expect(await seriousA11yViolations(page), `${colorScheme}: suggestions`).toEqual([]);
        await page.goto('/app/search');
        expect(await seriousA11yViolations(page), `${colorScheme}: start`).toEqual([]);
      } finally {
        await context.close();
      }
    }
  });

  it("message search in a community's chat finds a message and leads to it in its channel", async () => {
    const { context, page } = await product.newDevice({ viewport: { width: 1280, height: 900 } });
    try {
      await signIn(page, product.baseUrl, LEARNER.email, LEARNER.password);
      await page.goto(`/app/c/${communityId}/${generalId}`);
      await waitForChannel(page);
      const composer = page.getByRole('textbox', { name: 'Message #general' });
      await composer.fill(`New brushes for ${token} arrived today`);
      await composer.press('Enter');
      await channelMessage(page, 'New brushes for').waitFor();

      const search = page.getByRole('searchbox', { name: /Search messages in/ });
      await search.fill(`brushes ${token}`);
      const found = page.getByTestId('message-search-result').filter({ hasText: 'arrived today' });
      await found.waitFor();
      const text = await found.textContent();
      expect(text).toContain('Demo Learner');
      expect(text).toContain('#general');
      expect(await found.locator('mark').first().textContent()).toMatch(/brushes/i);
      expect(await seriousA11yViolations(page)).toEqual([]);

      await found.click();
      await page.waitForURL(/\?message=[0-9a-f-]{36}$/);
      const messageId = new URL(page.url()).searchParams.get('message')!;
      await expect.poll(() => page.locator(`[data-message-id="${messageId}"]`).getAttribute('aria-current')).toBe('true');
    } finally {
      await context.close();
    }
  });
});
