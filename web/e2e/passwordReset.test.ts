import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  haveChromium,
  PASSWORD,
  reportMissingChromium,
  seriousA11yViolations,
  signUp,
  startProduct,
  uniqueEmail,
  type Product,
} from './harness.ts';

reportMissingChromium('the password reset journey');

const NEW_PASSWORD = 'seven purple owls at the harbour';
/** Answers that hash or check a password (argon2id, deliberately slow) may take a few seconds on a busy machine. */
const SLOW = { timeout: 15_000 };

describe.skipIf(!haveChromium)('password reset and account settings in a real browser', () => {
  let product: Product;

  beforeAll(async () => {
    product = await startProduct();
  });

  afterAll(async () => {
    await product?.close();
  });

  it('"Forgot password?" on the sign-in page leads to a link by e-mail that sets a new password', async () => {
    const email = uniqueEmail('forgetful');
    const setup = await product.newDevice();
    await signUp(setup.page, product.baseUrl, email, 'Rosalind Franklin');
    await setup.context.close();

    const { context, page } = await product.newDevice();
    try {
      await page.goto('/signin');
      await page.getByRole('link', { name: 'Forgot password?' }).click();
      await page.waitForURL(`${product.baseUrl}/forgot-password`);
      expect(await seriousA11yViolations(page)).toEqual([]);

      await page.getByLabel('E-mail').fill(email);
      await page.getByRole('button', { name: 'Send reset link' }).click();
      await expect.poll(() => page.getByRole('status').textContent(), SLOW).toContain(`If an account uses ${email}`);
      expect(await seriousA11yViolations(page)).toEqual([]);

      // The link is mailed by a job: wait for it in the development outbox, newest first.
      const mail = page.getByRole('listitem').filter({ hasText: email }).filter({ hasText: 'Reset your Edulure password' });
      await expect
        .poll(
          async () => {
            await page.goto('/dev/outbox');
            return mail.count();
          },
          { timeout: 15_000 },
        )
        .toBe(1);
      await mail.getByRole('link', { name: /reset-password/ }).click();
      await page.waitForURL(/\/reset-password\?token=/);
      const resetUrl = page.url();
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Choose a new password');
      expect(await seriousA11yViolations(page)).toEqual([]);

      // The strength rules of sign-up apply, shown beside the field.
      await page.getByLabel('New password').fill('password123');
      await page.getByRole('button', { name: 'Set new password' }).click();
      const field = page.getByLabel('New password');
      await expect.poll(() => field.getAttribute('aria-invalid'), SLOW).toBe('true');
      expect(await page.getByText('This password is too common').isVisible()).toBe(true);
      expect(await seriousA11yViolations(page)).toEqual([]);

      await field.fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Set new password' }).click();
      await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent(), SLOW).toBe('Password changed');
      expect(await seriousA11yViolations(page)).toEqual([]);

      // The link works once.
      await page.goto(resetUrl);
      await page.getByLabel('New password').fill('yet another long passphrase');
      await page.getByRole('button', { name: 'Set new password' }).click();
      await expect.poll(async () => (await page.locator('[data-form-alert]').textContent())?.trim(), SLOW).toMatch(/already used/);
      expect(await page.getByRole('link', { name: 'Ask for a new link' }).isVisible()).toBe(true);

      // The old password no longer signs in; the new one does.
      await page.goto('/signin');
      await page.getByLabel('E-mail').fill(email);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect.poll(async () => (await page.locator('[data-form-alert]').textContent())?.trim(), SLOW).toMatch(/incorrect/);
      await page.getByLabel('Password').fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(`${product.baseUrl}/app`);
      expect(await page.getByTestId('display-name').textContent()).toBe('Rosalind Franklin');
    } finally {
      await context.close();
    }
  });

  it('account settings change the password, with errors beside the fields', async () => {
    const email = uniqueEmail('settings');
    const { context, page } = await product.newDevice();
    try {
      await signUp(page, product.baseUrl, email, 'Chien-Shiung Wu');
      await page.goto('/app/settings/account');
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Account');
      expect(await seriousA11yViolations(page)).toEqual([]);

      const passwordForm = page.getByRole('region', { name: 'Change password' });
      await passwordForm.getByLabel('Current password').fill('not my password at all');
      await passwordForm.getByLabel('New password').fill(NEW_PASSWORD);
      await passwordForm.getByRole('button', { name: 'Change password' }).click();
      const current = passwordForm.getByLabel('Current password');
      await expect.poll(() => current.getAttribute('aria-invalid'), SLOW).toBe('true');
      expect(await current.evaluate((el) => el === document.activeElement)).toBe(true);
      expect(await seriousA11yViolations(page)).toEqual([]);

      await current.fill(PASSWORD);
      await passwordForm.getByLabel('New password').fill(NEW_PASSWORD);
      await passwordForm.getByRole('button', { name: 'Change password' }).click();
      await expect.poll(() => passwordForm.getByRole('status').textContent(), SLOW).toContain('Password changed.');
      expect(await seriousA11yViolations(page)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('account settings change the e-mail once the new address confirms it', async () => {
    const email = uniqueEmail('mover');
    const { context, page } = await product.newDevice();
    try {
      await signUp(page, product.baseUrl, email, 'Lise Meitner');
      await page.goto('/app/settings/account');
      const emailForm = page.getByRole('region', { name: 'Change e-mail' });
      const newEmail = uniqueEmail('moved');
      await emailForm.getByLabel('New e-mail').fill(newEmail);
      await emailForm.getByLabel('Current password').fill(PASSWORD);
      await emailForm.getByRole('button', { name: 'Send confirmation link' }).click();
      await expect.poll(() => emailForm.getByRole('status').textContent(), SLOW).toContain(`We sent a confirmation link to ${newEmail}`);
      expect(await seriousA11yViolations(page)).toEqual([]);

      await page.goto('/dev/outbox');
      await page.getByRole('listitem').filter({ hasText: newEmail }).first().getByRole('link', { name: /confirm-email/ }).click();
      await page.waitForURL(/\/confirm-email\?token=/);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('E-mail changed');
      expect(await seriousA11yViolations(page)).toEqual([]);

      // This device stays signed in, now under the new address.
      await page.goto('/app/settings/account');
      expect(await page.getByRole('main').getByText(newEmail, { exact: true }).isVisible()).toBe(true);
    } finally {
      await context.close();
    }
  });
});
