import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  waitUntilLive,
  haveChromium,
  reportMissingChromium,
  seriousA11yViolations,
  signUp,
  startProduct,
  uniqueEmail,
  type Product,
} from './harness.ts';

reportMissingChromium('the live classroom journey');

const UUID = '[0-9a-f-]{36}';
/** Live updates normally land in milliseconds; the margin is for a loaded CI machine. */
const LIVE = { timeout: 10_000 };

/** Waits until the live page has joined the room over the socket. */
function waitForRoom(page: Page): Promise<void> {
  return waitUntilLive(page, page.getByRole('list', { name: 'Participants' }));
}

function participant(page: Page, name: string) {
  return page.getByRole('list', { name: 'Participants' }).getByTestId('participant').filter({ hasText: name });
}

/** A message in the class chat's list. */
function chatMessage(page: Page, text: string) {
  return page.getByRole('log', { name: 'Messages in Class chat' }).getByTestId('message').filter({ hasText: text });
}

/** Signs up, finds the community by name and joins it; returns when the community page shows. */
async function joinCommunity(page: Page, community: string, communityUrl: string): Promise<void> {
  await page.goto(`/app/c?q=${encodeURIComponent(community)}`);
  await page.getByRole('button', { name: `Join ${community}` }).click();
  await page.waitForURL(communityUrl);
}

/** The browser's wall-clock time `minutes` from now, as a datetime-local field takes it. */
function localTimeIn(page: Page, minutes: number): Promise<string> {
  return page.evaluate((offset) => {
    const d = new Date(Date.now() + offset * 60_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }, minutes);
}

describe.skipIf(!haveChromium)('live classroom in real browsers', () => {
  let product: Product;

  beforeAll(async () => {
    product = await startProduct();
  });

  afterAll(async () => {
    await product?.close();
  });

  it('a host schedules and teaches a class: register, start, hand, stage, poll, chat, end and the attendance report', async () => {
    const host = await product.newDevice();
    const learner = await product.newDevice();
    const community = `Maths Circle ${Date.now().toString(36)}`;
    const title = 'Fractions, live';
    const pageErrors: string[] = [];
    for (const { page } of [host, learner]) {
      page.on('pageerror', (err) => pageErrors.push(err.message));
      page.on('console', (msg) => msg.type() === 'error' && !/Failed to load resource/.test(msg.text()) && pageErrors.push(msg.text()));
    }
    try {
      await signUp(host.page, product.baseUrl, uniqueEmail('hana'), 'Hana Host');
      await signUp(learner.page, product.baseUrl, uniqueEmail('leo'), 'Leo Learner');

      // The host creates a community; the learner joins it.
      await host.page.goto('/app/c');
      await host.page.getByLabel('Name', { exact: true }).fill(community);
      await host.page.getByRole('button', { name: 'Create community' }).click();
      await host.page.waitForURL(new RegExp(`/app/c/${UUID}$`));
      const communityUrl = host.page.url();
      await joinCommunity(learner.page, community, communityUrl);

      // The host schedules a class from the community's class list, starting in five minutes.
      await host.page.getByRole('link', { name: 'Upcoming classes' }).click();
      await host.page.waitForURL(`${communityUrl}/classes`);
      expect(await seriousA11yViolations(host.page)).toEqual([]);
      const startsAt = await localTimeIn(host.page, 5);
      await host.page.getByLabel('Title').fill(title);
      await host.page.getByLabel('Starts at').fill(startsAt);
      await host.page.getByLabel('Length (minutes)').fill('45');
      await host.page.getByLabel('Seats').fill('10');
      await host.page.getByRole('button', { name: 'Schedule class' }).click();
      await host.page.waitForURL(new RegExp(`/classes/${UUID}$`));
      const classUrl = host.page.url();
      await host.page.getByRole('heading', { name: title }).waitFor();

      // The learner finds it in the community's classes and registers.
      await learner.page.getByRole('link', { name: 'Upcoming classes' }).click();
      await learner.page.waitForURL(`${communityUrl}/classes`);
      const card = learner.page.getByTestId('class-card').filter({ hasText: title });
      await card.getByText('0 of 10 seats taken').waitFor();
      await card.getByRole('button', { name: `Register for ${title}` }).click();
      await expect.poll(() => card.getByTestId('registration-state').textContent(), LIVE).toBe('Registered');
      await card.getByText('1 of 10 seats taken').waitFor();
      expect(await seriousA11yViolations(learner.page)).toEqual([]);

      // The host sees the registration, then starts the class and lands in the live room.
      await host.page.reload();
      await host.page.getByRole('table').getByText('Leo Learner').waitFor();
      expect(await seriousA11yViolations(host.page)).toEqual([]);
      await host.page.getByRole('button', { name: 'Start class' }).click();
      await host.page.waitForURL(`${classUrl}/live`);
      await waitForRoom(host.page);

      // The learner is told the class is live, wherever they are in the app, and follows the link in.
      const notice = learner.page.getByTestId('class-notices');
      await notice.getByText(`“${title}” is live now.`, { exact: true }).waitFor(LIVE);
      await notice.getByRole('link', { name: 'Join live class' }).click();
      await learner.page.waitForURL(`${classUrl}/live`);
      await waitForRoom(learner.page);
      await participant(host.page, 'Leo Learner').waitFor(LIVE);
      await participant(learner.page, 'Hana Host').waitFor();
      // No video credentials on this server: a clear placeholder, and everything else works.
      await learner.page.getByText('Video is not configured on this server').waitFor();

      // The learner raises a hand; the host sees the queue.
      await learner.page.getByRole('button', { name: 'Raise hand' }).click();
      await learner.page.getByRole('button', { name: 'Lower hand' }).waitFor();
      const hostQueue = host.page.getByRole('list', { name: 'Raised hands' });
      await hostQueue.getByText('Leo Learner').waitFor(LIVE);
      await learner.page.getByRole('list', { name: 'Raised hands' }).getByText('Leo Learner').waitFor();

      // The host invites the learner to the stage from the queue; the learner accepts.
      await hostQueue.getByRole('button', { name: 'Invite Leo Learner to the stage' }).click();
      await learner.page.getByTestId('stage-invitation').waitFor(LIVE);
      await learner.page.getByRole('button', { name: 'Join the stage' }).click();
      for (const page of [host.page, learner.page]) {
        await expect.poll(() => participant(page, 'Leo Learner').getByTestId('participant-role').textContent(), LIVE).toBe('Speaker');
      }
      await learner.page.getByText('You are on the stage.').waitFor();
      expect(await seriousA11yViolations(learner.page)).toEqual([]);

      // The host runs a quiz; the learner answers; the host sees the live result; the learner sees it once revealed.
      const question = 'What is 1/2 + 1/4?';
      await host.page.getByLabel('Question').fill(question);
      await host.page.getByLabel('Option 1', { exact: true }).fill('3/4');
      await host.page.getByLabel('Option 2', { exact: true }).fill('2/6');
      await host.page.getByRole('checkbox', { name: 'Option 1 is correct' }).check();
      await host.page.getByRole('button', { name: 'Start poll' }).click();
      const learnerPoll = learner.page.getByTestId('poll').filter({ hasText: question });
      await learnerPoll.waitFor(LIVE);
      await learnerPoll.getByRole('radio', { name: '3/4' }).check();
      await learnerPoll.getByRole('button', { name: 'Submit answer' }).click();
      await learnerPoll.getByText('Answer sent.').waitFor(LIVE);
      expect(await learnerPoll.getByTestId('poll-results').count()).toBe(0);

      const hostPoll = host.page.getByTestId('poll').filter({ hasText: question });
      await hostPoll.getByText('1 answered').waitFor(LIVE);
      const hostResult = hostPoll.getByTestId('poll-result').filter({ hasText: '3/4' });
      await expect.poll(() => hostResult.textContent(), LIVE).toContain('1 vote (100%)');
      await hostPoll.getByRole('button', { name: /^Reveal results/ }).click();
      const learnerResult = learnerPoll.getByTestId('poll-result').filter({ hasText: '3/4' });
      await expect.poll(() => learnerResult.textContent(), LIVE).toContain('1 vote (100%)');
      expect(await learnerResult.textContent()).toContain('(correct)');

      // In-class chat, both ways.
      await learner.page.locator('section[data-joined="true"]').waitFor(LIVE);
      await host.page.locator('section[data-joined="true"]').waitFor(LIVE);
      const hostComposer = host.page.getByRole('textbox', { name: 'Message Class chat' });
      await hostComposer.fill('Welcome to the class!');
      await hostComposer.press('Enter');
      await chatMessage(learner.page, 'Welcome to the class!').waitFor(LIVE);
      const learnerComposer = learner.page.getByRole('textbox', { name: 'Message Class chat' });
      await learnerComposer.fill('Happy to be here');
      await learnerComposer.press('Enter');
      await chatMessage(host.page, 'Happy to be here').waitFor(LIVE);

      expect(await seriousA11yViolations(host.page)).toEqual([]);
      expect(await seriousA11yViolations(learner.page)).toEqual([]);

      // The host ends the class; both are told.
      await host.page.getByRole('button', { name: 'End class' }).click();
      for (const page of [host.page, learner.page]) {
        await page.getByTestId('class-ended').getByText('This class has ended.').waitFor(LIVE);
      }

      // The attendance report lists the learner.
      await host.page.getByTestId('class-ended').getByRole('link', { name: 'Attendance report' }).click();
      await host.page.waitForURL(`${classUrl}/attendance`);
      const row = host.page.getByTestId('attendance-row').filter({ hasText: 'Leo Learner' });
      await row.waitFor();
      expect(await row.getByRole('cell').nth(0).textContent()).toBe('Learner');
      expect(await seriousA11yViolations(host.page)).toEqual([]);
      const csv = await host.page.request.get(`${classUrl}/attendance/csv`);
      expect(csv.status()).toBe(200);
      expect(csv.headers()['content-type']).toContain('text/csv');
      expect(await csv.text()).toContain('Leo Learner');

      expect(pageErrors).toEqual([]);
    } finally {
      await host.context.close();
      await learner.context.close();
    }
  });

  it('a full class with a waiting room: waitlist position, admission, and a seat passed on to the waitlist', async () => {
    const host = await product.newDevice();
    const first = await product.newDevice();
    const second = await product.newDevice();
    const community = `Chess Club ${Date.now().toString(36)}`;
    const title = 'Endgames';
    const pageErrors: string[] = [];
    for (const { page } of [host, first, second]) {
      page.on('pageerror', (err) => pageErrors.push(err.message));
      page.on('console', (msg) => msg.type() === 'error' && !/Failed to load resource/.test(msg.text()) && pageErrors.push(msg.text()));
    }
    try {
      await signUp(host.page, product.baseUrl, uniqueEmail('magnus'), 'Magnus Host');
      await signUp(first.page, product.baseUrl, uniqueEmail('fay'), 'Fay First');
      await signUp(second.page, product.baseUrl, uniqueEmail('sam'), 'Sam Second');
      await host.page.goto('/app/c');
      await host.page.getByLabel('Name', { exact: true }).fill(community);
      await host.page.getByRole('button', { name: 'Create community' }).click();
      await host.page.waitForURL(new RegExp(`/app/c/${UUID}$`));
      const communityUrl = host.page.url();
      await joinCommunity(first.page, community, communityUrl);
      await joinCommunity(second.page, community, communityUrl);

      // One seat, and the host lets people in.
      await host.page.goto(`${communityUrl}/classes`);
      await host.page.getByLabel('Title').fill(title);
      await host.page.getByLabel('Starts at').fill(await localTimeIn(host.page, 10));
      await host.page.getByLabel('Seats').fill('1');
      await host.page.getByLabel('Waiting room: I let each learner in').check();
      await host.page.getByRole('button', { name: 'Schedule class' }).click();
      await host.page.waitForURL(new RegExp(`/classes/${UUID}$`));
      const classUrl = host.page.url();

      // The first learner takes the seat; the second joins the waitlist.
      for (const { page } of [first, second]) await page.goto(`${communityUrl}/classes`);
      const firstCard = first.page.getByTestId('class-card').filter({ hasText: title });
      await firstCard.getByRole('button', { name: `Register for ${title}` }).click();
      await expect.poll(() => firstCard.getByTestId('registration-state').textContent(), LIVE).toBe('Registered');
      await second.page.reload();
      const secondCard = second.page.getByTestId('class-card').filter({ hasText: title });
      await secondCard.getByRole('button', { name: `Join the waitlist for ${title}` }).click();
      await expect.poll(() => secondCard.getByTestId('registration-state').textContent(), LIVE).toBe('Waitlisted — position 1');
      await secondCard.getByText('1 of 1 seat taken · 1 on the waitlist').waitFor();

      // The host starts; the first learner waits to be let in until the host admits them.
      await host.page.getByRole('button', { name: 'Start class' }).click();
      await host.page.waitForURL(`${classUrl}/live`);
      await waitForRoom(host.page);
      await first.page.goto(`${classUrl}/live`);
      await first.page.getByTestId('waiting-screen').getByText('Waiting for the host to let you in').waitFor(LIVE);
      expect(await seriousA11yViolations(first.page)).toEqual([]);
      const waitingRoom = host.page.getByRole('list', { name: 'Waiting to join' });
      await waitingRoom.getByText('Fay First').waitFor(LIVE);
      expect(await seriousA11yViolations(host.page)).toEqual([]);
      await waitingRoom.getByRole('button', { name: 'Admit Fay First' }).click();
      await participant(first.page, 'Fay First').waitFor(LIVE);
      await participant(host.page, 'Fay First').waitFor(LIVE);
      expect(await first.page.getByTestId('waiting-screen').count()).toBe(0);

      // The first learner gives the seat up; the second is told live that it is theirs.
      await first.page.goto(classUrl);
      await first.page.getByRole('button', { name: `Cancel my registration for ${title}` }).click();
      await expect.poll(() => first.page.getByTestId('registration-state').textContent(), LIVE).toBe('');
      const notice = second.page.getByTestId('class-notices');
      await notice.getByText(`A seat opened in “${title}”: you are registered now.`, { exact: true }).waitFor(LIVE);
      await notice.getByRole('link', { name: 'See the class' }).click();
      await second.page.waitForURL(classUrl);
      expect(await second.page.getByTestId('registration-state').textContent()).toBe('Registered');
      await second.page.getByRole('link', { name: 'Join live class' }).click();
      await second.page.waitForURL(`${classUrl}/live`);
      await second.page.getByTestId('waiting-screen').waitFor(LIVE);

      expect(pageErrors).toEqual([]);
    } finally {
      for (const device of [host, first, second]) await device.context.close();
    }
  });
});
