import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectionStatus,
  haveChromium,
  reportMissingChromium,
  seriousA11yViolations,
  signIn,
  signUp,
  startProduct,
  uniqueEmail,
  type Product,
} from './harness.ts';

reportMissingChromium('the session journeys');

describe.skipIf(!haveChromium)('sessions, verification and live connection in a real browser', () => {
  let product: Product;

  beforeAll(async () => {
    product = await startProduct();
  });

  afterAll(async () => {
    await product?.close();
  });

  it('verifies the e-mail through a link from the dev outbox', async () => {
    const { context, page } = await product.newDevice();
    const email = uniqueEmail('verify');
    try {
      await signUp(page, product.baseUrl, email, 'Grace Hopper');
      await page.getByRole('button', { name: 'Resend link' }).click();
      await expect.poll(() => page.getByText('A new verification link is on its way.').isVisible()).toBe(true);

      await page.goto('/dev/outbox');
      expect(await seriousA11yViolations(page)).toEqual([]);
      // Newest first: the resent mail's link is the one still valid.
      const newest = page.getByRole('listitem').filter({ hasText: email }).first();
      await newest.getByRole('link', { name: /verify-email/ }).click();
      await page.waitForURL(/\/verify-email\?token=/);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('E-mail verified');
      expect(await seriousA11yViolations(page)).toEqual([]);

      await page.goto('/app');
      expect(await page.getByText('Please verify your e-mail.').count()).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('lists sessions; revoking another device signs it out live, revoking this one signs out here', async () => {
    const email = uniqueEmail('devices');
    const laptop = await product.newDevice();
    const phone = await product.newDevice();
    try {
      await signUp(laptop.page, product.baseUrl, email, 'Katherine Johnson');
      await signIn(phone.page, product.baseUrl, email);
      await expect.poll(() => connectionStatus(phone.page).textContent(), { timeout: 15_000 }).toBe('connected');

      await laptop.page.goto('/app/sessions');
      const items = laptop.page.getByRole('list', { name: 'Active sessions' }).getByRole('listitem');
      expect(await items.count()).toBe(2);
      expect(await items.first().getByText('This device').isVisible()).toBe(true);
      expect(await seriousA11yViolations(laptop.page)).toEqual([]);

      await laptop.page.getByRole('button', { name: /^Revoke session/ }).click();
      await expect.poll(() => items.count()).toBe(1);
      // The phone hears about it over its socket and leaves the app without reloading.
      await phone.page.waitForURL(`${product.baseUrl}/signin`, { timeout: 15_000 });

      await laptop.page.getByRole('button', { name: 'Sign out this device' }).click();
      await laptop.page.waitForURL(`${product.baseUrl}/signin`);
      await laptop.page.goto('/app');
      expect(new URL(laptop.page.url()).pathname).toBe('/signin');
    } finally {
      await laptop.context.close();
      await phone.context.close();
    }
  });

  it('renews an expired access token once, even when several requests race with the same refresh cookie', async () => {
    const { context, page } = await product.newDevice();
    try {
      await signUp(page, product.baseUrl, uniqueEmail('refresh'), 'Alan Turing');
      await context.clearCookies({ name: 'edulure_access' });

      // A used refresh token presented again revokes the session, so these must share one refresh.
      const statuses = await page.evaluate(async () => {
        const responses = await Promise.all(Array.from({ length: 4 }, () => fetch('/session/token')));
        return responses.map((r) => r.status);
      });
      expect(statuses).toEqual([200, 200, 200, 200]);

      await page.reload();
      expect(new URL(page.url()).pathname).toBe('/app');
      await expect.poll(() => connectionStatus(page).textContent(), { timeout: 15_000 }).toBe('connected');
    } finally {
      await context.close();
    }
  });

  it('tells the user when the browser goes offline and when it is back', async () => {
    const { context, page } = await product.newDevice();
    try {
      await signUp(page, product.baseUrl, uniqueEmail('offline'), 'Radia Perlman');
      await expect.poll(() => connectionStatus(page).textContent(), { timeout: 15_000 }).toBe('connected');
      await context.setOffline(true);
      await expect.poll(() => connectionStatus(page).textContent()).toBe('offline');
      await context.setOffline(false);
      await expect.poll(() => connectionStatus(page).textContent(), { timeout: 15_000 }).toBe('connected');
    } finally {
      await context.close();
    }
  });

  it('says how long to wait after too many failed sign-ins', async () => {
    const { context, page } = await product.newDevice();
    const email = uniqueEmail('locked');
    try {
      await page.goto('/signin');
      let alert = '';
      for (let attempt = 0; attempt < 8 && !alert.startsWith('Too many attempts'); attempt++) {
        await page.getByLabel('E-mail').fill(email);
        await page.getByLabel('Password').fill(`wrong password number ${attempt}`);
        const answered = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/signin');
        await page.getByRole('button', { name: 'Sign in' }).click();
        await answered;
        // The button is enabled again once the page has applied the answer.
        await page.getByRole('button', { name: 'Sign in' }).and(page.locator(':enabled')).waitFor();
        alert = ((await page.getByRole('alert').textContent()) ?? '').trim();
      }
      expect(alert).toMatch(/^Too many attempts, try again in \d+ s$/);
    } finally {
      await context.close();
    }
  });
});
