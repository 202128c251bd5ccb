import PDFDocument from 'pdfkit';
import pg from 'pg';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthResult } from '../../contracts/auth.ts';
import type { CourseAnalyticsDto, SubmissionEnvelope, SubmissionList } from '../../contracts/courseLearning.ts';
import type { AuthorLessonEnvelope, CourseDetailDto, CourseEnvelope, EnrolmentEnvelope, ModuleEnvelope } from '../../contracts/courses.ts';
import type { EbookEnvelope } from '../../contracts/ebooks.ts';
import type { OwnedAssetEnvelope } from '../../contracts/media.ts';
import { testDatabaseUrl } from '../../test/db.ts';
import { buildEpub } from '../../test/ebookFactories.ts';
import { call, ok, registerUser, type TestUser } from '../../test/factories.ts';
import {
  PASSWORD,
  haveChromium,
  reportMissingChromium,
  seriousA11yViolations,
  signIn,
  signUp,
  startProduct,
  uniqueEmail,
  waitUntilLive,
  type Product,
} from './harness.ts';

reportMissingChromium('the instructor course builder');

const UUID = '[0-9a-f-]{36}';
const DAY_MS = 24 * 60 * 60 * 1000;
/** Progress reaches the learner's other tabs live; the margin is for a loaded CI machine. */
const LIVE = { timeout: 10_000 };

/** A real (small) PDF, so the upload is judged by its content like any other. */
function pdfBytes(): Promise<Buffer> {
  const doc = new PDFDocument();
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  doc.text('Recipe sheet: 500 g flour, 350 g water, 10 g salt, 2 g yeast.');
  for (let i = 0; i < 40; i += 1) doc.text(`Step ${i + 1}: fold, rest, and fold again.`);
  doc.end();
  return new Promise((resolve) => doc.on('end', () => resolve(Buffer.concat(chunks))));
}

/** A platform instructor: registered through the API, promoted in the database, signed in again for a fresh token. */
async function instructor(product: Product, name: string): Promise<TestUser> {
  const user = await registerUser(product.baseUrl, { email: uniqueEmail(name.toLowerCase().split(' ')[0] ?? 'teacher'), password: PASSWORD, displayName: name });
  const client = new pg.Client({ connectionString: await testDatabaseUrl() });
  await client.connect();
  try {
    await client.query(`update users set role = 'instructor' where id = $1`, [user.user.id]);
  } finally {
    await client.end();
  }
  const signedIn = await ok(call<AuthResult>(product.baseUrl, 'POST', '/auth/login', null, { email: user.user.email, password: PASSWORD }));
  return { ...signedIn, password: PASSWORD };
}

function outlineLesson(page: Page, title: string) {
  return page.getByTestId('outline-lesson').filter({ hasText: title });
}

async function outlineTitles(page: Page): Promise<string[]> {
  return page.getByTestId('lesson-link').allTextContents();
}

/** Adds a lesson to the module from the outline and lands in its editor. */
async function addLesson(page: Page, module: string, title: string, kind: string): Promise<void> {
  const section = page.getByRole('region', { name: new RegExp(`^Module \\d+: ${module}$`) });
  await section.getByLabel(`New lesson in ${module}`).fill(title);
  await section.getByLabel('Kind').selectOption({ label: kind });
  await section.getByRole('button', { name: `Add lesson to ${module}` }).click();
  await page.waitForURL(new RegExp(`/app/teach/courses/${UUID}/lessons/${UUID}$`)).catch(async (err: unknown) => {
    const said = await section.getByRole('alert').allTextContents().catch(() => []);
    const field = await section.locator('.text-red-700').allTextContents().catch(() => []);
    throw new Error(`adding “${title}” did not open its editor (form says: ${[...said, ...field].join(' ') || 'nothing'})`, { cause: err });
  });
  await page.getByRole('heading', { name: `Edit lesson: ${title}` }).waitFor();
}

async function saveLesson(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Save lesson' }).click();
  await page.getByRole('status').getByText('Lesson saved.').waitFor();
}

async function backToOutline(page: Page): Promise<void> {
  await page.getByRole('link', { name: '← Back to the outline' }).click();
  await page.waitForURL(new RegExp(`/app/teach/courses/${UUID}$`));
}

describe.skipIf(!haveChromium)('the instructor side in real browsers', () => {
  let product: Product;

  // The first run builds the web app, which takes minutes on a busy machine.
  beforeAll(async () => {
    product = await startProduct();
  }, 900_000);

  afterAll(async () => {
    await product?.close();
  });

  it('an instructor builds a course (text, PDF, quiz and drip lessons), reorders and publishes it; a learner takes it to the certificate while a second tab follows live', async () => {
    const teacher = await instructor(product, 'Ines Instructor');
    const { context, page } = await product.newDevice();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => msg.type() === 'error' && !/Failed to load resource/.test(msg.text()) && pageErrors.push(msg.text()));
    try {
      await signIn(page, product.baseUrl, teacher.user.email);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Teach' }).click();
      await page.waitForURL(`${product.baseUrl}/app/teach`);
      expect(await seriousA11yViolations(page)).toEqual([]);

      // A new course: the details form, then the builder.
      await page.getByRole('link', { name: 'New course' }).click();
      await page.waitForURL(`${product.baseUrl}/app/teach/courses/new`);
      await page.getByLabel('Title').fill('Sourdough from scratch');
      await page.getByLabel('Summary (optional)').fill('Bake a loaf a week.');
      await page.getByLabel('Level').selectOption('intermediate');
      await page.getByLabel('Tags (optional)').fill('bread, baking');
      expect(await seriousA11yViolations(page)).toEqual([]);
      await page.getByRole('button', { name: 'Create course' }).click();
      await page.waitForURL(new RegExp(`/app/teach/courses/${UUID}$`));
      const builderUrl = page.url();
      const courseId = builderUrl.split('/').at(-1)!;
      await page.getByTestId('course-title').getByText('Sourdough from scratch').waitFor();

      // Publishing an empty course: the API's reason shows beside the button.
      await page.getByRole('button', { name: 'Publish course' }).click();
      await page.getByTestId('publish-error').getByText('Add at least one lesson before publishing the course.').waitFor();

      await page.getByLabel('New module title').fill('Getting started');
      await page.getByRole('button', { name: 'Add module' }).click();
      await page.getByRole('region', { name: 'Module 1: Getting started' }).waitFor();

      // A text lesson: the preview renders markdown as it is typed, and raw HTML stays text.
      await addLesson(page, 'Getting started', 'Welcome', 'Text');
      await page.getByLabel('Lesson text').fill('# Hello bakers\n\nFlour, **water** and <b>salt</b>.');
      const preview = page.getByTestId('markdown-preview');
      await preview.getByRole('heading', { name: 'Hello bakers' }).waitFor();
      expect(await preview.locator('strong').textContent()).toBe('water');
      expect(await preview.locator('b').count()).toBe(0);
      expect(await preview.textContent()).toContain('<b>salt</b>');
      expect(await seriousA11yViolations(page)).toEqual([]);
      await saveLesson(page);
      await backToOutline(page);

      // A file lesson: the PDF uploads with a progress bar that reaches the end.
      await addLesson(page, 'Getting started', 'Recipe sheet', 'File');
      const recipe = await pdfBytes();
      await page.getByLabel('File for learners (PDF, EPUB, ZIP…)').setInputFiles({ name: 'recipe.pdf', mimeType: 'application/pdf', buffer: recipe });
      await page.getByTestId('upload-status').getByText(/^Upload complete: recipe\.pdf/).waitFor();
      expect(await page.getByTestId('upload-progress').getAttribute('value')).toBe('100');
      expect(await seriousA11yViolations(page)).toEqual([]);
      await saveLesson(page);
      await page.reload();
      await page.getByTestId('upload-status').getByText('Attached: recipe.pdf').waitFor();
      await backToOutline(page);

      // A quiz lesson with one single-choice question.
      await addLesson(page, 'Getting started', 'Check your knowledge', 'Quiz');
      await page.getByLabel('Question 1', { exact: true }).fill('What makes sourdough rise?');
      await page.getByLabel('Question 1 option 1').fill('Wild yeast');
      await page.getByLabel('Question 1 option 2').fill('Baking soda');
      await page.getByLabel('Question 1: option 1 is correct').check();
      await page.getByLabel('Pass mark (%)').fill('100');
      await page.getByLabel('Attempts allowed').fill('3');
      expect(await seriousA11yViolations(page)).toEqual([]);
      await saveLesson(page);
      await backToOutline(page);

      // A drip lesson: open 7 days after enrolment.
      await addLesson(page, 'Getting started', 'Week two: shaping', 'Text');
      await page.getByLabel('Lesson text').fill('Pre-shape, rest, shape.');
      await page.getByLabel('Open some days after enrolment').check();
      await page.getByLabel('Days after enrolment', { exact: true }).fill('7');
      // Optional, so the certificate does not wait a week for it.
      await page.getByRole('checkbox', { name: /Required: counts towards progress/ }).uncheck();
      await saveLesson(page);
      await backToOutline(page);
      await outlineLesson(page, 'Week two: shaping').getByText('Opens 7 days after enrolment').waitFor();
      expect(await outlineTitles(page)).toEqual(['Welcome', 'Recipe sheet', 'Check your knowledge', 'Week two: shaping']);

      // Reorder by keyboard: the move button keeps focus, so pressing Enter again keeps moving the same lesson.
      const moveUp = page.getByRole('button', { name: 'Move “Week two: shaping” up' });
      await moveUp.focus();
      await page.keyboard.press('Enter');
      await expect.poll(() => outlineTitles(page)).toEqual(['Welcome', 'Recipe sheet', 'Week two: shaping', 'Check your knowledge']);
      expect(await page.evaluate(() => document.activeElement?.textContent)).toContain('Move “Week two: shaping” up');
      await page.keyboard.press('Enter');
      await expect.poll(() => outlineTitles(page)).toEqual(['Welcome', 'Week two: shaping', 'Recipe sheet', 'Check your knowledge']);
      await page.getByRole('button', { name: 'Move “Week two: shaping” down' }).click();
      await page.getByRole('button', { name: 'Move “Week two: shaping” down' }).click();
      await expect.poll(() => outlineTitles(page)).toEqual(['Welcome', 'Recipe sheet', 'Check your knowledge', 'Week two: shaping']);
      expect(await page.getByTestId('outline-announcement').textContent()).toContain('Moved “Week two: shaping” to position 4 of 4');

      // …and by dragging: the quiz goes before the recipe sheet.
      await outlineLesson(page, 'Check your knowledge').dragTo(outlineLesson(page, 'Recipe sheet'), { targetPosition: { x: 20, y: 5 } });
      await expect.poll(() => outlineTitles(page)).toEqual(['Welcome', 'Check your knowledge', 'Recipe sheet', 'Week two: shaping']);
      await page.getByTestId('outline-unsaved').waitFor();
      expect(await seriousA11yViolations(page)).toEqual([]);
      await page.getByRole('button', { name: 'Save order' }).click();
      await page.getByRole('status').getByText('Order saved.').waitFor();
      await page.reload();
      expect(await outlineTitles(page)).toEqual(['Welcome', 'Check your knowledge', 'Recipe sheet', 'Week two: shaping']);

      await page.getByRole('button', { name: 'Publish course' }).click();
      await page.getByTestId('publish-controls').getByText('Published.').waitFor();
      await page.getByRole('button', { name: 'Unpublish course' }).waitFor();
      expect(await page.getByTestId('course-title').locator('..').getByTestId('status-badge').textContent()).toContain('Published');

      // The course is on the author's shelf.
      await page.goto('/app/teach');
      await page.getByTestId('teach-course').filter({ hasText: 'Sourdough from scratch' }).waitFor();

      // A learner enrols through the API and gets the outline as built: order, kinds, and the drip date.
      const learner = await registerUser(product.baseUrl);
      const enrolled = await ok(call<EnrolmentEnvelope>(product.baseUrl, 'POST', `/courses/${courseId}/enrol`, learner), 201);
      const detail = await ok(call<CourseDetailDto>(product.baseUrl, 'GET', `/courses/${courseId}`, learner));
      expect(detail.course.status).toBe('published');
      expect(detail.modules.map((m) => m.title)).toEqual(['Getting started']);
      const lessons = detail.modules[0]!.lessons;
      expect(lessons.map((l) => [l.title, l.kind])).toEqual([
        ['Welcome', 'text'],
        ['Check your knowledge', 'quiz'],
        ['Recipe sheet', 'file'],
        ['Week two: shaping', 'text'],
      ]);
      const drip = lessons[3]!;
      expect(drip.release).toEqual({ type: 'afterEnrolment', days: 7 });
      expect(drip.locked).toBe(true);
      expect(Date.parse(drip.availableAt!)).toBe(Date.parse(enrolled.enrolment.enrolledAt) + 7 * DAY_MS);
      expect(lessons.slice(0, 3).every((l) => !l.locked)).toBe(true);

      // The same course, taken by a learner in the browser: enrol, the drip lesson locked with its date, the rest
      // completed with the quiz passed, the certificate downloaded — while a second tab follows the progress live.
      const learnerDevice = await product.newDevice();
      const second = await learnerDevice.context.newPage();
      for (const p of [learnerDevice.page, second]) {
        p.on('pageerror', (err) => pageErrors.push(err.message));
        p.on('console', (msg) => msg.type() === 'error' && !/Failed to load resource/.test(msg.text()) && pageErrors.push(msg.text()));
      }
      try {
        const lp = learnerDevice.page;
        await signUp(lp, product.baseUrl, uniqueEmail('lena'), 'Lena Learner');
        await lp.goto(`/app/courses/${courseId}`);
        await lp.getByRole('button', { name: 'Enrol for free' }).click();
        const ring = (p: Page) => p.getByTestId('course-progress').getByRole('progressbar', { name: 'Course progress' });
        await expect.poll(() => ring(lp).getAttribute('aria-valuenow'), LIVE).toBe('0');
        const dripRow = lp.getByTestId('outline-lesson').filter({ hasText: 'Week two: shaping' });
        expect(await dripRow.getAttribute('data-locked')).toBe('true');
        expect(await dripRow.getByTestId('lesson-opens').textContent()).toContain(String(new Date(Date.now() + 7 * DAY_MS).getDate()));

        await second.goto(`/app/courses/${courseId}`);
        await waitUntilLive(second, second.locator('[data-testid="course-progress"][data-live="true"]'));

        await lp.getByRole('link', { name: 'Start learning' }).click();
        await lp.getByRole('heading', { name: 'Welcome', level: 1 }).waitFor();
        await lp.getByTestId('lesson-content').getByRole('heading', { name: 'Hello bakers' }).waitFor();
        await lp.getByRole('button', { name: 'Mark complete' }).click();
        await expect.poll(() => ring(second).getAttribute('aria-valuenow'), LIVE).toBe('33');

        await lp.getByRole('navigation', { name: 'Lessons' }).getByRole('link', { name: /^Next: Check your knowledge/ }).click();
        await lp.getByRole('heading', { name: 'Check your knowledge', level: 1 }).waitFor();
        await lp.getByRole('radio', { name: 'Wild yeast' }).check();
        await lp.getByRole('button', { name: 'Submit answers' }).click();
        await lp.getByTestId('quiz-result').getByText(/Attempt 1: 100% — passed/).waitFor();
        await expect.poll(() => ring(second).getAttribute('aria-valuenow'), LIVE).toBe('66');

        await lp.getByRole('navigation', { name: 'Lessons' }).getByRole('link', { name: /^Next: Recipe sheet/ }).click();
        await lp.getByRole('heading', { name: 'Recipe sheet', level: 1 }).waitFor();
        const sheet = await lp.request.get((await lp.getByTestId('lesson-download').getAttribute('href')) ?? '');
        expect((await sheet.body()).equals(recipe)).toBe(true);
        await lp.getByRole('button', { name: 'Mark complete' }).click();
        await expect.poll(() => ring(second).getAttribute('aria-valuenow'), LIVE).toBe('100');

        await lp.getByTestId('certificate-ready').getByRole('link', { name: 'View your certificate' }).click(LIVE);
        await lp.waitForURL(/\/certificates\/[0-9a-f-]{36}$/);
        await lp.getByTestId('certificate-recipient').getByText('Lena Learner').waitFor();
        const pdf = await lp.request.get((await lp.getByRole('link', { name: 'Download PDF' }).getAttribute('href')) ?? '');
        expect(pdf.headers()['content-type']).toContain('application/pdf');
        expect((await pdf.body()).subarray(0, 5).toString()).toBe('%PDF-');
        expect(await seriousA11yViolations(lp)).toEqual([]);
      } finally {
        await learnerDevice.context.close();
      }

      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 300_000);

  it('a submission is graded in the inbox and the learner sees the grade', async () => {
    const teacher = await instructor(product, 'Gus Grader');
    const course = (await ok(call<CourseEnvelope>(product.baseUrl, 'POST', '/courses', teacher, { title: 'Essay writing', level: 'beginner' }), 201)).course;
    const module = (await ok(call<ModuleEnvelope>(product.baseUrl, 'POST', `/courses/${course.id}/modules`, teacher, { title: 'Essays' }), 201)).module;
    const lesson = (
      await ok(
        call<AuthorLessonEnvelope>(product.baseUrl, 'POST', `/modules/${module.id}/lessons`, teacher, { title: 'Your first essay', kind: 'assignment', passPercent: 60 }),
        201,
      )
    ).lesson;
    await ok(call<CourseEnvelope>(product.baseUrl, 'POST', `/courses/${course.id}/publish`, teacher));
    const learner = await registerUser(product.baseUrl, { displayName: 'Lena Learner' });
    await ok(call(product.baseUrl, 'POST', `/courses/${course.id}/enrol`, learner), 201);
    await ok(call<SubmissionEnvelope>(product.baseUrl, 'POST', `/lessons/${lesson.id}/submissions`, learner, { text: 'Essays are attempts.' }), 201);

    const { context, page } = await product.newDevice();
    try {
      await signIn(page, product.baseUrl, teacher.user.email);
      await page.goto(`/app/teach/courses/${course.id}/grading`);
      const item = page.getByTestId('submission-item').filter({ hasText: 'Lena Learner' });
      await item.waitFor();
      expect(await seriousA11yViolations(page)).toEqual([]);
      await item.getByRole('link').click();
      const detail = page.getByTestId('submission-detail');
      await detail.getByRole('heading', { name: 'Lena Learner — Your first essay' }).waitFor();
      expect(await detail.getByTestId('submission-text').textContent()).toBe('Essays are attempts.');
      await page.getByLabel('Score (%)').fill('85');
      await page.getByLabel('Feedback for the learner').fill('Clear and short. Well done.');
      expect(await seriousA11yViolations(page)).toEqual([]);
      await page.getByRole('button', { name: 'Save grade' }).click();
      await page.getByRole('status').getByText('Grade saved. The learner has been told.').waitFor();
      await page.getByTestId('current-grade').getByText('85% — passed').waitFor();

      // It left the inbox for the graded tab.
      await page.getByRole('navigation', { name: 'Submission status' }).getByRole('link', { name: 'To grade' }).click();
      await page.getByText('Nothing waiting to be graded.').waitFor();
      await page.getByRole('navigation', { name: 'Submission status' }).getByRole('link', { name: 'Graded' }).click();
      await page.getByTestId('submission-item').filter({ hasText: 'Lena Learner' }).getByText('85%').waitFor();

      const mine = await ok(call<SubmissionList>(product.baseUrl, 'GET', `/lessons/${lesson.id}/submissions`, learner));
      expect(mine.data).toHaveLength(1);
      expect(mine.data[0]).toMatchObject({ status: 'graded', scorePercent: 85, passed: true, feedback: 'Clear and short. Well done.' });
    } finally {
      await context.close();
    }
  });

  it('analytics draw charts, with tables holding the same numbers', async () => {
    const teacher = await instructor(product, 'Ana Analyst');
    const course = (await ok(call<CourseEnvelope>(product.baseUrl, 'POST', '/courses', teacher, { title: 'Knife skills', level: 'beginner' }), 201)).course;
    const module = (await ok(call<ModuleEnvelope>(product.baseUrl, 'POST', `/courses/${course.id}/modules`, teacher, { title: 'Basics' }), 201)).module;
    const lessonIds: string[] = [];
    for (const title of ['Holding the knife', 'The claw grip']) {
      const created = await ok(call<AuthorLessonEnvelope>(product.baseUrl, 'POST', `/modules/${module.id}/lessons`, teacher, { title, kind: 'text', body: title }), 201);
      lessonIds.push(created.lesson.id);
    }
    await ok(call<CourseEnvelope>(product.baseUrl, 'POST', `/courses/${course.id}/publish`, teacher));
    // Three learners: one completes nothing, one the first lesson, one both (and finishes the course).
    const learners = await Promise.all([registerUser(product.baseUrl), registerUser(product.baseUrl), registerUser(product.baseUrl)]);
    for (const learner of learners) await ok(call(product.baseUrl, 'POST', `/courses/${course.id}/enrol`, learner), 201);
    await ok(call(product.baseUrl, 'POST', `/lessons/${lessonIds[0]}/complete`, learners[1]));
    await ok(call(product.baseUrl, 'POST', `/lessons/${lessonIds[0]}/complete`, learners[2]));
    await ok(call(product.baseUrl, 'POST', `/lessons/${lessonIds[1]}/complete`, learners[2]));
    const expected = await ok(call<CourseAnalyticsDto>(product.baseUrl, 'GET', `/courses/${course.id}/analytics`, teacher));
    expect(expected.enrolled).toBe(3);

    const { context, page } = await product.newDevice();
    try {
      await signIn(page, product.baseUrl, teacher.user.email);
      await page.goto(`/app/teach/courses/${course.id}`);
      await page.getByRole('navigation', { name: 'Course sections' }).getByRole('link', { name: 'Analytics' }).click();
      await page.waitForURL(`${product.baseUrl}/app/teach/courses/${course.id}/analytics`);
      expect(await page.getByTestId('stat-enrolled').textContent()).toBe('3');

      for (const chart of ['chart-enrolments', 'chart-funnel', 'chart-dropoff']) {
        await page.getByTestId(chart).locator('canvas').waitFor();
      }
      // chart.js has drawn into the canvas (it sizes it on first render).
      await expect.poll(() => page.getByTestId('chart-funnel').locator('canvas').evaluate((c: HTMLCanvasElement) => c.width)).toBeGreaterThan(0);

      const rows = (testid: string) =>
        page
          .getByTestId(`${testid}-table`)
          .locator('tbody tr')
          .evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).map((cell) => cell.textContent?.trim() ?? '')));
      // The table shows what the chart draws: counts, and rates to one decimal.
      const rate = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(1));
      expect(expected.lessons.map((l) => l.completed)).toEqual([2, 1]);
      expect(await rows('chart-funnel')).toEqual([
        ['Holding the knife', '2', rate(expected.lessons[0]!.completionRate)],
        ['The claw grip', '1', rate(expected.lessons[1]!.completionRate)],
      ]);
      const enrolmentRows = await rows('chart-enrolments');
      expect(enrolmentRows).toHaveLength(expected.enrolmentsPerDay.length);
      expect(enrolmentRows.at(-1)?.[1]).toBe('3');
      expect(enrolmentRows.reduce((sum, row) => sum + Number(row[1]), 0)).toBe(3);
      // The learner who stopped after the first lesson is counted there (the one who finished is in no row).
      expect(expected.dropOff[0]?.learnersStoppedHere).toBe(1);
      expect(await rows('chart-dropoff')).toEqual(expected.dropOff.map((d) => [d.title, String(d.learnersStoppedHere)]));
      expect(await seriousA11yViolations(page)).toEqual([]);
    } finally {
      await context.close();
    }
  });
  it('an author writes an ebook: chapters with a preview, an EPUB import, a new order, published', async () => {
    const teacher = await instructor(product, 'Eva Editor');
    const { context, page } = await product.newDevice();
    try {
      await signIn(page, product.baseUrl, teacher.user.email);
      await page.goto('/app/teach');
      await page.getByRole('link', { name: 'New ebook' }).click();
      await page.waitForURL(`${product.baseUrl}/app/teach/ebooks/new`);
      await page.getByLabel('Title').fill('Field notes');
      await page.getByLabel('Author').fill('Eva Editor');
      await page.getByRole('button', { name: 'Create ebook' }).click();
      await page.waitForURL(new RegExp(`/app/teach/ebooks/${UUID}$`));
      const ebookUrl = page.url();
      const ebookId = ebookUrl.split('/').at(-1)!;
      expect(await seriousA11yViolations(page)).toEqual([]);

      for (const [title, body] of [
        ['Morning', '## Dawn\n\nBirds *sing*.'],
        ['Evening', 'The light goes.'],
      ] as const) {
        await page.goto(ebookUrl);
        await page.getByRole('link', { name: 'New chapter' }).click();
        await page.getByLabel('Chapter title').fill(title);
        await page.getByLabel('Chapter text').fill(body);
        if (title === 'Morning') {
          await page.getByTestId('markdown-preview').getByRole('heading', { name: 'Dawn' }).waitFor();
          expect(await seriousA11yViolations(page)).toEqual([]);
        }
        await page.getByRole('button', { name: 'Add chapter' }).click();
        await page.getByRole('heading', { name: `Edit chapter: ${title}` }).waitFor();
      }

      // The third chapter comes from an EPUB: uploaded through the pass-through (byte for byte), then imported.
      await page.goto(ebookUrl);
      const epub = await buildEpub({ chapters: [{ tocTitle: 'Night', xhtml: '<h1>Night</h1><p>Stars over the field.</p>' }] });
      await page.getByLabel('EPUB file').setInputFiles({ name: 'night.epub', mimeType: 'application/epub+zip', buffer: epub });
      await page.getByTestId('upload-status').getByText(/^Upload complete: night\.epub/).waitFor();
      const assetId = await page.locator('input[type="hidden"][name="assetId"]').inputValue();
      const stored = await ok(call<OwnedAssetEnvelope>(product.baseUrl, 'GET', `/assets/${assetId}`, teacher));
      expect(stored.asset.kind).toBe('epub');
      const content = await fetch(new URL(stored.asset.url, product.baseUrl));
      expect(Buffer.from(await content.arrayBuffer()).equals(epub)).toBe(true);
      await page.getByRole('button', { name: 'Import chapters' }).click();
      const imported = page.getByTestId('import-result');
      await imported.waitFor();
      const chapters = () => page.getByRole('list', { name: 'Chapters' }).getByRole('link').allTextContents();
      expect(await imported.textContent()).toBe('Imported 1 chapter.');
      await expect.poll(chapters).toEqual(['Morning', 'Evening', 'Night']);

      // Night goes first, by keyboard.
      await page.getByRole('button', { name: 'Move “Night” up' }).focus();
      await page.keyboard.press('Enter');
      await page.keyboard.press('Enter');
      await expect.poll(chapters).toEqual(['Night', 'Morning', 'Evening']);
      await page.getByRole('button', { name: 'Save chapter order' }).click();
      await page.getByRole('status').getByText('Order saved.').waitFor();
      await page.reload();
      expect(await chapters()).toEqual(['Night', 'Morning', 'Evening']);
      expect(await seriousA11yViolations(page)).toEqual([]);

      await page.getByRole('button', { name: 'Publish ebook' }).click();
      await page.getByTestId('publish-controls').getByText('Published.').waitFor();

      const reader = await registerUser(product.baseUrl);
      const { ebook } = await ok(call<EbookEnvelope>(product.baseUrl, 'GET', `/ebooks/${ebookId}`, reader));
      expect(ebook.status).toBe('published');
      expect(ebook.toc.map((c) => c.title)).toEqual(['Night', 'Morning', 'Evening']);
    } finally {
      await context.close();
    }
  });
});
