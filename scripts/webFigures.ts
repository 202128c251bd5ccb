/**
 * `npm run bench:web`: what the landing, chat and feed pages cost a visitor. Builds the web app when there is no build,
 * starts the product as `npm start` does with nothing configured (embedded PostgreSQL, demo data), signs in as the
 * demo learner in Chromium (the landing page is loaded signed out, as a newcomer sees it) and loads each page five
 * times with the HTTP cache off, recording the compressed JavaScript transferred, the first contentful paint and when
 * the page was hydrated (medians). Prints a table and writes bench/results/web-<date>.json (web-<date>-2.json and on
 * for later runs that day). Figures from a busy machine say little: run it on a quiet one.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { DEMO_ACCOUNTS, DEMO_COMMUNITY } from '../orm/seeders/demoData.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LOADS = 5;
const CHROMIUM = '/usr/bin/chromium';

interface PageFigures {
  page: string;
  path: string;
  /** Compressed JavaScript bytes on the wire per load (median, with the runs). */
  jsBytes: number;
  jsBytesRuns: number[];
  scripts: number;
  /** First contentful paint in ms (median, with the runs). */
  fcpMs: number;
  fcpRuns: number[];
  /** When the page was hydrated, in ms from navigation (median, with the runs). */
  hydratedMs: number;
  hydratedRuns: number[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function ensureBuild(): void {
  if (existsSync(path.join(ROOT, 'build', 'handler.js'))) {
    process.stdout.write('Using the existing web build (build/); run `npm run build` first to measure new sources.\n');
    return;
  }
  process.stdout.write('Building the web app…\n');
  const result = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (result.status !== 0) throw new Error('the web build failed; see above');
}

async function startProduct(port: number, dataDir: string) {
  const child = spawn(process.execPath, ['server/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      PORT: String(port),
      EMBEDDED_PG_PORT: String(await freePort()),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const base = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited:\n${output}`);
    if (Date.now() - started > 120_000) throw new Error(`the server was not ready within 120 s:\n${output}`);
    const ready = await fetch(`${base}/health/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    base,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The demo community and its first channel, as the demo learner sees them. */
async function demoPaths(base: string): Promise<Record<'landing' | 'chat' | 'feed', string>> {
  const learner = DEMO_ACCOUNTS[0]!;
  const login = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: learner.email, password: learner.password }),
  });
  if (!login.ok) throw new Error(`demo sign-in failed: HTTP ${login.status}`);
  const { accessToken } = (await login.json()) as { accessToken: string };
  const get = async <T>(url: string): Promise<T> => {
    const res = await fetch(`${base}/api/v1${url}`, { headers: { authorization: `Bearer ${accessToken}` } });
    if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
    return (await res.json()) as T;
  };
  const communities = await get<{ data: { id: string; slug: string }[] }>(`/communities?q=${encodeURIComponent(DEMO_COMMUNITY.name)}`);
  const community = communities.data.find((c) => c.slug === DEMO_COMMUNITY.slug);
  if (!community) throw new Error('the demo community is missing');
  const channels = await get<{ data: { id: string; name: string }[] }>(`/communities/${community.id}/channels`);
  const channel = channels.data.find((c) => c.name === DEMO_COMMUNITY.channels[0]!.name) ?? channels.data[0];
  if (!channel) throw new Error('the demo community has no channel');
  return { landing: '/', chat: `/app/c/${community.id}/${channel.id}`, feed: `/app/c/${community.id}/feed` };
}

async function signIn(context: BrowserContext, base: string): Promise<void> {
  const learner = DEMO_ACCOUNTS[0]!;
  const page = await context.newPage();
  await page.goto(`${base}/signin`);
  await page.getByLabel('E-mail').fill(learner.email);
  await page.getByLabel('Password').fill(learner.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/app`);
  await page.close();
}

/**
 * How long a new tab is left before the page is loaded. Chromium builds its own interface for every new tab (the
 * omnibox popup, a WebUI page in a renderer of its own) and spends about half a second of one core on it; on a 2-core
 * machine that would be charged to whichever page loads first. A visitor's tab has long finished with it.
 */
const SETTLE_MS = 1000;

/**
 * One load with the HTTP cache off: compressed script bytes (bodies as transferred), first contentful paint, and
 * when the page was hydrated (the root layout's `edulure:hydrated` mark).
 */
async function loadOnce(context: BrowserContext, url: string): Promise<{ jsBytes: number; scripts: number; fcpMs: number; hydratedMs: number }> {
  const page = await context.newPage();
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const scripts = new Map<string, number>();
  const headerBytes = new Map<string, number>();
  const bodies = new Map<string, number>();
  cdp.on('Network.responseReceived', (e) => {
    if (e.type === 'Script') {
      scripts.set(e.requestId, 0);
      headerBytes.set(e.requestId, e.response.encodedDataLength);
    }
  });
  cdp.on('Network.loadingFinished', (e) => {
    if (scripts.has(e.requestId)) bodies.set(e.requestId, e.encodedDataLength - (headerBytes.get(e.requestId) ?? 0));
  });
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForLoadState('networkidle');
  await page.waitForFunction(() => performance.getEntriesByName('edulure:hydrated').length > 0, null, { timeout: 30_000 });
  const { fcpMs, hydratedMs } = await page.evaluate(
    () =>
      new Promise<{ fcpMs: number; hydratedMs: number }>((resolve) => {
        new PerformanceObserver((list) => {
          const entry = list.getEntriesByName('first-contentful-paint')[0];
          if (entry) resolve({ fcpMs: entry.startTime, hydratedMs: performance.getEntriesByName('edulure:hydrated')[0]!.startTime });
        }).observe({ type: 'paint', buffered: true });
      }),
  );
  await page.close();
  return { jsBytes: [...bodies.values()].reduce((a, b) => a + b, 0), scripts: scripts.size, fcpMs, hydratedMs };
}

async function main() {
  ensureBuild();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'edulure-web-figures-'));
  // Run as root, the embedded PostgreSQL runs as `postgres`, which must be able to enter this directory.
  await chmod(dataDir, 0o755);
  const product = await startProduct(await freePort(), dataDir);
  let browser: Browser | undefined;
  try {
    const paths = await demoPaths(product.base);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
    // The landing page as a visitor sees it (signed in, "/" forwards to the app); the others as the demo learner.
    const visitor = await browser.newContext();
    const learner = await browser.newContext();
    await signIn(learner, product.base);
    const figures: PageFigures[] = [];
    for (const [name, pagePath] of Object.entries(paths)) {
      const context = name === 'landing' ? visitor : learner;
      const runs = [];
      for (let i = 0; i < LOADS; i++) runs.push(await loadOnce(context, `${product.base}${pagePath}`));
      figures.push({
        page: name,
        path: pagePath,
        jsBytes: median(runs.map((r) => r.jsBytes)),
        jsBytesRuns: runs.map((r) => r.jsBytes),
        scripts: median(runs.map((r) => r.scripts)),
        fcpMs: Math.round(median(runs.map((r) => r.fcpMs))),
        fcpRuns: runs.map((r) => Math.round(r.fcpMs)),
        hydratedMs: Math.round(median(runs.map((r) => r.hydratedMs))),
        hydratedRuns: runs.map((r) => Math.round(r.hydratedMs)),
      });
    }

    process.stdout.write(`\n${'page'.padEnd(10)}${'scripts'.padStart(9)}${'JS (KB, compressed)'.padStart(22)}${'FCP (ms)'.padStart(11)}${'hydrated (ms)'.padStart(16)}  FCP runs\n`);
    for (const f of figures) {
      process.stdout.write(
        `${f.page.padEnd(10)}${String(f.scripts).padStart(9)}${(f.jsBytes / 1024).toFixed(1).padStart(22)}${String(f.fcpMs).padStart(11)}${String(f.hydratedMs).padStart(16)}  ${f.fcpRuns.join(', ')}\n`,
      );
    }
    const date = new Date().toISOString().slice(0, 10);
    // A later run of the same day gets its own file (web-<date>-2.json, …): a committed record is never overwritten.
    let file = path.join(ROOT, 'bench', 'results', `web-${date}.json`);
    for (let n = 2; existsSync(file); n++) file = path.join(ROOT, 'bench', 'results', `web-${date}-${n}.json`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(
      file,
      JSON.stringify({ date: new Date().toISOString(), loads: LOADS, cache: 'disabled', cpus: os.availableParallelism(), pages: figures }, null, 2) + '\n',
    );
    process.stdout.write(`\nMedians of ${LOADS} loads each; written to ${path.relative(ROOT, file)}\n`);
  } finally {
    await browser?.close();
    await product.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
