import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { haveChromium, reportMissingChromium, seriousA11yViolations, signedInApi, signIn, signUp, startProduct, uniqueEmail, type Api, type Product } from './harness.ts';

reportMissingChromium('the bundles journey');

/** Orders settle through the job queue; the margin is for a loaded CI machine. */
const LIVE = { timeout: 15_000 };

function step(name: string): void {
  process.stderr.write(`[bundles journey] ${name}\n`);
}

describe.skipIf(!haveChromium)('bundles in real browsers: an instructor bundles two courses, a learner buys the bundle and both open', () => {
  let product: Product;
  let seller: Api;
  let sellerEmail: string;
  const suffix = Date.now().toString(36);
  const inkTitle = `Ink Drawing ${suffix}`;
  const colourTitle = `Colour Theory ${suffix}`;
  const bundleTitle = `Studio Starter ${suffix}`;
  const courseIds: string[] = [];
  const pageErrors: string[] = [];
  const watch = (p: Page) => {
    p.on('pageerror', (err) => pageErrors.push(err.message));
  };
  /** Elements of a page's own content reaching past the viewport (the app's top navigation is the shell's business). */
  const overflowing = (p: Page, testId: string) =>
    p.getByTestId(testId).evaluate((root) => [root, ...root.querySelectorAll('*')].filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1).map((e) => e.tagName));

  beforeAll(async () => {
    product = await startProduct();
    sellerEmail = uniqueEmail('ines');
    seller = await signedInApi(product.baseUrl, sellerEmail, 'Ines Instructor');
    const {
      community: { id: communityId },
    } = await seller<{ community: { id: string } }>('POST', '/communities', { name: `Studio ${suffix}`, visibility: 'public' });
    for (const [title, priceMinor] of [
      [inkTitle, 2000],
      [colourTitle, 1500],
    ] as const) {
      const { course } = await seller<{ course: { id: string } }>('POST', '/courses', { title, summary: 'Lines and colour.', level: 'beginner', communityId, priceMinor, currency: 'EUR' });
      const { module } = await seller<{ module: { id: string } }>('POST', `/courses/${course.id}/modules`, { title: 'Basics' });
      await seller('POST', `/modules/${module.id}/lessons`, { title: `First lesson of ${title}`, kind: 'text', body: 'Begin here.' });
      await seller('POST', `/courses/${course.id}/publish`);
      courseIds.push(course.id);
    }
  });

  afterAll(async () => {
    await product?.close();
  });

  it('the instructor creates the bundle on the teach page, a learner buys it on a phone and both courses open', async () => {
    const instructor = await product.newDevice();
    const learner = await product.newDevice({ viewport: { width: 390, height: 844 } });
    try {
      const page = instructor.page;
      watch(page);
      await signIn(page, product.baseUrl, sellerEmail);

      step('Teach → Bundles: the form offers both priced courses');
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Teach' }).click();
      await page.getByRole('link', { name: 'Bundles', exact: true }).click();
      await page.getByRole('heading', { name: 'Bundles', level: 1 }).waitFor();
      const form = page.getByTestId('bundle-form');
      expect(await form.getByTestId('bundle-candidate').count()).toBe(2);
      expect(await seriousA11yViolations(page)).toEqual([]);

      step('A bundle in the wrong currency: the API’s message shows beside the item');
      await form.getByLabel('Title', { exact: true }).fill(bundleTitle);
      await form.getByLabel('Description (optional)').fill('Everything to get started.');
      await form.getByLabel(inkTitle).check();
      await form.getByLabel(colourTitle).check();
      await form.getByLabel('Bundle price').fill('28');
      expect(await form.getByLabel('Currency').inputValue()).toBe('EUR');
      await expect.poll(() => form.getByTestId('bundle-form-saving').textContent()).toMatch(/Buyers save .*7\.00 \(20 %\)/);
      await form.getByLabel('Currency').fill('USD');
      await form.getByRole('button', { name: 'Create bundle' }).click();
      await expect.poll(() => form.getByTestId('bundle-item-error').first().textContent(), LIVE).toMatch(/must be priced in USD/);
      const flagged = form.getByTestId('bundle-candidate').filter({ has: page.getByTestId('bundle-item-error') });
      expect(await flagged.getByRole('checkbox').getAttribute('aria-invalid')).toBe('true');
      expect(await seriousA11yViolations(page)).toEqual([]);

      step('In euros it is created and on sale');
      await form.getByLabel('Currency').fill('EUR');
      await form.getByRole('button', { name: 'Create bundle' }).click();
      await page.getByText(`Created “${bundleTitle}” — it is on sale now.`).waitFor(LIVE);
      const row = page.getByTestId('teach-bundle').filter({ hasText: bundleTitle });
      expect(await row.getByTestId('bundle-status').getAttribute('data-status')).toBe('published');
      expect(await form.getByLabel(inkTitle).isChecked()).toBe(false);
      const bundleId = (await row.getAttribute('data-bundle-id')) ?? '';
      expect(bundleId).toMatch(/^[0-9a-f-]{36}$/);
      expect(await seriousA11yViolations(page)).toEqual([]);
      await page.setViewportSize({ width: 390, height: 844 });
      expect(await overflowing(page, 'teach-bundles')).toEqual([]);

      step('The learner opens the bundle page: items, prices and the saving');
      const buyer = learner.page;
      watch(buyer);
      await signUp(buyer, product.baseUrl, uniqueEmail('lou'), 'Lou Learner');
      await buyer.goto(`/app/bundles/${bundleId}`);
      await buyer.getByRole('heading', { name: bundleTitle, level: 1 }).waitFor();
      expect(await buyer.getByTestId('bundle-item').count()).toBe(2);
      expect(await buyer.getByTestId('bundle-item').filter({ hasText: inkTitle }).textContent()).toMatch(/20\.00/);
      expect(await buyer.getByTestId('bundle-separately').textContent()).toMatch(/35\.00/);
      expect(await buyer.getByTestId('bundle-price').textContent()).toMatch(/28\.00/);
      expect(await buyer.getByTestId('bundle-saving').textContent()).toMatch(/7\.00 \(20 %\)/);
      expect(await overflowing(buyer, 'bundle-page')).toEqual([]);
      expect(await seriousA11yViolations(buyer)).toEqual([]);

      step('Buy → checkout → the test payment page → Pay');
      await buyer.getByRole('link', { name: /^Buy the bundle for .*28\.00/ }).click();
      await buyer.waitForURL(`${product.baseUrl}/app/checkout/${bundleId}`);
      await buyer.getByRole('button', { name: 'Continue to payment' }).click();
      await buyer.waitForURL(/\/app\/checkout\/test\/[0-9a-f-]{36}$/);
      await buyer.getByRole('button', { name: /^Pay .*28\.00/ }).click();
      await buyer.getByText('Payment received. Thank you!').waitFor(LIVE);

      step('Both courses open, and the bundle page says it is owned');
      for (const courseId of courseIds) {
        await expect
          .poll(async () => {
            await buyer.goto(`/app/courses/${courseId}`);
            return buyer.getByRole('link', { name: 'Start learning' }).count();
          }, LIVE)
          .toBe(1);
      }
      await buyer.goto(`/app/bundles/${bundleId}`);
      await buyer.getByTestId('bundle-owned').waitFor();
      expect(await buyer.getByTestId('buy-bundle').count()).toBe(0);
      expect(await seriousA11yViolations(buyer)).toEqual([]);

      step('The instructor archives it: their page says so, the learner no longer finds it');
      await row.getByRole('button', { name: /^Archive/ }).click();
      await expect.poll(() => row.getByTestId('bundle-status').getAttribute('data-status'), LIVE).toBe('archived');
      await row.getByRole('link', { name: bundleTitle }).click();
      await page.getByTestId('bundle-unlisted').waitFor();
      expect(await page.getByTestId('bundle-page').getAttribute('data-status')).toBe('archived');
      expect(await seriousA11yViolations(page)).toEqual([]);
      const gone = await buyer.goto(`/app/bundles/${bundleId}`);
      expect(gone?.status()).toBe(404);
      expect(pageErrors).toEqual([]);
    } finally {
      await instructor.context.close();
      await learner.context.close();
    }
  });
});
