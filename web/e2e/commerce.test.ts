import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import {
  haveChromium,
  reportMissingChromium,
  seriousA11yViolations,
  signedInApi,
  signIn,
  signUp,
  startProduct,
  uniqueEmail,
  waitUntilLive,
  type Api,
  type Product,
} from './harness.ts';

reportMissingChromium('the commerce journey');

/** Orders settle through the job queue and reach open tabs over the socket; the margin is for a loaded CI machine. */
const LIVE = { timeout: 15_000 };

function step(name: string): void {
  process.stderr.write(`[commerce journey] ${name}\n`);
}

interface Coupon {
  code: string;
  reservedCount: number;
  redeemedCount: number;
}

describe.skipIf(!haveChromium)('buying in real browsers: checkout with a coupon, the test payment page, declines and refunds', () => {
  let product: Product;
  let seller: Api;
  let sellerEmail: string;
  let communityId: string;
  let courseId: string;
  const suffix = Date.now().toString(36);
  const courseTitle = `Watercolour Basics ${suffix}`;
  const coupon = `HALF${suffix}`.toUpperCase().slice(0, 40);
  const pageErrors: string[] = [];
  const watch = (p: Page) => {
    p.on('pageerror', (err) => pageErrors.push(err.message));
  };
  // Tab A of the first learner stays on the course page for the whole journey.
  let learner: { context: BrowserContext; page: Page };

  const couponUses = async () => {
    const { data } = await seller<{ data: Coupon[] }>('GET', '/me/coupons');
    return data.find((c) => c.code === coupon);
  };
  const lessonLocked = (page: Page, title: string) => page.getByTestId('outline-lesson').filter({ hasText: title }).getAttribute('data-locked');

  beforeAll(async () => {
    product = await startProduct();
    sellerEmail = uniqueEmail('sofia');
    seller = await signedInApi(product.baseUrl, sellerEmail, 'Sofia Seller');
    ({
      community: { id: communityId },
    } = await seller<{ community: { id: string } }>('POST', '/communities', { name: `Painters ${suffix}`, visibility: 'public' }));
    const { course } = await seller<{ course: { id: string } }>('POST', '/courses', {
      title: courseTitle,
      summary: 'Washes, glazes and wet-on-wet.',
      level: 'beginner',
      communityId,
      priceMinor: 2000,
      currency: 'EUR',
    });
    courseId = course.id;
    const { module } = await seller<{ module: { id: string } }>('POST', `/courses/${courseId}/modules`, { title: 'First strokes' });
    await seller('POST', `/modules/${module.id}/lessons`, { title: 'Flat washes', kind: 'text', body: 'Load the brush, tilt the paper.' });
    await seller('POST', `/courses/${courseId}/publish`);
    await seller('POST', '/coupons', { code: coupon, productId: courseId, percentOff: 50 });
  });

  afterAll(async () => {
    await product?.close();
  });

  it('a learner buys the course at half price on the test payment page; the open course page unlocks without a reload', async () => {
    learner = await product.newDevice();
    const tabA = learner.page;
    watch(tabA);
    await signUp(tabA, product.baseUrl, uniqueEmail('lena'), 'Lena Learner');

    step('Tab A: the course page shows the price and locked lessons');
    await tabA.goto(`/app/courses/${courseId}`);
    const buy = tabA.getByTestId('buy-course');
    await waitUntilLive(tabA, tabA.locator('[data-testid="buy-course"][data-live="true"]'));
    expect(await buy.textContent()).toMatch(/Buy for .*20\.00/);
    expect(await lessonLocked(tabA, 'Flat washes')).toBe('true');
    expect(await seriousA11yViolations(tabA)).toEqual([]);

    step('Tab B: checkout, the coupon halves the total live');
    const tabB = await learner.context.newPage();
    watch(tabB);
    await tabB.goto(`/app/checkout/${courseId}`);
    await tabB.getByRole('heading', { name: 'Checkout', level: 1 }).waitFor();
    const total = tabB.getByTestId('quote-total');
    await expect.poll(() => total.textContent(), LIVE).toMatch(/20\.00/);
    await tabB.getByLabel('Coupon code').fill('NOPE-NOT-A-CODE');
    await expect.poll(() => tabB.getByTestId('coupon-message').textContent(), LIVE).not.toBe('');
    expect(await tabB.getByLabel('Coupon code').getAttribute('aria-invalid')).toBe('true');
    await tabB.getByLabel('Coupon code').fill(coupon.toLowerCase());
    await expect.poll(() => total.textContent(), LIVE).toMatch(/10\.00/);
    expect(await tabB.getByLabel('Coupon code').getAttribute('aria-invalid')).toBeNull();
    expect(await seriousA11yViolations(tabB)).toEqual([]);

    step('Tab B: continue to the test payment page and pay');
    await tabB.getByRole('button', { name: 'Continue to payment' }).click();
    await tabB.waitForURL(/\/app\/checkout\/test\/[0-9a-f-]{36}$/);
    await tabB.getByRole('heading', { name: 'Test payment — no real money moves' }).waitFor();
    expect(await seriousA11yViolations(tabB)).toEqual([]);
    await tabB.getByRole('button', { name: /^Pay .*10\.00/ }).click();
    await tabB.getByText('Payment received. Thank you!').waitFor(LIVE);

    step('Tab A unlocks without a reload');
    await expect.poll(() => lessonLocked(tabA, 'Flat washes'), LIVE).toBe('false');
    expect(await buy.count()).toBe(0);
    await tabA.getByRole('link', { name: 'Start learning' }).waitFor();

    step('The receipt shows the discount');
    await tabB.getByRole('link', { name: 'View receipt' }).click();
    await tabB.getByRole('heading', { name: 'Receipt', level: 1 }).waitFor();
    expect(await tabB.getByTestId('receipt').getAttribute('data-status')).toBe('paid');
    expect(await tabB.getByTestId('order-discount').textContent()).toMatch(/10\.00/);
    expect(await tabB.getByTestId('order-total').textContent()).toMatch(/10\.00/);
    expect(await seriousA11yViolations(tabB)).toEqual([]);
    await tabB.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Orders' }).click();
    await tabB.getByTestId('order-row').filter({ hasText: courseTitle }).waitFor();
    expect(await seriousA11yViolations(tabB)).toEqual([]);
    await tabB.close();

    const uses = await couponUses();
    expect(uses).toMatchObject({ reservedCount: 0, redeemedCount: 1 });
    expect(pageErrors).toEqual([]);
  });

  it('a declined payment frees the coupon use it reserved, and a paid class seat for the next buyer', async () => {
    const other = await product.newDevice();
    const page = other.page;
    watch(page);
    try {
      await signUp(page, product.baseUrl, uniqueEmail('dora'), 'Dora Decliner');

      step('A checkout with the coupon reserves a use until it is declined');
      await page.goto(`/app/checkout/${courseId}`);
      await page.getByLabel('Coupon code').fill(coupon);
      await expect.poll(() => page.getByTestId('quote-total').textContent(), LIVE).toMatch(/10\.00/);
      await page.getByRole('button', { name: 'Continue to payment' }).click();
      await page.waitForURL(/\/app\/checkout\/test\//);
      expect((await couponUses())?.reservedCount).toBe(1);
      await page.getByRole('button', { name: 'Decline' }).click();
      await page.getByText(/The payment was declined/).waitFor(LIVE);
      await page.getByRole('link', { name: 'Try again' }).waitFor();
      await expect.poll(async () => (await couponUses())?.reservedCount, LIVE).toBe(0);
      expect((await couponUses())?.redeemedCount).toBe(1);

      step('A paid class with one seat: a declined checkout gives the seat back');
      const startsAt = new Date(Date.now() + 3 * 24 * 3600 * 1000).toISOString();
      const { classroom } = await seller<{ classroom: { id: string } }>('POST', '/classrooms', {
        communityId,
        title: `Live sketching ${suffix}`,
        startsAt,
        durationMinutes: 60,
        capacity: 1,
        priceMinor: 1500,
        currency: 'EUR',
      });
      await page.goto(`/app/c/${communityId}`);
      await page.getByRole('button', { name: 'Join community' }).click();
      await page.getByRole('heading', { name: 'Pick a channel' }).waitFor();
      await page.goto(`/app/c/${communityId}/classes/${classroom.id}`);
      expect(await page.getByTestId('class-price').textContent()).toMatch(/15\.00/);
      expect(await seriousA11yViolations(page)).toEqual([]);
      await page.getByTestId('buy-ticket').click();
      await page.waitForURL(`${product.baseUrl}/app/checkout/${classroom.id}`);
      await page.getByRole('button', { name: 'Continue to payment' }).click();
      await page.waitForURL(/\/app\/checkout\/test\//);

      // While Dora's checkout holds the only seat, nobody else can buy one.
      const third = await signedInApi(product.baseUrl, uniqueEmail('theo'), 'Theo Third');
      await third('POST', `/communities/${communityId}/join`);
      await expect(third('POST', '/checkout', { productId: classroom.id })).rejects.toThrow(/HTTP 409/);

      await page.getByRole('button', { name: 'Decline' }).click();
      await page.getByText(/The payment was declined/).waitFor(LIVE);
      const checkout = await third<{ order: { status: string; totalMinor: number } }>('POST', '/checkout', { productId: classroom.id });
      expect(checkout.order).toMatchObject({ status: 'pending', totalMinor: 1500 });
      expect(pageErrors).toEqual([]);
    } finally {
      await other.context.close();
    }
  });

  it('the seller refunds the order from the sales dashboard and the learner’s course page locks again', async () => {
    const tabA = learner.page;
    await waitUntilLive(tabA, tabA.getByRole('link', { name: 'Start learning' }));

    const sellerDevice = await product.newDevice();
    const page = sellerDevice.page;
    watch(page);
    try {
      await signIn(page, product.baseUrl, sellerEmail);
      step('The sales dashboard: totals, chart, recent orders, coupons');
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Teach' }).click();
      await page.getByRole('link', { name: 'Sales' }).click();
      await page.getByRole('heading', { name: 'Sales', level: 1 }).waitFor();
      await page.getByTestId('earnings-total').first().waitFor();
      await page.getByTestId('earnings-chart').waitFor();
      const couponRow = page.getByTestId('coupon-row').filter({ hasText: coupon });
      expect(await couponRow.getByTestId('coupon-redeemed').textContent()).toBe('1');
      expect(await couponRow.getByTestId('coupon-reserved').textContent()).toBe('0');
      const csv = await page.request.get((await page.getByTestId('earnings-csv').getAttribute('href')) ?? '');
      expect(csv.status()).toBe(200);
      expect(csv.headers()['content-type']).toContain('text/csv');
      expect(await seriousA11yViolations(page)).toEqual([]);

      step('Refund the paid order in full');
      const row = page.getByTestId('sales-order').filter({ hasText: 'Lena Learner' }).filter({ hasText: courseTitle });
      await row.getByRole('button', { name: /^Refund/ }).click();
      const dialog = page.getByRole('alertdialog');
      await dialog.getByLabel('Reason').fill('Bought by mistake.');
      expect(await seriousA11yViolations(page)).toEqual([]);
      await dialog.getByRole('button', { name: 'Confirm refund' }).click();
      await page.getByText(/^Refunded .*10\.00/).waitFor(LIVE);
      await expect.poll(() => row.getByTestId('order-status').getAttribute('data-status'), LIVE).toBe('refunded');

      step('The learner’s open course page locks again');
      await expect.poll(() => lessonLocked(tabA, 'Flat washes'), LIVE).toBe('true');
      await tabA.getByTestId('buy-course').waitFor();

      step('The seller adds a paid membership tier; a visitor sees it with its price per month');
      await page.goto(`/app/c/${communityId}`);
      const tiers = page.getByRole('region', { name: 'Paid membership tiers' });
      await tiers.getByLabel('Name').fill('Supporter');
      await tiers.getByLabel('Price').fill('9');
      await tiers.getByLabel('Currency').fill('EUR');
      await tiers.getByRole('button', { name: 'Add tier' }).click();
      await tiers.getByTestId('tier-row').filter({ hasText: 'Supporter' }).waitFor();
      expect(await seriousA11yViolations(page)).toEqual([]);
      await tabA.goto(`/app/c/${communityId}`);
      const card = tabA.getByTestId('tier-card').filter({ hasText: 'Supporter' });
      expect(await card.getByRole('link', { name: /^Join for .*9\.00 \/ month/ }).count()).toBe(1);
      expect(await seriousA11yViolations(tabA)).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await sellerDevice.context.close();
      await learner.context.close();
    }
  });
});
