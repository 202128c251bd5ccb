/**
 * The README's pictures of the main screens, taken from the product on the demo data: always into
 * test-results/screenshots/, and into docs/screenshots/ (what the README shows) with UPDATE_SCREENSHOTS=1.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, reportMissingChromium, signIn, startProduct, type Product } from './harness.ts';

reportMissingChromium('screenshots');

const ROOT = path.resolve(import.meta.dirname, '../..');
const TARGETS = [path.join(ROOT, 'test-results/screenshots'), ...(process.env.UPDATE_SCREENSHOTS ? [path.join(ROOT, 'docs/screenshots')] : [])];
const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 };
const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 };

/** A PNG of the page as it is now; returns its size so the test can tell a blank capture from a real one. */
async function capture(page: Page, name: string): Promise<number> {
  await page.waitForLoadState('networkidle').catch(() => {});
  // Let fonts, the live connection and late images settle before the picture.
  await page.evaluate(() => document.fonts.ready);
  const png = await page.screenshot({ animations: 'disabled' });
  for (const dir of TARGETS) {
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, `${name}.png`), png);
  }
  return png.length;
}

describe.skipIf(!haveChromium)('screenshots of the main screens', () => {
  let product: Product;

  beforeAll(async () => {
    product = await startProduct({ SEED_DEMO: 'always' });
  });

  afterAll(async () => {
    await product?.close();
  });

  it('landing, home, chat, feed, course, console; dark theme and a phone', { timeout: 180_000 }, async () => {
    const sizes: Record<string, number> = {};
    const visitor = await product.newDevice(DESKTOP);
    await visitor.page.goto('/');
    await visitor.page.getByRole('heading', { level: 1 }).waitFor();
    sizes.landing = await capture(visitor.page, 'landing');

    const learner = await product.newDevice(DESKTOP);
    await signIn(learner.page, product.baseUrl, 'learner@demo.edulure.test', 'learn-with-edulure');
    await learner.page.getByRole('heading', { level: 1 }).waitFor();
    sizes.home = await capture(learner.page, 'home');

    await learner.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Communities' }).click();
    await learner.page.getByRole('link', { name: /Edulure Demo Academy/ }).first().click();
    await learner.page.waitForURL(/\/app\/c\/[0-9a-f-]{36}/);
    await learner.page.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name: /general/ }).click();
    await learner.page.getByRole('log', { name: /^Messages in / }).getByTestId('message').first().waitFor();
    sizes.chat = await capture(learner.page, 'chat');

    await learner.page.goto('/app/feed');
    await learner.page.getByRole('heading', { level: 1 }).waitFor();
    sizes.feed = await capture(learner.page, 'feed');

    await learner.page.goto('/app/courses');
    await learner.page.getByRole('link', { name: /Learning together/ }).first().click();
    await learner.page.waitForURL(/\/app\/courses\/[0-9a-f-]{36}$/);
    await learner.page.getByRole('heading', { level: 1 }).waitFor();
    sizes.course = await capture(learner.page, 'course');

    const moderator = await product.newDevice(DESKTOP);
    await signIn(moderator.page, product.baseUrl, 'moderator@demo.edulure.test', 'keep-edulure-kind');
    await moderator.page.goto(learner.page.url().replace(/\/app\/courses\/.*/, '/app/c'));
    await moderator.page.getByRole('link', { name: /Edulure Demo Academy/ }).first().click();
    await moderator.page.getByRole('navigation', { name: 'Community sections' }).getByRole('link', { name: 'Moderation' }).click();
    await moderator.page.getByTestId('queue-live').waitFor();
    sizes.console = await capture(moderator.page, 'moderation-console');

    const dark = await product.newDevice({ ...DESKTOP, colorScheme: 'dark' });
    await signIn(dark.page, product.baseUrl, 'learner@demo.edulure.test', 'learn-with-edulure');
    await dark.page.goto(learner.page.url().replace(/\/app\/courses\/.*/, '/app/c'));
    await dark.page.getByRole('link', { name: /Edulure Demo Academy/ }).first().click();
    await dark.page.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name: /general/ }).click();
    await dark.page.getByRole('log', { name: /^Messages in / }).getByTestId('message').first().waitFor();
    sizes.darkChat = await capture(dark.page, 'chat-dark');

    const phone = await product.newDevice(PHONE);
    await signIn(phone.page, product.baseUrl, 'learner@demo.edulure.test', 'learn-with-edulure');
    await phone.page.getByRole('heading', { level: 1 }).waitFor();
    sizes.phoneHome = await capture(phone.page, 'home-phone');

    // A real picture of a page is tens of kilobytes; a blank or error capture is a few.
    for (const [name, bytes] of Object.entries(sizes)) expect(bytes, name).toBeGreaterThan(15_000);
  });
});
