import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClassroomDto, RtcTokenDto } from '../../contracts/classrooms.ts';
import { manualClock } from '../../domain/shared/time.ts';
import {
  classroomCommunity,
  decodeRtcToken,
  minutesFrom,
  RTC_PRIVILEGES,
  scheduleClassroom,
  setParticipant,
  TEST_AGORA,
} from '../../test/classroomFactories.ts';
import { call, ok, registerUsers, type TestUser } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

const clock = manualClock();
let node: RunningNode;
let videoless: RunningNode;
beforeAll(async () => {
  [node, videoless] = await Promise.all([startNode({ clock, env: TEST_AGORA }), startNode({ clock })]);
});
afterAll(async () => {
  await Promise.all([node?.close(), videoless?.close()]);
});

const token = (classroom: { id: string }, user: TestUser, on: RunningNode = node) => call<RtcTokenDto>(on, 'POST', `/classrooms/${classroom.id}/rtc-token`, user);
const refusal = async (classroom: { id: string }, user: TestUser) => {
  const res = await token(classroom, user);
  return { status: res.status, ...(res.body as any).error };
};
const rtcUidOf = async (user: TestUser) =>
  (await dbOf(node).selectFrom('users').select('rtc_uid').where('id', '=', user.user.id).executeTakeFirstOrThrow()).rtc_uid;
const schedule = (host: TestUser, communityId: string, minutesAhead = 5, overrides: Parameters<typeof scheduleClassroom>[3] = {}) =>
  scheduleClassroom(node, host, communityId, { startsAt: minutesFrom(minutesAhead, clock.now()), ...overrides });
const start = (classroom: { id: string }, host: TestUser) => ok<{ classroom: ClassroomDto }>(call(node, 'POST', `/classrooms/${classroom.id}/start`, host));
const PUBLISHER = [RTC_PRIVILEGES.join, RTC_PRIVILEGES.audio, RTC_PRIVILEGES.video, RTC_PRIVILEGES.data].sort();

/** Decodes with agora-token's parser and checks what every token must carry. */
function expectToken(dto: RtcTokenDto, classroomId: string, uid: number, role: 'publisher' | 'subscriber') {
  expect(dto).toMatchObject({ appId: TEST_AGORA.AGORA_APP_ID, channel: `edulure-${classroomId}`, uid, role });
  const decoded = decodeRtcToken(dto.token);
  expect(decoded).toMatchObject({ appId: TEST_AGORA.AGORA_APP_ID, channel: `edulure-${classroomId}`, uid: String(uid) });
  expect(decoded.expire).toBeGreaterThan(0);
  expect(decoded.expire).toBeLessThanOrEqual(3600);
  // The reported expiry is the token's own: issued at + lifetime (whole seconds).
  expect(Math.abs(Date.parse(dto.expiresAt) / 1000 - (decoded.issueTs + decoded.expire))).toBeLessThanOrEqual(1);
  const privileges = Object.keys(decoded.privileges).map(Number).sort();
  expect(privileges).toEqual(role === 'publisher' ? PUBLISHER : [RTC_PRIVILEGES.join]);
  for (const seconds of Object.values(decoded.privileges)) expect(seconds).toBeLessThanOrEqual(3600);
}

describe('video tokens by role', () => {
  it('host and co-hosts publish, learners subscribe, learners on stage publish; one stable uid per user', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 3);
    const [cohost, learner, speaker] = learners as [TestUser, TestUser, TestUser];
    const classroom = await schedule(host, communityId);
    const other = await schedule(host, communityId);
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/cohosts`, host, { userId: cohost.user.id }));
    for (const user of [learner, speaker]) await ok(call(node, 'POST', `/classrooms/${classroom.id}/register`, user), 201);
    await ok(call(node, 'POST', `/classrooms/${other.id}/register`, learner), 201);
    await start(classroom, host);
    await start(other, host);
    await setParticipant(node, classroom.id, speaker.user.id, { stage: 'speaker' });

    const uids = await Promise.all([host, cohost, learner, speaker].map(rtcUidOf));
    expect(uids.every((uid) => Number.isInteger(uid) && uid > 0)).toBe(true);
    expect(new Set(uids).size).toBe(4);
    expectToken(await ok(token(classroom, host)), classroom.id, uids[0]!, 'publisher');
    expectToken(await ok(token(classroom, cohost)), classroom.id, uids[1]!, 'publisher');
    expectToken(await ok(token(classroom, learner)), classroom.id, uids[2]!, 'subscriber');
    expectToken(await ok(token(classroom, speaker)), classroom.id, uids[3]!, 'publisher');
    // Same user, another class: the same uid on that class's own channel.
    expectToken(await ok(token(other, learner)), other.id, uids[2]!, 'subscriber');

    // Renewal rechecks everything: off the stage, the next token subscribes only.
    await setParticipant(node, classroom.id, speaker.user.id, { stage: 'none' });
    expectToken(await ok(token(classroom, speaker)), classroom.id, uids[3]!, 'subscriber');
  });

  it('the host gets one from 15 minutes before the start; learners only once the class is live', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 1);
    const learner = learners[0]!;
    const classroom = await schedule(host, communityId, 40);
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/register`, learner), 201);
    expect(await refusal(classroom, host)).toEqual({ status: 409, code: 'conflict', message: 'Video opens 15 minutes before the start.' });
    clock.advance(25 * 60_000);
    expectToken(await ok(token(classroom, host)), classroom.id, await rtcUidOf(host), 'publisher');
    expect(await refusal(classroom, learner)).toEqual({ status: 409, code: 'conflict', message: 'Video opens when the host starts the class.' });
    await start(classroom, host);
    expectToken(await ok(token(classroom, learner)), classroom.id, await rtcUidOf(learner), 'subscriber');
  });
});

describe('nobody the rules exclude gets a token', () => {
  it('outsiders, unregistered members, waitlisted and cancelled learners are refused', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 4);
    const [seated, waitlisted, member, cancelled] = learners as [TestUser, TestUser, TestUser, TestUser];
    const priv = await classroomCommunity(node, 0, { visibility: 'private' });
    const [outsider] = await registerUsers(node.url, 1);
    const classroom = await schedule(host, communityId, 5, { capacity: 2 });
    const hidden = await schedule(priv.host, priv.communityId);
    for (const user of [seated, cancelled, waitlisted]) await ok(call(node, 'POST', `/classrooms/${classroom.id}/register`, user), 201);
    await ok(call(node, 'DELETE', `/classrooms/${classroom.id}/register`, cancelled));
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/register`, member), 201);
    await ok(call(node, 'DELETE', `/classrooms/${classroom.id}/register`, member));
    await start(classroom, host);
    await start(hidden, priv.host);

    const register = { status: 403, code: 'forbidden', message: 'Register for this class to join it.' };
    expect(await refusal(classroom, outsider)).toEqual(register);
    expect(await refusal(classroom, member)).toEqual(register);
    expect(await refusal(classroom, cancelled)).toEqual(register);
    // The cancellation promoted the waitlisted learner; a fresh waitlist entry is refused too.
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/register`, member), 201);
    expect((await ok(call(node, 'GET', `/classrooms/${classroom.id}`, member))).classroom.myRegistration).toBe('waitlisted');
    expect(await refusal(classroom, member)).toEqual(register);
    expect((await ok(token(classroom, waitlisted))).role).toBe('subscriber');
    expect(await refusal(hidden, outsider)).toEqual({ status: 404, code: 'not_found', message: 'No such classroom.' });
    expect(await refusal({ id: crypto.randomUUID() }, seated)).toMatchObject({ status: 404 });
  });

  it('in a waiting-room class, learners the host has not admitted, or denied, are refused', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 4);
    const [admitted, waiting, absent, denied] = learners as [TestUser, TestUser, TestUser, TestUser];
    const classroom = await schedule(host, communityId, 5, { waitingRoom: true });
    for (const user of learners) await ok(call(node, 'POST', `/classrooms/${classroom.id}/register`, user), 201);
    await start(classroom, host);
    await setParticipant(node, classroom.id, admitted.user.id, { admission: 'admitted' });
    await setParticipant(node, classroom.id, waiting.user.id, { admission: 'waiting' });
    await setParticipant(node, classroom.id, denied.user.id, { admission: 'denied' });

    expect((await ok(token(classroom, admitted))).role).toBe('subscriber');
    const wait = { status: 403, code: 'forbidden', message: 'Wait until the host admits you.' };
    expect(await refusal(classroom, waiting)).toEqual(wait);
    expect(await refusal(classroom, absent)).toEqual(wait);
    expect(await refusal(classroom, denied)).toEqual({ status: 403, code: 'forbidden', message: 'The host did not admit you to this class.' });
  });

  it('a learner removed from the community is refused, in public and private communities alike', async () => {
    for (const visibility of ['public', 'private'] as const) {
      const { communityId, host, learners } = await classroomCommunity(node, 1, { visibility });
      const learner = learners[0]!;
      const classroom = await schedule(host, communityId);
      await ok(call(node, 'POST', `/classrooms/${classroom.id}/register`, learner), 201);
      await start(classroom, host);
      expect((await ok(token(classroom, learner))).role).toBe('subscriber');
      await ok(call(node, 'DELETE', `/communities/${communityId}/members/${learner.user.id}`, host), 204);
      expect((await refusal(classroom, learner)).status).toBe(visibility === 'public' ? 403 : 404);
    }
  });

  it('a cancelled class issues none, to anyone', async () => {
    const { communityId, host, learners } = await classroomCommunity(node, 1);
    const classroom = await schedule(host, communityId);
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/register`, learners[0]!), 201);
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/cancel`, host));
    expect(await refusal(classroom, host)).toEqual({ status: 409, code: 'conflict', message: 'This class has been cancelled: no more video tokens.' });
    expect((await refusal(classroom, learners[0]!)).status).toBe(409);
  });
});

describe('without an Agora project', () => {
  it('answers unavailable with a clear message, while the rest of the class works', async () => {
    const { communityId, host, learners } = await classroomCommunity(videoless, 1);
    const classroom = await scheduleClassroom(videoless, host, communityId, { startsAt: minutesFrom(5, clock.now()) });
    await ok(call(videoless, 'POST', `/classrooms/${classroom.id}/register`, learners[0]!), 201);
    await ok(call(videoless, 'POST', `/classrooms/${classroom.id}/start`, host));
    const res = await token(classroom, host, videoless);
    expect(res.status).toBe(503);
    expect((res.body as any).error).toEqual({
      code: 'unavailable',
      message: 'Video is not configured on this server (AGORA_APP_ID and AGORA_APP_CERTIFICATE are unset). Chat, hands, stage and polls still work.',
    });
    await ok(call(videoless, 'POST', `/classrooms/${classroom.id}/end`, host));
  });
});
