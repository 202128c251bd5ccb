import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectionStatus,
  haveChromium,
  PASSWORD,
  reportMissingChromium,
  seriousA11yViolations,
  startProduct,
  uniqueEmail,
  type Product,
} from './harness.ts';

reportMissingChromium('the sign-up journey');

describe.skipIf(!haveChromium)('sign-up journey in a real browser', () => {
  let product: Product;

  beforeAll(async () => {
    product = await startProduct();
  });

  afterAll(async () => {
    await product?.close();
  });

  it('signs up, lands in the app with a live connection, and signs out', async () => {
    const { context, page } = await product.newDevice();
    const email = uniqueEmail('learner');
    const displayName = 'Ada Lovelace';
    try {
      await page.goto('/signup');
      expect(await page.title()).toContain('Create your account');
      expect(await seriousA11yViolations(page)).toEqual([]);

      await page.getByLabel('Display name').fill(displayName);
      await page.getByLabel('E-mail').fill(email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Create account' }).click();

      await page.waitForURL(`${product.baseUrl}/app`);
      expect(await page.getByTestId('display-name').textContent()).toBe(displayName);
      await expect.poll(() => connectionStatus(page).textContent(), { timeout: 15_000 }).toBe('connected');
      expect(await connectionStatus(page).getAttribute('role')).toBe('status');
      expect(await page.getByText('Please verify your e-mail.').isVisible()).toBe(true);

      const cookies = await context.cookies();
      const refresh = cookies.find((c) => c.name === 'edulure_refresh');
      expect(refresh?.httpOnly).toBe(true);
      expect(refresh?.sameSite).toBe('Lax');
      expect(cookies.find((c) => c.name === 'edulure_access')?.httpOnly).toBe(true);

      expect(await seriousA11yViolations(page)).toEqual([]);

      await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL(`${product.baseUrl}/signin`);
      expect((await context.cookies()).map((c) => c.name)).not.toContain('edulure_refresh');

      // The signed-in area is closed again.
      await page.goto('/app');
      expect(new URL(page.url()).pathname).toBe('/signin');
    } finally {
      await context.close();
    }
  });

  it('shows the API errors beside the fields they belong to', async () => {
    const { context, page } = await product.newDevice();
    const email = uniqueEmail('taken');
    try {
      const register = await fetch(`${product.baseUrl}/api/v1/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password: PASSWORD, displayName: 'First Owner' }),
      });
      expect(register.status).toBe(201);

      await page.goto('/signup');
      await page.getByLabel('Display name').fill('Second Owner');
      await page.getByLabel('E-mail').fill(email);
      await page.getByLabel('Password').fill(`${PASSWORD} again`);
      await page.getByRole('button', { name: 'Create account' }).click();

      const emailInput = page.getByLabel('E-mail');
      await expect.poll(() => emailInput.getAttribute('aria-invalid')).toBe('true');
      const [errorId] = ((await emailInput.getAttribute('aria-describedby')) ?? '').split(' ');
      expect(((await page.locator(`[id="${errorId}"]`).textContent()) ?? '').trim()).not.toBe('');
      // Focus moves to the field that needs attention.
      expect(await emailInput.evaluate((el) => el === document.activeElement)).toBe(true);
      expect(await seriousA11yViolations(page)).toEqual([]);

      await page.goto('/signin');
      await page.getByLabel('E-mail').fill(email);
      await page.getByLabel('Password').fill('not the password at all');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(async () => ((await page.getByRole('alert').textContent()) ?? '').trim()).not.toBe('');
      expect(new URL(page.url()).pathname).toBe('/signin');
    } finally {
      await context.close();
    }
  });

  it('works without JavaScript: errors come back beside the fields and a fixed form signs up', async () => {
    const { context, page } = await product.newDevice({ javaScriptEnabled: false });
    const email = uniqueEmail('nojs');
    try {
      await page.goto('/signup');
      await page.getByLabel('Display name').fill('Hedy Lamarr');
      await page.getByLabel('E-mail').fill('not-an-e-mail');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForLoadState();

      expect(await page.getByLabel('E-mail').getAttribute('aria-invalid')).toBe('true');
      expect(await page.getByText('Enter a valid e-mail address.').isVisible()).toBe(true);
      // What was typed comes back, except the password.
      expect(await page.getByLabel('Display name').inputValue()).toBe('Hedy Lamarr');
      expect(await page.getByLabel('E-mail').inputValue()).toBe('not-an-e-mail');

      await page.getByLabel('E-mail').fill(email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.waitForURL(`${product.baseUrl}/app`);
      expect(await page.getByTestId('display-name').textContent()).toBe('Hedy Lamarr');
    } finally {
      await context.close();
    }
  });
});
