import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, reportMissingChromium, seriousA11yViolations, signUp, startProduct, uniqueEmail, type Product } from './harness.ts';

reportMissingChromium('the profile journey');

const UUID = '[0-9a-f-]{36}';

describe.skipIf(!haveChromium)('profiles in real browsers', () => {
  let product: Product;

  beforeAll(async () => {
    product = await startProduct();
  });

  afterAll(async () => {
    await product?.close();
  });

  it('Ada edits her profile and picture; Ben sees them on her public page', async () => {
    const ada = await product.newDevice();
    const ben = await product.newDevice();
    const pageErrors: string[] = [];
    for (const { page } of [ada, ben]) page.on('pageerror', (err) => pageErrors.push(err.message));
    try {
      await signUp(ada.page, product.baseUrl, uniqueEmail('ada'), 'Ada Lovelace');
      await signUp(ben.page, product.baseUrl, uniqueEmail('ben'), 'Ben Reader');

      await ada.page.goto('/app/settings/profile');
      await ada.page.getByRole('heading', { name: 'Profile', level: 1 }).waitFor();
      expect(await seriousA11yViolations(ada.page)).toEqual([]);

      // A name that is too short is refused beside the field, and nothing is saved.
      await ada.page.getByLabel('Display name').fill('A');
      await ada.page.getByLabel('Headline').fill('Poet of science');
      await ada.page.getByRole('button', { name: 'Save profile' }).click();
      const nameField = ada.page.getByLabel('Display name');
      await expect.poll(() => nameField.getAttribute('aria-invalid')).toBe('true');
      await ada.page.getByText('Display name needs at least 2 characters.').waitFor();
      expect(await ada.page.getByLabel('Headline').inputValue()).toBe('Poet of science');

      await nameField.fill('Ada King');
      await ada.page.getByLabel('Bio').fill('I write notes on the Analytical Engine.\nAlgorithms are my thing.');
      await ada.page.getByRole('button', { name: 'Save profile' }).click();
      await ada.page.getByRole('status').getByText('Profile saved.').waitFor();

      // The picture shows as a preview before it is uploaded, then as the avatar.
      const png = await sharp({ create: { width: 200, height: 200, channels: 3, background: { r: 200, g: 60, b: 90 } } }).png().toBuffer();
      await ada.page.getByLabel('New picture').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: png });
      await ada.page.getByTestId('avatar-preview').waitFor();
      await ada.page.getByRole('button', { name: 'Upload picture' }).click();
      await ada.page.getByText('Your new picture is saved.').waitFor();
      const mine = ada.page.getByRole('img', { name: 'Ada King' });
      await expect.poll(() => mine.getAttribute('src')).toMatch(new RegExp(`/api/v1/users/${UUID}/avatar\\?v=${UUID}$`));
      await expect.poll(() => mine.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(200);
      expect(await seriousA11yViolations(ada.page)).toEqual([]);

      // A file that is not an image is refused with the upload's reason.
      await ada.page.getByLabel('New picture').setInputFiles({ name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('%PDF-1.4\n%not an image\n') });
      await ada.page.getByRole('button', { name: 'Upload picture' }).click();
      await ada.page.getByTestId('avatar-error').waitFor();
      expect(await ada.page.getByRole('img', { name: 'Ada King' }).getAttribute('src')).toBe(await mine.getAttribute('src'));

      const publicLink = ada.page.getByRole('link', { name: 'See your public profile' });
      const href = (await publicLink.getAttribute('href'))!;
      expect(href).toMatch(new RegExp(`^/app/people/${UUID}$`));

      // Ben opens Ada's page: her name, headline, bio and picture.
      await ben.page.goto(href);
      const card = ben.page.getByTestId('public-profile');
      await card.getByRole('heading', { name: 'Ada King', level: 1 }).waitFor();
      expect(await card.getByTestId('profile-headline').textContent()).toBe('Poet of science');
      expect(await card.getByTestId('profile-bio').textContent()).toBe('I write notes on the Analytical Engine.\nAlgorithms are my thing.');
      const avatar = card.getByTestId('profile-card').locator('img');
      await expect.poll(() => avatar.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(200);
      expect(await card.getByRole('region', { name: 'Communities you share' }).getByText('None yet.').count()).toBe(1);
      expect(await seriousA11yViolations(ben.page)).toEqual([]);

      // Removing the picture brings the initials back.
      await ada.page.getByRole('button', { name: 'Remove picture' }).click();
      await ada.page.getByText('Your picture was removed.').waitFor();
      await ada.page.getByRole('img', { name: 'Ada King' }).and(ada.page.locator('span')).waitFor();
      await ben.page.reload();
      await card.getByRole('heading', { name: 'Ada King', level: 1 }).waitFor();
      expect(await card.locator('img').count()).toBe(0);

      expect(pageErrors).toEqual([]);
    } finally {
      await ada.context.close();
      await ben.context.close();
    }
  });
});
