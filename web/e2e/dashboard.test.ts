import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  haveChromium,
  reportMissingChromium,
  seriousA11yViolations,
  signedInApi,
  signIn,
  startProduct,
  uniqueEmail,
  waitUntilLive,
  type Product,
} from './harness.ts';

reportMissingChromium('the home dashboard');

/** Live updates land in well under a second; the margin is for a loaded CI machine. */
const LIVE = { timeout: 15_000 };

/** How far the page scrolls sideways: 0 when nothing overflows the viewport. */
const sidewaysOverflow = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

describe.skipIf(!haveChromium)('the home dashboard in a real browser', () => {
  let product: Product;

  beforeAll(async () => {
    product = await startProduct();
  });

  afterAll(async () => {
    await product?.close();
  });

  it('shows a learner the next lesson and this week’s class, follows the class going live and a reply arriving, and fits a phone', async () => {
    const stamp = Date.now().toString(36);
    const teacherEmail = uniqueEmail('tess');
    const teacher = await signedInApi(product.baseUrl, teacherEmail, 'Tess Teacher');
    const learnerEmail = uniqueEmail('lena');
    const learner = await signedInApi(product.baseUrl, learnerEmail, 'Lena Learner');

    // Demo-like world, through the API: a community with a course (two lessons), a class soon, a post.
    const { community } = await teacher<{ community: { id: string; name: string } }>('POST', '/communities', {
      name: `Study Hall ${stamp}`,
      visibility: 'public',
    });
    const { course } = await teacher<{ course: { id: string } }>('POST', '/courses', {
      title: `Fractions ${stamp}`,
      summary: 'Halves and quarters.',
      level: 'beginner',
      communityId: community.id,
    });
    const { module } = await teacher<{ module: { id: string } }>('POST', `/courses/${course.id}/modules`, { title: 'Basics' });
    const first = await teacher<{ lesson: { id: string } }>('POST', `/modules/${module.id}/lessons`, { title: 'What is a fraction?', kind: 'text', body: 'Parts of a whole.' });
    const second = await teacher<{ lesson: { id: string } }>('POST', `/modules/${module.id}/lessons`, { title: 'Adding fractions', kind: 'text', body: 'Common denominators.' });
    await teacher('POST', `/courses/${course.id}/publish`);
    // Ten minutes ahead: soon enough for the host to start it early.
    const startsAt = new Date(Date.now() + 10 * 60_000).toISOString();
    const { classroom } = await teacher<{ classroom: { id: string } }>('POST', '/classrooms', {
      communityId: community.id,
      title: `Office hours ${stamp}`,
      startsAt,
      durationMinutes: 45,
      capacity: 20,
    });

    await learner('POST', `/communities/${community.id}/join`);
    await learner('POST', `/courses/${course.id}/enrol`);
    await learner('POST', `/lessons/${first.lesson.id}/complete`);
    await learner('POST', `/classrooms/${classroom.id}/register`);
    const { post } = await learner<{ post: { id: string } }>('POST', `/communities/${community.id}/posts`, { body: 'Who else is doing the **fractions** course?' });

    const { context, page } = await product.newDevice({ viewport: { width: 390, height: 844 }, timezoneId: 'Asia/Tokyo' });
    try {
      await signIn(page, product.baseUrl, learnerEmail);
      await waitUntilLive(page, page.getByRole('heading', { name: 'Continue learning' }));

      // The course, half done, with a link straight to the next lesson.
      const course$ = page.getByTestId('dashboard-course');
      expect(await course$.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('50');
      const next = course$.getByRole('link', { name: /^Next: Adding fractions/ });
      expect(await next.getAttribute('href')).toBe(`/app/courses/${course.id}/lessons/${second.lesson.id}`);

      // The class, registered, at its time in the viewer's zone (Tokyo, UTC+9), not yet joinable.
      const class$ = page.getByTestId('dashboard-class');
      expect(await class$.getByRole('link', { name: `Office hours ${stamp}` }).isVisible()).toBe(true);
      expect(await class$.textContent()).toContain('Registered');
      const tokyo = new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', timeZone: 'Asia/Tokyo' }).format(new Date(startsAt));
      await expect.poll(() => class$.locator('time').textContent(), LIVE).toContain(tokyo);
      expect(await class$.locator('time').textContent()).toContain('GMT+9');
      expect(await class$.getByRole('link', { name: /^Join/ }).count()).toBe(0);

      // The learner's post is the community's recent activity; no unread notifications yet.
      expect(await page.getByTestId('dashboard-post').textContent()).toContain('Who else is doing the fractions course?');
      expect(await page.getByTestId('dashboard-notifications').textContent()).toContain('0 unread notifications');

      // One column on a phone, nothing wider than the screen, and nothing serious for axe.
      expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(0);
      const [learning, unread] = await Promise.all([page.getByTestId('learning').boundingBox(), page.getByTestId('unread').boundingBox()]);
      expect(unread!.y).toBeGreaterThan(learning!.y + learning!.height - 1);
      expect(await seriousA11yViolations(page)).toEqual([]);

      // The host goes live: the Join button appears without a reload.
      await teacher('POST', `/classrooms/${classroom.id}/start`);
      const join = class$.getByRole('link', { name: /^Join/ });
      await join.waitFor(LIVE);
      expect(await join.getAttribute('href')).toBe(`/app/c/${community.id}/classes/${classroom.id}/live`);

      // A reply to the learner's post: the unread section follows, live.
      await teacher('POST', `/posts/${post.id}/comments`, { body: 'Me! See you in office hours.' });
      await expect.poll(() => page.getByTestId('dashboard-notifications').textContent(), LIVE).toContain('1 unread notification');

      // The next-lesson link opens that lesson.
      await next.click();
      await page.waitForURL(`${product.baseUrl}/app/courses/${course.id}/lessons/${second.lesson.id}`);
      await page.getByRole('heading', { name: 'Adding fractions' }).first().waitFor();
    } finally {
      await context.close();
    }

    // The instructor sees the new enrolment and their class, live now, on their own home page.
    const teacherDevice = await product.newDevice();
    try {
      await signIn(teacherDevice.page, product.baseUrl, teacherEmail);
      const teaching = teacherDevice.page.getByTestId('teaching');
      await teaching.waitFor();
      expect(await teaching.getByTestId('next-class').textContent()).toContain(`Office hours ${stamp}`);
      expect(await teaching.getByTestId('new-enrolments').textContent()).toBe('1');
      expect(await teaching.getByTestId('to-grade').textContent()).toBe('0');
      expect(await seriousA11yViolations(teacherDevice.page)).toEqual([]);
    } finally {
      await teacherDevice.context.close();
    }
  });

  it('guides a newcomer instead of showing empty boxes', async () => {
    const email = uniqueEmail('nina');
    await signedInApi(product.baseUrl, email, 'Nina Newcomer');
    const { context, page } = await product.newDevice();
    try {
      await signIn(page, product.baseUrl, email);
      const start = page.getByTestId('get-started');
      await start.waitFor();
      expect(await start.getByRole('link', { name: /Join a community/ }).getAttribute('href')).toBe('/app/c');
      expect(await start.getByRole('link', { name: /Browse courses/ }).getAttribute('href')).toBe('/app/courses');
      expect(await page.getByTestId('classes').textContent()).toContain('Join a community');
      expect(await page.getByTestId('teaching').count()).toBe(0);
      expect(await seriousA11yViolations(page)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
