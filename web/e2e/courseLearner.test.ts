import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  haveChromium,
  reportMissingChromium,
  seriousA11yViolations,
  signedInApi,
  signUp,
  startProduct,
  uniqueEmail,
  waitUntilLive,
  type Product,
} from './harness.ts';

reportMissingChromium('the course learner journey');

/** Progress reaches the learner's other tabs live; the margin is for a loaded CI machine. */
const LIVE = { timeout: 10_000 };

/** The smallest well-formed PDF: enough for the upload's content sniffing and a PDF viewer. */
const TINY_PDF = [
  '%PDF-1.4',
  '1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj',
  '2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj',
  '3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj',
  'trailer << /Root 1 0 R >>',
  '%%EOF',
  '',
].join('\n');

/** Where the journey got to, so a timeout says which step hung. */
function step(name: string): void {
  process.stderr.write(`[course journey] ${name}\n`);
}

function progressRing(page: Page) {
  return page.getByTestId('course-progress').getByRole('progressbar', { name: 'Course progress' });
}

describe.skipIf(!haveChromium)('a learner takes a course in real browsers', () => {
  let product: Product;

  beforeAll(async () => {
    product = await startProduct();
  });

  afterAll(async () => {
    await product?.close();
  });

  it('enrols, meets a drip lesson, completes lessons, passes the quiz and downloads the certificate; a second tab follows live', async () => {
    const title = `Intro to Fractions ${Date.now().toString(36)}`;
    const api = await signedInApi(product.baseUrl, uniqueEmail('ines'), 'Ines Instructor');

    // The instructor builds and publishes a course in their community: text, PDF, quiz, and a drip lesson.
    const { community } = await api<{ community: { id: string } }>('POST', '/communities', {
      name: `Fraction Fans ${Date.now().toString(36)}`,
      visibility: 'public',
    });
    const { course } = await api<{ course: { id: string } }>('POST', '/courses', {
      title,
      summary: 'Halves, quarters and how to add them.',
      description: 'A short course on fractions.',
      level: 'beginner',
      tags: ['maths'],
      communityId: community.id,
    });
    const { module } = await api<{ module: { id: string } }>('POST', `/courses/${course.id}/modules`, { title: 'Basics' });
    const { asset } = await api.upload('fraction-slides.pdf', 'application/pdf', TINY_PDF);
    const lesson = (body: Record<string, unknown>) => api<{ lesson: { id: string } }>('POST', `/modules/${module.id}/lessons`, body);
    await lesson({ title: 'What is a fraction?', kind: 'text', body: '## Parts of a whole\n\nA **fraction** names equal parts.\n\n| a | b |\n|---|---|\n| 1 | 2 |' });
    await lesson({ title: 'Slides', kind: 'file', assetId: asset.id, body: 'The slides of this module.' });
    await lesson({
      title: 'Check yourself',
      kind: 'quiz',
      passPercent: 100,
      maxAttempts: 3,
      quiz: {
        questions: [
          { kind: 'single', prompt: 'What is 1/2 + 1/4?', options: ['3/4', '2/6'], correct: [0] },
          { kind: 'short', prompt: 'Write one half as a fraction.', accepted: ['1/2'] },
        ],
      },
    });
    await lesson({ title: 'Week two: mixed numbers', kind: 'text', body: 'Later.', required: false, release: { type: 'afterEnrolment', days: 7 } });
    await api('POST', `/courses/${course.id}/publish`);

    const learner = await product.newDevice();
    const pageErrors: string[] = [];
    const { page } = learner;
    const watch = (p: Page) => {
      p.on('pageerror', (err) => pageErrors.push(err.message));
      p.on('console', (msg) => msg.type() === 'error' && !/Failed to load resource/.test(msg.text()) && pageErrors.push(msg.text()));
    };
    watch(page);
    try {
      await signUp(page, product.baseUrl, uniqueEmail('lara'), 'Lara Learner');

      // The catalogue lists the course; the course page offers free enrolment.
      step('The catalogue lists the course; the course page offers free ');
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Courses' }).click();
      await page.waitForURL(`${product.baseUrl}/app/courses`);
      const card = page.getByTestId('course-card').filter({ hasText: title });
      await card.waitFor();
      expect(await seriousA11yViolations(page)).toEqual([]);
      await card.getByRole('link', { name: title }).click();
      await page.waitForURL(`${product.baseUrl}/app/courses/${course.id}`);
      await page.getByRole('heading', { name: title, level: 1 }).waitFor();
      expect(await seriousA11yViolations(page)).toEqual([]);
      await page.getByRole('button', { name: 'Enrol for free' }).click();

      // Enrolled: progress at 0%, the drip lesson locked with the date it opens (seven days on).
      step('Enrolled: progress at 0%, the drip lesson locked with the da');
      await expect.poll(() => progressRing(page).getAttribute('aria-valuenow'), LIVE).toBe('0');
      const drip = page.getByTestId('outline-lesson').filter({ hasText: 'Week two: mixed numbers' });
      expect(await drip.getAttribute('data-locked')).toBe('true');
      expect(await drip.getByRole('link').count()).toBe(0);
      const opens = (await drip.getByTestId('lesson-opens').textContent()) ?? '';
      const inAWeek = new Date(Date.now() + 7 * 24 * 3600 * 1000);
      expect(opens).toContain(String(inAWeek.getDate()));
      expect(await seriousA11yViolations(page)).toEqual([]);

      // A second tab of the same learner keeps the course page open.
      step('A second tab of the same learner keeps the course page open.');
      const second = await learner.context.newPage();
      watch(second);
      await second.goto(`/app/courses/${course.id}`);
      await waitUntilLive(second, second.locator('[data-testid="course-progress"][data-live="true"]'));
      expect(await progressRing(second).getAttribute('aria-valuenow')).toBe('0');

      // The text lesson: rendered HTML, marked complete; the other tab's ring and checkmark move without a reload.
      step('The text lesson: rendered HTML, marked complete; the other t');
      await page.getByRole('link', { name: 'Start learning' }).click();
      await page.getByRole('heading', { name: 'What is a fraction?', level: 1 }).waitFor();
      await page.getByTestId('lesson-content').getByRole('heading', { name: 'Parts of a whole' }).waitFor();
      expect(await page.getByTestId('lesson-content').getByRole('table').count()).toBe(1);
      expect(await seriousA11yViolations(page)).toEqual([]);
      await page.getByRole('button', { name: 'Mark complete' }).click();
      await page.getByTestId('lesson-completed').waitFor();
      await expect.poll(() => progressRing(second).getAttribute('aria-valuenow'), LIVE).toBe('33');
      const secondText = second.getByTestId('outline-lesson').filter({ hasText: 'What is a fraction?' });
      await expect.poll(() => secondText.getAttribute('data-completed'), LIVE).toBe('true');

      // The file lesson: the download is the PDF; marked complete.
      step('The file lesson: the download is the PDF; marked complete.');
      await page.getByRole('navigation', { name: 'Lessons' }).getByRole('link', { name: /^Next: Slides/ }).click();
      await page.getByRole('heading', { name: 'Slides', level: 1 }).waitFor();
      const download = page.getByTestId('lesson-download');
      const fileResponse = await page.request.get((await download.getAttribute('href')) ?? '');
      expect(fileResponse.status()).toBe(200);
      expect(fileResponse.headers()['content-type']).toContain('application/pdf');
      expect((await fileResponse.body()).subarray(0, 5).toString()).toBe('%PDF-');
      await page.getByRole('button', { name: 'Mark complete' }).click();
      await page.getByTestId('lesson-completed').waitFor();
      await expect.poll(() => progressRing(second).getAttribute('aria-valuenow'), LIVE).toBe('66');

      // The quiz: a wrong answer first (attempts left shown, no key revealed), then a pass that finishes the course.
      step('The quiz: a wrong answer first (attempts left shown, no key ');
      await page.getByRole('navigation', { name: 'Lessons' }).getByRole('link', { name: /^Next: Check yourself/ }).click();
      await page.getByRole('heading', { name: 'Check yourself', level: 1 }).waitFor();
      await page.getByTestId('quiz-standing').getByText('3 attempts left.').waitFor();
      await page.getByRole('radio', { name: '2/6' }).check();
      await page.getByRole('textbox', { name: 'Your answer' }).fill('1/2');
      await page.getByRole('button', { name: 'Submit answers' }).click();
      await page.getByTestId('quiz-result').getByText(/Attempt 1: 50% — not passed/).waitFor();
      await page.getByTestId('quiz-standing').getByText('2 attempts left.').waitFor();
      expect(await page.getByTestId('question-result').allTextContents()).toEqual(['✗ Not correct', '✓ Correct']);
      expect(await seriousA11yViolations(page)).toEqual([]);
      await page.getByRole('radio', { name: '3/4' }).check();
      await page.getByRole('button', { name: 'Submit answers' }).click();
      await page.getByTestId('quiz-result').getByText(/Attempt 2: 100% — passed/).waitFor();
      await expect.poll(() => progressRing(second).getAttribute('aria-valuenow'), LIVE).toBe('100');

      // The certificate: linked from the player, public, downloadable as a PDF.
      step('The certificate: linked from the player, public, downloadabl');
      await page.getByTestId('certificate-ready').getByRole('link', { name: 'View your certificate' }).click(LIVE);
      await page.waitForURL(/\/certificates\/[0-9a-f-]{36}$/);
      const certificateUrl = page.url();
      await page.getByTestId('certificate-recipient').getByText('Lara Learner').waitFor();
      await page.getByRole('heading', { name: title }).waitFor();
      expect(await seriousA11yViolations(page)).toEqual([]);
      // The link is a download of the public PDF route on this origin (headless Chromium cancels real downloads here,
      // so the response the link leads to is checked instead).
      const pdfLink = page.getByRole('link', { name: 'Download PDF' });
      expect(await pdfLink.getAttribute('download')).toMatch(/\.pdf$/);
      const pdfResponse = await page.request.get((await pdfLink.getAttribute('href')) ?? '');
      expect(pdfResponse.status()).toBe(200);
      expect(pdfResponse.headers()['content-type']).toContain('application/pdf');
      expect((await pdfResponse.body()).subarray(0, 5).toString()).toBe('%PDF-');

      // Anyone with the link may verify it, signed in or not.
      step('Anyone with the link may verify it, signed in or not.');
      const visitor = await product.newDevice();
      try {
        await visitor.page.goto(certificateUrl);
        await visitor.page.getByTestId('certificate-verified').waitFor();
        await visitor.page.getByText('Lara Learner').waitFor();
      } finally {
        await visitor.context.close();
      }

      // My learning lists the course at 100%.
      step('My learning lists the course at 100%.');
      await page.goto('/app/courses');
      const mine = page.getByTestId('my-course').filter({ hasText: title });
      expect(await mine.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');

      expect(pageErrors).toEqual([]);
    } finally {
      await learner.context.close();
    }
  }, 240_000);

  it('a visitor previews a priced course it cannot buy yet; a learner hands in an assignment with a file and hears the grade live', async () => {
    const stamp = Date.now().toString(36);
    const api = await signedInApi(product.baseUrl, uniqueEmail('ivo'), 'Ines Instructor');
    const { community } = await api<{ community: { id: string } }>('POST', '/communities', { name: `Bakers ${stamp}`, visibility: 'public' });
    const course = async (title: string, extra: Record<string, unknown>, lessons: Record<string, unknown>[]) => {
      const { course } = await api<{ course: { id: string } }>('POST', '/courses', { title, level: 'intermediate', communityId: community.id, ...extra });
      const { module } = await api<{ module: { id: string } }>('POST', `/courses/${course.id}/modules`, { title: 'Module one' });
      for (const lesson of lessons) await api('POST', `/modules/${module.id}/lessons`, lesson);
      await api('POST', `/courses/${course.id}/publish`);
      return course.id;
    };
    const pricedTitle = `Sourdough Masterclass ${stamp}`;
    const pricedId = await course(pricedTitle, { priceMinor: 4900, currency: 'EUR' }, [
      { title: 'Meet your starter', kind: 'text', body: 'A starter is *alive*.', preview: true },
      { title: 'Feeding schedule', kind: 'text', body: 'Twice a day.' },
    ]);
    const freeTitle = `Bread Basics ${stamp}`;
    const freeId = await course(freeTitle, {}, [{ title: 'Bake a loaf', kind: 'assignment', body: 'Describe your loaf and attach your notes.' }]);

    const { context, page } = await product.newDevice();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    try {
      await signUp(page, product.baseUrl, uniqueEmail('bea'), 'Bea Baker');

      // The priced course: the preview opens; the way in is buying it (the checkout journey is web/e2e/commerce.test.ts).
      await page.goto(`/app/courses/${pricedId}`);
      await page.getByRole('heading', { name: pricedTitle, level: 1 }).waitFor();
      expect(await page.getByRole('link', { name: /^Buy for .*49/ }).getAttribute('href')).toBe(`/app/checkout/${pricedId}`);
      expect(await page.getByRole('button', { name: /^Enrol/ }).count()).toBe(0);
      const locked = page.getByTestId('outline-lesson').filter({ hasText: 'Feeding schedule' });
      expect(await locked.getAttribute('data-locked')).toBe('true');
      await page.getByRole('list', { name: 'Free previews' }).getByRole('link', { name: 'Meet your starter' }).click();
      await page.getByTestId('lesson-content').getByText('alive').waitFor();
      expect(await page.getByRole('button', { name: 'Mark complete' }).count()).toBe(0);
      expect(await seriousA11yViolations(page)).toEqual([]);

      // The free course: enrol, hand in text and a file.
      await page.goto(`/app/courses/${freeId}`);
      await page.getByRole('button', { name: 'Enrol for free' }).click();
      // Enrolled learners talk in the course discussion, a live chat channel of the course.
      await page.getByRole('link', { name: 'Course discussion' }).click();
      const composer = page.getByRole('textbox', { name: /^Message .*: discussion$/ });
      await composer.fill('Hello from a new learner');
      await composer.press('Enter');
      await page.getByText('Hello from a new learner').first().waitFor();
      expect(await seriousA11yViolations(page)).toEqual([]);
      await page.getByRole('link', { name: '← Back to the course' }).click();
      await page.getByRole('link', { name: 'Start learning' }).click();
      await page.getByRole('heading', { name: 'Bake a loaf', level: 1 }).waitFor();
      await waitUntilLive(page, page.locator('[data-testid="course-progress"][data-live="true"]'));
      // The player's position door (video lessons save through it every few seconds): same-origin only.
      const positionUrl = `${page.url()}/position`;
      const saved = await page.request.put(positionUrl, { headers: { origin: product.baseUrl }, data: { seconds: 42 } });
      expect(saved.status()).toBe(200);
      expect(((await saved.json()) as { seconds: number }).seconds).toBe(42);
      const forged = await page.request.put(positionUrl, { headers: { origin: 'https://evil.example' }, data: { seconds: 1 } });
      expect(forged.status()).toBe(403);

      await page.getByLabel('Your answer').fill('A crusty loaf with an open crumb.');
      await page.getByLabel('Attach a file (optional)').setInputFiles({ name: 'loaf-notes.txt', mimeType: 'text/plain', buffer: Buffer.from('Hydration 75%.\n') });
      await page.getByRole('button', { name: 'Submit', exact: true }).click();
      await page.getByText('Submitted. Your instructor will grade it.').waitFor();
      const submission = page.getByTestId('submission').filter({ hasText: 'A crusty loaf' });
      await submission.getByRole('link', { name: 'loaf-notes.txt' }).waitFor();
      await submission.getByText('Waiting for grading.').waitFor();
      expect(await seriousA11yViolations(page)).toEqual([]);

      // The instructor grades it; the learner's page shows the grade without a reload, and the course is done.
      const { data } = await api<{ data: { id: string }[] }>('GET', `/courses/${freeId}/submissions`);
      await api('POST', `/submissions/${data[0]!.id}/grade`, { scorePercent: 90, feedback: 'Lovely crumb.' });
      await submission.getByText('Graded: 90% (passed)').waitFor(LIVE);
      await submission.getByText('“Lovely crumb.”').waitFor();
      await expect.poll(() => progressRing(page).getAttribute('aria-valuenow'), LIVE).toBe('100');

      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 180_000);
});
