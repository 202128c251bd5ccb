import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  haveChromium,
  reportMissingChromium,
  seriousA11yViolations,
  signIn,
  signedInApi,
  signUp,
  startProduct,
  uniqueEmail,
  waitUntilLive,
  type Product,
} from './harness.ts';

reportMissingChromium('the ebook reader journey');

const LIVE = { timeout: 10_000 };
const INVISIBLE = /\u200B|\u200C|\u200D|\u2060|\uFEFF/g;

/** A long chapter: enough paragraphs that the reader scrolls. */
function chapterBody(name: string): string {
  return Array.from(
    { length: 60 },
    (_, i) => `Paragraph ${i + 1} of ${name}: the tide comes in over the flats and the birds lift off in one long line.`,
  ).join('\n\n');
}

function content(page: Page) {
  return page.getByTestId('chapter-content');
}

/** The text of every highlight mark in the chapter, without the watermark's invisible characters. */
function markedText(page: Page): Promise<string> {
  return content(page)
    .locator('mark[data-highlight]')
    .allTextContents()
    .then((parts) => parts.join('').replace(INVISIBLE, '').trim());
}

/** "Paragraph 27" — the first paragraph of the chapter showing at the top of the window. */
function firstVisibleParagraph(page: Page): Promise<string> {
  return page.evaluate(() => {
    const paragraphs = Array.from(document.querySelectorAll('[data-testid="chapter-content"] p'));
    const first = paragraphs.find((p) => p.getBoundingClientRect().bottom > 8);
    return (/Paragraph \d+/.exec(first?.textContent?.replace(/\u200B|\u200C|\u200D|\u2060|\uFEFF/g, '') ?? '') ?? [''])[0];
  });
}

describe.skipIf(!haveChromium)('the ebook reader in real browsers', () => {
  let product: Product;

  beforeAll(async () => {
    product = await startProduct();
  });

  afterAll(async () => {
    await product?.close();
  });

  it('claims a free ebook, highlights with a note that survives a reload, and picks up the place on another device', async () => {
    const title = `Tides and Birds ${Date.now().toString(36)}`;
    const api = await signedInApi(product.baseUrl, uniqueEmail('ana'), 'Ana Author');
    const { community } = await api<{ community: { id: string } }>('POST', '/communities', {
      name: `Shore Readers ${Date.now().toString(36)}`,
      visibility: 'public',
    });
    const { ebook } = await api<{ ebook: { id: string } }>('POST', '/ebooks', { title, author: 'Ana Author', communityId: community.id });
    await api('POST', `/ebooks/${ebook.id}/chapters`, { title: 'The Flats', body: chapterBody('the flats') });
    await api('POST', `/ebooks/${ebook.id}/chapters`, { title: 'The Long Line', body: chapterBody('the long line') });
    await api('POST', `/ebooks/${ebook.id}/publish`);

    const email = uniqueEmail('rhea');
    const phone = await product.newDevice({ viewport: { width: 1200, height: 800 } });
    const pageErrors: string[] = [];
    const watch = (p: Page) => {
      p.on('pageerror', (err) => pageErrors.push(err.message));
      p.on('console', (msg) => msg.type() === 'error' && !/Failed to load resource/.test(msg.text()) && pageErrors.push(msg.text()));
    };
    watch(phone.page);
    const { page } = phone;
    let laptop: Awaited<ReturnType<Product['newDevice']>> | null = null;
    try {
      await signUp(page, product.baseUrl, email, 'Rhea Reader');

      // The list offers the free book; one click claims it and opens the reader at the first chapter.
      await page.goto('/app/ebooks');
      const card = page.getByTestId('ebook-card').filter({ hasText: title });
      await card.waitFor();
      expect(await seriousA11yViolations(page)).toEqual([]);
      await card.getByRole('button', { name: `Get ${title} free and read` }).click();
      await page.waitForURL(new RegExp(`/app/ebooks/${ebook.id}/read$`));
      await page.getByRole('heading', { name: 'The Flats', level: 1 }).waitFor();
      await page.locator('[data-testid="chapter-content"][data-ready="true"]').waitFor();

      // Select the start of the third paragraph, as a reader would, and save it as a green highlight with a note.
      const selected = await content(page).evaluate((root) => {
        const paragraph = root.querySelectorAll('p')[2]!;
        const range = document.createRange();
        range.selectNodeContents(paragraph);
        const selection = document.getSelection()!;
        selection.removeAllRanges();
        selection.addRange(range);
        return range.toString();
      });
      const expected = selected.replace(INVISIBLE, '').trim();
      const form = page.getByRole('form', { name: 'New highlight' });
      await form.waitFor();
      await form.getByRole('radio', { name: 'Green' }).check();
      await form.getByLabel('Note (optional)').fill('The birds leave together.');
      await form.getByRole('button', { name: 'Save highlight' }).click();
      await page.getByTestId('highlight').getByText('The birds leave together.').waitFor();
      await expect.poll(() => markedText(page)).toBe(expected);
      expect(await content(page).locator('mark[data-color="green"]').count()).toBeGreaterThan(0);
      expect(await seriousA11yViolations(page)).toEqual([]);

      // The text size is kept on this device.
      await page.getByRole('button', { name: 'Larger text' }).click();
      expect(await page.getByTestId('font-size').textContent()).toBe('20px');

      // After a reload the highlight is back on the same words, with its note.
      await page.reload();
      await page.getByRole('heading', { name: 'The Flats', level: 1 }).waitFor();
      await expect.poll(() => markedText(page)).toBe(expected);
      await page.getByTestId('highlight-note').getByText('The birds leave together.').waitFor();
      expect(await page.getByTestId('font-size').textContent()).toBe('20px');

      // On to chapter two; scrolled halfway down, the place is saved.
      await page.getByRole('link', { name: 'Next chapter' }).click();
      await page.getByRole('heading', { name: 'The Long Line', level: 1 }).waitFor();
      await waitUntilLive(page, page.locator('[data-testid="chapter-content"][data-ready="true"]'));
      const saved = page.waitForResponse((r) => r.url().endsWith(`/app/ebooks/${ebook.id}/position`) && r.request().method() === 'PUT' && r.ok());
      await content(page).locator('p').nth(30).scrollIntoViewIfNeeded();
      await page.evaluate(() => window.scrollBy(0, 1));
      const position = (await (await saved).json()) as { position: { chapterId: string; offset: number } };
      await expect
        .poll(async () => {
          const r = await page.request.get(`/app/api/v1/ebooks/${ebook.id}`);
          return ((await r.json()) as { ebook: { myPosition: { offset: number } | null } }).ebook.myPosition?.offset ?? 0;
        }, LIVE)
        .toBeGreaterThan(1000);
      expect(position.position.offset).toBeGreaterThan(0);
      const phoneParagraph = await firstVisibleParagraph(page);
      expect(phoneParagraph).toMatch(/^Paragraph [1-9]\d$/);

      // Another device opens the book where the reader left it: chapter two, scrolled down to that paragraph.
      laptop = await product.newDevice({ viewport: { width: 1200, height: 800 } });
      watch(laptop.page);
      await signIn(laptop.page, product.baseUrl, email);
      await laptop.page.goto(`/app/ebooks/${ebook.id}/read`);
      await laptop.page.getByRole('heading', { name: 'The Long Line', level: 1 }).waitFor();
      await waitUntilLive(laptop.page, laptop.page.locator('[data-testid="chapter-content"][data-ready="true"]'));
      await expect.poll(() => laptop!.page.evaluate(() => window.scrollY), LIVE).toBeGreaterThan(800);
      expect(await firstVisibleParagraph(laptop.page)).toBe(phoneParagraph);
      expect(await seriousA11yViolations(laptop.page)).toEqual([]);

      // The laptop goes back to chapter one; the phone hears of it and offers to follow.
      await laptop.page.getByRole('link', { name: 'Previous chapter' }).click();
      await laptop.page.getByRole('heading', { name: 'The Flats', level: 1 }).waitFor();
      const elsewhere = page.getByTestId('position-elsewhere').filter({ hasText: 'The Flats' });
      await elsewhere.waitFor(LIVE);
      await elsewhere.getByRole('button', { name: 'Go there' }).click();
      await page.getByRole('heading', { name: 'The Flats', level: 1 }).waitFor(LIVE);

      expect(pageErrors).toEqual([]);
    } finally {
      await laptop?.context.close();
      await phone.context.close();
    }
  });
});
