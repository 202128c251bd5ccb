import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorResponse } from '../../contracts/errors.ts';
import { seedWorld } from '../../test/communities.ts';
import { call, registerUsers, type ApiResponse } from '../../test/factories.ts';
import { seedMessage } from '../../test/moderationFactories.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode({ env: { RATE_LIMIT_REPORTS_PER_HOUR: '3', RATE_LIMIT_INVITES_PER_HOUR: '2', RATE_LIMIT_NEW_DMS_PER_HOUR: '2' } });
});
afterAll(async () => node?.close());

function expectRateLimited(res: ApiResponse<unknown>, message: RegExp) {
  expect(res.status).toBe(429);
  const { error } = res.body as ErrorResponse;
  expect(error).toMatchObject({ code: 'rate_limited', message: expect.stringMatching(message) });
  // An hour's budget: the caller is told when the oldest use frees up, in seconds.
  expect(error.retryAfter).toBeGreaterThan(0);
  expect(error.retryAfter).toBeLessThanOrEqual(3600);
  expect(res.headers.get('retry-after')).toBe(String(error.retryAfter));
}

async function refusals(limit: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  return Number(new RegExp(`^edulure_abuse_refusals_total\\{limit="${limit}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

describe('reports per hour (RATE_LIMIT_REPORTS_PER_HOUR)', () => {
  it('answers 429 rate_limited once spent, repeats included, for that reporter only', async () => {
    const world = await seedWorld(node, { people: { owner: 'owner', reporter: 'member', author: 'member', other: 'member' }, channels: [{ name: 'general' }] });
    const messages = await Promise.all(Array.from({ length: 4 }, (_, i) => seedMessage(node, world.channels.general, world.author.user.id, `spam ${i}`)));
    const report = (as: typeof world.reporter, messageId: string) =>
      call(node, 'POST', '/reports', as, { targetType: 'message', targetId: messageId, reason: 'spam' });

    expect((await report(world.reporter, messages[0]!)).status).toBe(201);
    expect((await report(world.reporter, messages[1]!)).status).toBe(201);
    // Reporting the same message again records nothing, and still spends the budget.
    expect((await report(world.reporter, messages[1]!)).status).toBe(200);
    expectRateLimited(await report(world.reporter, messages[2]!), /many reports/);
    expect(await refusals('reports')).toBe(1);
    // Someone else still reports.
    expect((await report(world.other, messages[3]!)).status).toBe(201);
  });
});

describe('invites per hour (RATE_LIMIT_INVITES_PER_HOUR)', () => {
  it('answers 429 rate_limited once spent; a refusal for lack of rights spends nothing', async () => {
    const world = await seedWorld(node, { people: { owner: 'owner', member: 'member' }, channels: [] });
    const invite = (as: typeof world.owner) => call(node, 'POST', `/communities/${world.communityId}/invites`, as);
    for (let i = 0; i < 3; i++) expect((await invite(world.member)).status).toBe(403);
    expect((await invite(world.owner)).status).toBe(201);
    expect((await invite(world.owner)).status).toBe(201);
    expectRateLimited(await invite(world.owner), /many invites/);
    expect(await refusals('invites')).toBe(1);
  });
});

describe('new DM conversations per hour (RATE_LIMIT_NEW_DMS_PER_HOUR)', () => {
  it('counts only conversations that did not exist: reopening one stays free once the budget is spent', async () => {
    const [sender, a, b, c, d] = await registerUsers(node.url, 5);
    const dm = (...to: (typeof a)[]) => call(node, 'POST', '/dms', sender, { userIds: to.map((u) => u.user.id) });
    expect((await dm(a)).status).toBe(201);
    expect((await dm(a)).status).toBe(200);
    expect((await dm(b, c)).status).toBe(201);
    expectRateLimited(await dm(c), /new conversations/);
    expectRateLimited(await dm(c, d), /new conversations/);
    // The conversations already there open as before.
    expect((await dm(a)).status).toBe(200);
    // Someone else, even toward the same person, is not affected; and a DM someone opened to me is mine to open.
    expect((await call(node, 'POST', '/dms', d, { userIds: [sender.user.id] })).status).toBe(201);
    expect((await dm(d)).status).toBe(200);
    expect(await refusals('new_dms')).toBe(2);
  });
});
