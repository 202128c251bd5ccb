import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  haveChromium,
  reportMissingChromium,
  seriousA11yViolations,
  signedInApi,
  signIn,
  startProduct,
  uniqueEmail,
  type Product,
} from './harness.ts';

reportMissingChromium('the look and shell journeys');

/** Whether the page is drawn dark: the body's background, as the browser computed it (not just a class). */
async function drawnDark(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const probe = document.createElement('canvas').getContext('2d')!;
    probe.fillStyle = getComputedStyle(document.body).backgroundColor;
    probe.fillRect(0, 0, 1, 1);
    const [r, g, b] = probe.getImageData(0, 0, 1, 1).data;
    return (r! + g! + b!) / 3 < 80;
  });
}

const themeButton = (page: Page, name: 'System' | 'Light' | 'Dark') =>
  page.getByRole('group', { name: 'Colour theme' }).getByRole('button', { name, exact: true });

describe.skipIf(!haveChromium)('the look: themes, the responsive shell and error pages', () => {
  let product: Product;
  let email: string;
  let communityId: string;
  let channelId: string;

  beforeAll(async () => {
    product = await startProduct();
    email = uniqueEmail('looks');
    const api = await signedInApi(product.baseUrl, email, 'Lena Look');
    ({
      community: { id: communityId },
    } = await api<{ community: { id: string } }>('POST', '/communities', { name: `Looks ${Date.now()}`, visibility: 'public' }));
    ({
      channel: { id: channelId },
    } = await api<{ channel: { id: string } }>('POST', `/communities/${communityId}/channels`, { name: 'general' }));
  });

  afterAll(async () => {
    await product?.close();
  });

  it('keeps the chosen theme across a reload, and the server renders it before any script runs', async () => {
    const { context, page } = await product.newDevice({ colorScheme: 'light' });
    try {
      await page.goto('/signin');
      expect(await drawnDark(page)).toBe(false);
      expect(await themeButton(page, 'System').getAttribute('aria-pressed')).toBe('true');

      await themeButton(page, 'Dark').click();
      await expect.poll(() => drawnDark(page)).toBe(true);
      expect(await themeButton(page, 'Dark').getAttribute('aria-pressed')).toBe('true');

      await page.reload();
      expect(await page.locator('html').getAttribute('class')).toContain('dark');
      expect(await drawnDark(page)).toBe(true);
      await expect.poll(() => themeButton(page, 'Dark').getAttribute('aria-pressed')).toBe('true');

      // The HTML itself carries the theme: no flash of light before a script could fix it.
      const cookie = (await context.cookies()).find((c) => c.name === 'edulure_theme');
      expect(cookie?.value).toBe('dark');
      const html = await (await fetch(`${product.baseUrl}/signin`, { headers: { cookie: `edulure_theme=${cookie?.value}` } })).text();
      expect(html).toMatch(/<html[^>]*class="dark"[^>]*data-theme="dark"/);
      const plain = await (await fetch(`${product.baseUrl}/signin`)).text();
      expect(plain).toMatch(/<html[^>]*class=""[^>]*data-theme="system"/);

      // "System" follows the operating system, live.
      await themeButton(page, 'System').click();
      await expect.poll(() => drawnDark(page)).toBe(false);
      await page.emulateMedia({ colorScheme: 'dark' });
      await expect.poll(() => drawnDark(page)).toBe(true);
      await page.reload();
      expect(await drawnDark(page)).toBe(true);
      expect(await page.locator('html').getAttribute('data-theme')).toBe('system');

      // An explicit light choice wins over a dark system.
      await themeButton(page, 'Light').click();
      await expect.poll(() => drawnDark(page)).toBe(false);
      await page.reload();
      expect(await drawnDark(page)).toBe(false);
    } finally {
      await context.close();
    }
  });

  it('the theme toggle works without JavaScript', async () => {
    const { context, page } = await product.newDevice({ javaScriptEnabled: false, colorScheme: 'light' });
    try {
      await page.goto('/signin?next=%2Fapp');
      await themeButton(page, 'Dark').click();
      await page.waitForLoadState();
      expect(new URL(page.url()).pathname + new URL(page.url()).search).toBe('/signin?next=%2Fapp');
      expect(await drawnDark(page)).toBe(true);
      expect(await themeButton(page, 'Dark').getAttribute('aria-pressed')).toBe('true'); // the server renders the choice
      const bad = await fetch(`${product.baseUrl}/theme`, {
        method: 'POST',
        headers: { origin: product.baseUrl, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'theme=sepia&next=//evil.example',
        redirect: 'manual',
      });
      expect(bad.status).toBe(400);
      const offSite = await fetch(`${product.baseUrl}/theme`, {
        method: 'POST',
        headers: { origin: product.baseUrl, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'theme=dark&next=//evil.example',
        redirect: 'manual',
      });
      expect(offSite.status).toBe(303);
      expect(offSite.headers.get('location')).toBe('/');
    } finally {
      await context.close();
    }
  });

  it('has no serious accessibility findings in either theme, on public and app pages', async () => {
    const { context, page } = await product.newDevice({ colorScheme: 'light' });
    try {
      const pages = ['/', '/signin'];
      const appPages = ['/app', '/app/settings', '/app/feed', `/app/c/${communityId}/${channelId}`, '/app/no-such-page'];
      const findings: string[] = [];
      const check = async (path: string, theme: string) => {
        const response = await page.goto(path);
        // An error page would pass axe too: each page must be the page itself (the unknown one is meant to be a 404).
        const expected = path === '/app/no-such-page' ? 404 : 200;
        if (response?.status() !== expected) {
          throw new Error(`${path} answered ${response?.status()}; the server said:\n${product.server.output().slice(-2000)}`);
        }
        await page.waitForLoadState('networkidle');
        for (const finding of await seriousA11yViolations(page)) findings.push(`${theme} ${path}: ${finding}`);
      };
      for (const theme of ['light', 'dark'] as const) {
        await context.addCookies([{ name: 'edulure_theme', value: theme, url: product.baseUrl }]);
        for (const path of pages) await check(path, theme);
      }
      await signIn(page, product.baseUrl, email);
      for (const theme of ['light', 'dark'] as const) {
        await context.addCookies([{ name: 'edulure_theme', value: theme, url: product.baseUrl }]);
        for (const path of appPages) await check(path, theme);
        expect(await drawnDark(page)).toBe(theme === 'dark');
      }
      expect(findings).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('folds the navigation behind "Menu" on a phone without overflowing, and keeps the account controls reachable', async () => {
    const { context, page } = await product.newDevice({ viewport: { width: 390, height: 844 } });
    const fitsWidth = () => page.evaluate(() => document.documentElement.scrollWidth);
    try {
      await page.goto('/');
      expect(await fitsWidth()).toBeLessThanOrEqual(390);
      await signIn(page, product.baseUrl, email);
      expect(await fitsWidth()).toBeLessThanOrEqual(390);

      const nav = page.getByRole('navigation', { name: 'Main' });
      const menu = page.getByRole('banner').getByRole('button', { name: 'Menu' });
      expect(await nav.isVisible()).toBe(false);
      expect(await menu.getAttribute('aria-expanded')).toBe('false');
      expect(await page.getByTestId('notification-bell').isVisible()).toBe(true);

      await menu.click();
      expect(await menu.getAttribute('aria-expanded')).toBe('true');
      expect(await nav.isVisible()).toBe(true);
      // Focus moves into what just opened.
      expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Home');
      expect(await page.getByRole('banner').getByRole('button', { name: 'Sign out' }).isVisible()).toBe(true);
      expect(await page.getByRole('banner').getByLabel('Status').isVisible()).toBe(true);
      expect(await fitsWidth()).toBeLessThanOrEqual(390);

      // Escape closes it and gives focus back to the button.
      await page.keyboard.press('Escape');
      expect(await menu.getAttribute('aria-expanded')).toBe('false');
      expect(await nav.isVisible()).toBe(false);
      expect(await menu.evaluate((el) => el === document.activeElement)).toBe(true);

      // Following a link closes it too; Settings is in the menu and lists what moved out of the navigation.
      await menu.click();
      await page.getByRole('banner').getByRole('link', { name: 'Settings' }).click();
      await page.waitForURL(`${product.baseUrl}/app/settings`);
      expect(await menu.getAttribute('aria-expanded')).toBe('false');
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Settings');
      const sections = page.getByRole('list', { name: 'Settings sections' });
      for (const name of ['Account', 'Profile', 'Sessions', 'Notification preferences']) {
        expect(await sections.getByRole('link', { name: new RegExp(`^${name}`) }).count()).toBe(1);
      }
      // This account is signed in on this phone and on the devices of the tests before.
      expect(await sections.getByRole('link', { name: /^Sessions/ }).textContent()).toMatch(/\b[1-9]\d* devices? (is|are) signed in/);
      expect(await fitsWidth()).toBeLessThanOrEqual(390);

      for (const path of ['/app/feed', `/app/c/${communityId}/${channelId}`, '/app/no-such-page']) {
        await page.goto(path);
        await page.waitForLoadState('networkidle');
        expect(await fitsWidth(), path).toBeLessThanOrEqual(390);
      }
    } finally {
      await context.close();
    }
  });

  it('keeps the app navigation on a page that does not exist', async () => {
    const { context, page } = await product.newDevice();
    try {
      await signIn(page, product.baseUrl, email);
      const response = await page.goto('/app/no-such-page');
      expect(response?.status()).toBe(404);
      expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Page not found');
      expect(await page.title()).toContain('Page not found');
      const nav = page.getByRole('navigation', { name: 'Main' });
      expect(await nav.isVisible()).toBe(true);
      await nav.getByRole('link', { name: 'Feed' }).click();
      await page.waitForURL(`${product.baseUrl}/app/feed`);

      // Sessions moved out of the main navigation into the settings page.
      expect(await nav.getByRole('link', { name: 'Sessions' }).count()).toBe(0);
      await page.getByRole('banner').getByRole('link', { name: 'Settings' }).click();
      await page.getByRole('link', { name: /^Sessions/ }).click();
      await page.waitForURL(`${product.baseUrl}/app/sessions`);
    } finally {
      await context.close();
    }
  });

  it('shows a progress bar only while a navigation keeps the person waiting', async () => {
    const { context, page } = await product.newDevice();
    try {
      await signIn(page, product.baseUrl, email);
      const bar = page.getByTestId('navigation-progress');
      const nav = page.getByRole('navigation', { name: 'Main' });
      expect(await bar.count()).toBe(0);
      // The feed's data takes a while to come: the bar shows, then goes once the page is there.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      await page.route('**/app/feed/__data.json*', async (route) => {
        await held;
        await route.continue();
      });
      await nav.getByRole('link', { name: 'Feed' }).click();
      await bar.waitFor({ state: 'attached', timeout: 5_000 });
      expect(await bar.getAttribute('aria-hidden')).toBe('true');
      release();
      await page.waitForURL(`${product.baseUrl}/app/feed`);
      await expect.poll(() => bar.count()).toBe(0);
    } finally {
      await context.close();
    }
  });
});
