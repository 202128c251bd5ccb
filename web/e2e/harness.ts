import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AxeBuilder } from '@axe-core/playwright';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Locator, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { testDatabaseUrl, testRedisUrl } from '../../test/db.ts';
import { freePort } from '../../test/ports.ts';
import { spawnServer, waitForOk, type ServerProcess } from '../../test/processes.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);

/** Printed once per file so a skipped browser suite never passes silently. */
export function reportMissingChromium(suite: string): void {
  if (!haveChromium) {
    process.stderr.write(`[browser] SKIPPING ${suite}: ${CHROMIUM} is missing (apt-get install -y chromium).\n`);
  }
}

/** Sources that end up in build/; a test file changing does not make the build stale. */
const WEB_INPUTS = ['web/src', 'web/static', 'contracts', 'svelte.config.js', 'vite.config.ts', 'package-lock.json'];

function newestMtime(entry: string): number {
  if (!existsSync(entry)) return 0;
  const stat = statSync(entry);
  if (!stat.isDirectory()) return /\.test\.ts$/.test(entry) ? 0 : stat.mtimeMs;
  let newest = 0;
  for (const child of readdirSync(entry)) newest = Math.max(newest, newestMtime(path.join(entry, child)));
  return newest;
}

/** Builds the web app when build/handler.js is missing or older than any web source. */
export async function ensureWebBuild(): Promise<void> {
  const handler = path.join(ROOT, 'build', 'handler.js');
  const sourcesChanged = Math.max(...WEB_INPUTS.map((p) => newestMtime(path.join(ROOT, p))));
  if (existsSync(handler) && statSync(handler).mtimeMs >= sourcesChanged) return;
  // Our own Node (24) rather than whatever `node` is on PATH; a production build, not one shaped by the test env.
  const child = spawn(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`vite build failed (exit ${code}):\n${output}`);
}

export interface Product {
  baseUrl: string;
  browser: Browser;
  server: ServerProcess;
  /** A fresh browser profile (its own cookies), as a second device would be. */
  newDevice(options?: BrowserContextOptions): Promise<{ context: BrowserContext; page: Page }>;
  close(): Promise<void>;
}

/** The real product as `npm start` runs it (server/main.ts serving API, Socket.IO and the built web app) plus Chromium. */
export async function startProduct(extraEnv: Record<string, string> = {}): Promise<Product> {
  await ensureWebBuild();
  const port = await freePort();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'edulure-e2e-'));
  const redisUrl = testRedisUrl();
  const server = spawnServer({
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_URL: await testDatabaseUrl(),
    JWT_KEYS: `test:${randomBytes(32).toString('base64url')}`,
    SEED_DEMO: 'never',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
    // Its own keys in the shared Redis: rate limits (sign-ups per address) and presence are this journey's alone.
    ...(redisUrl ? { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: `e2e-${randomBytes(6).toString('hex')}` } : {}),
    ...extraEnv,
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    await waitForOk(`${baseUrl}/health/ready`, server, 60_000);
    await assertFormPostsAccepted(baseUrl);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  } catch (err) {
    await close();
    throw err;
  }
  const launched = browser;
  return {
    baseUrl,
    browser: launched,
    server,
    async newDevice(options = {}) {
      const context = await launched.newContext({ ...options, baseURL: baseUrl });
      return { context, page: await context.newPage() };
    },
    close,
  };
}

/**
 * SvelteKit refuses form POSTs whose Origin differs from the origin it believes it is serving. adapter-node assumes
 * https unless ORIGIN or PROTOCOL_HEADER is set, so a plain-http server rejects every form; say so in one line rather
 * than as a string of navigation timeouts.
 */
async function assertFormPostsAccepted(baseUrl: string): Promise<void> {
  const response = await fetch(`${baseUrl}/signin`, {
    method: 'POST',
    headers: { origin: baseUrl, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'email=&password=',
    redirect: 'manual',
  });
  if (response.status === 403) {
    throw new Error(
      `the web app rejected a same-origin form POST to ${baseUrl}/signin (403: ${(await response.text()).slice(0, 120)}). ` +
        'adapter-node is deriving a different origin (it defaults to https); server/main.ts must set ORIGIN, or ' +
        'PROTOCOL_HEADER with a trusted header carrying the real protocol, before importing build/handler.js.',
    );
  }
}

/** Serious and critical axe findings, described well enough to fix from the test output alone. */
export async function seriousA11yViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

export function uniqueEmail(prefix: string): string {
  return `${prefix}-${Date.now()}-${randomBytes(4).toString('hex')}@example.com`;
}

export const PASSWORD = 'a quiet lighthouse at dawn';

export interface Api {
  <T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T>;
  upload(name: string, type: string, content: string): Promise<{ asset: { id: string } }>;
}

/** A new account's REST client for a journey's setup (any 2xx is success; a failing call is named in the error). */
export async function signedInApi(baseUrl: string, email: string, displayName: string): Promise<Api> {
  const registered = await fetch(`${baseUrl}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD, displayName }),
  });
  if (registered.status !== 201) throw new Error(`register: HTTP ${registered.status} ${await registered.text()}`);
  const { accessToken } = (await registered.json()) as { accessToken: string };
  return apiWithToken(baseUrl, accessToken);
}

/** An existing account's REST client (the demo accounts, say), signed in with its password. */
export async function loggedInApi(baseUrl: string, email: string, password: string): Promise<Api> {
  const response = await fetch(`${baseUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (!response.ok) throw new Error(`login ${email}: HTTP ${response.status} ${await response.text()}`);
  const { accessToken } = (await response.json()) as { accessToken: string };
  return apiWithToken(baseUrl, accessToken);
}

function apiWithToken(baseUrl: string, accessToken: string): Api {
  const call = async <T,>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${accessToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const api = call as Api;
  api.upload = async (name, type, content) => {
    const form = new FormData();
    form.set('file', new Blob([content], { type }), name);
    const response = await fetch(`${baseUrl}/api/v1/assets`, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` }, body: form });
    const text = await response.text();
    if (!response.ok) throw new Error(`POST /assets: HTTP ${response.status} ${text}`);
    return JSON.parse(text) as { asset: { id: string } };
  };
  return api;
}

/** Signs up through the form and waits for the app to be live. */
export async function signUp(page: Page, baseUrl: string, email: string, displayName: string): Promise<void> {
  await page.goto('/signup');
  await page.getByLabel('Display name').fill(displayName);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.waitForURL(`${baseUrl}/app`).catch(async (err: unknown) => {
    // Say what the form said instead of only "timed out".
    const alert = await page.getByRole('alert').first().textContent().catch(() => null);
    throw new Error(`sign-up did not reach /app (form says: ${alert?.trim() || 'nothing'}; at ${page.url()})`, { cause: err });
  });
}

export async function signIn(page: Page, baseUrl: string, email: string, password = PASSWORD): Promise<void> {
  await page.goto('/signin');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${baseUrl}/app`);
}

export function connectionStatus(page: Page) {
  return page.getByTestId('connection-status');
}

/** Waits until the tab's socket is connected and `ready` shows the page has subscribed: live events flow from then on. */
export async function waitUntilLive(page: Page, ready: Locator): Promise<void> {
  await expect.poll(() => connectionStatus(page).textContent(), { timeout: 15_000 }).toBe('connected');
  await ready.waitFor({ timeout: 15_000 });
}

/** Waits until the channel view has joined its room over the socket. */
export function waitForChannel(page: Page): Promise<void> {
  return waitUntilLive(page, page.locator('section[data-joined="true"]'));
}

/** A message in the channel's main list (the thread panel repeats the thread's root). */
export function channelMessage(page: Page, text: string) {
  return page.getByRole('log', { name: /^Messages in / }).getByTestId('message').filter({ hasText: text });
}
