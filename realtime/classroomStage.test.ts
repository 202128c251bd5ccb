import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RTC_TOKEN_MAX_TTL_SECONDS, type ClassroomTokenEvent } from '../contracts/classrooms.ts';
import { participantIn, roomClient, seedClassroom, type RoomClient } from '../test/classrooms.ts';
import { decodeRtcToken, RTC_PRIVILEGES, TEST_AGORA } from '../test/classroomFactories.ts';
import { collect, connectSocket, emitAck, emitOk, eventually, type ClientSocket, type TestUser } from '../test/factories.ts';
import { dbOf, startCluster, type RunningNode } from '../test/nodes.ts';

describe.skipIf(!inject('redisUrl'))('the stage across two nodes, with video configured', () => {
  let nodeA: RunningNode;
  let nodeB: RunningNode;
  let close: () => Promise<void>;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    const cluster = await startCluster(2, { env: { RATE_LIMIT_EVENTS_PER_10S: '100000', ...TEST_AGORA } });
    [nodeA, nodeB] = cluster.nodes as [RunningNode, RunningNode];
    close = cluster.close;
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await close?.();
  });

  async function enter(node: RunningNode, user: TestUser, classroomId: string): Promise<RoomClient> {
    const socket = await connectSocket(node.url, user.accessToken);
    sockets.push(socket);
    const client = roomClient(socket, classroomId);
    expect((await client.join()).admitted).toBe(true);
    return client;
  }

  async function rtcUidOf(userId: string): Promise<number> {
    const user = await dbOf(nodeA).selectFrom('users').select('rtc_uid').where('id', '=', userId).executeTakeFirstOrThrow();
    return user.rtc_uid;
  }

  function expectToken(event: ClassroomTokenEvent, classroomId: string, uid: number, role: 'publisher' | 'subscriber') {
    expect(event).toMatchObject({ classroomId, appId: TEST_AGORA.AGORA_APP_ID, channel: `edulure-${classroomId}`, uid, role });
    const decoded = decodeRtcToken(event.token);
    // The parser hands strings back as bytes.
    expect(String(decoded.appId)).toBe(TEST_AGORA.AGORA_APP_ID);
    expect(String(decoded.channel)).toBe(`edulure-${classroomId}`);
    expect(String(decoded.uid)).toBe(String(uid));
    expect(decoded.expire).toBeGreaterThan(0);
    expect(decoded.expire).toBeLessThanOrEqual(RTC_TOKEN_MAX_TTL_SECONDS);
    expect(decoded.privileges[RTC_PRIVILEGES.join]).toBeGreaterThan(0);
    const publishing = [RTC_PRIVILEGES.audio, RTC_PRIVILEGES.video, RTC_PRIVILEGES.data].map((p) => decoded.privileges[p]);
    if (role === 'publisher') {
      for (const expiry of publishing) expect(expiry).toBeGreaterThan(0);
      for (const expiry of Object.values(decoded.privileges)) expect(expiry).toBeLessThanOrEqual(RTC_TOKEN_MAX_TTL_SECONDS);
    } else {
      expect(publishing).toEqual([undefined, undefined, undefined]);
    }
    expect(new Date(event.expiresAt).getTime()).toBeLessThanOrEqual(Date.now() + RTC_TOKEN_MAX_TTL_SECONDS * 1000);
  }

  it('invite → accept pushes a PUBLISHER token to the learner on node B; removal pushes a SUBSCRIBER one', async () => {
    const room = await seedClassroom(nodeA, { learners: 2 });
    const { classroomId } = room;
    const [learner, bystander] = room.learners as [TestUser, TestUser];
    const host = await enter(nodeA, room.host, classroomId);
    const client = await enter(nodeB, learner, classroomId);
    const other = await enter(nodeB, bystander, classroomId);
    const tokens = collect(client.socket, 'classroom:token');
    const othersTokens = collect(other.socket, 'classroom:token');
    const uid = await rtcUidOf(learner.user.id);

    await emitOk(client.socket, 'hand:raise', { classroomId });
    await emitOk(host.socket, 'stage:invite', { classroomId, userId: learner.user.id });
    await eventually(() => participantIn(client.replica.state, learner.user.id)?.stageInvited === true, 3000, 'invitation on node B');
    // Being invited lowers the hand; nothing to publish yet.
    expect(client.replica.state!.handQueue).toEqual([]);
    expect(tokens).toEqual([]);

    await emitOk(client.socket, 'stage:accept', { classroomId });
    await eventually(() => tokens.length === 1, 3000, 'a publisher token');
    expectToken(tokens[0]!, classroomId, uid, 'publisher');
    await eventually(() => participantIn(host.replica.state, learner.user.id)?.role === 'speaker', 3000, 'speaker for the host');
    expect(participantIn(host.replica.state, learner.user.id)!.stageInvited).toBe(false);

    await emitOk(host.socket, 'stage:remove', { classroomId, userId: learner.user.id });
    await eventually(() => tokens.length === 2, 3000, 'a subscriber token');
    expectToken(tokens[1]!, classroomId, uid, 'subscriber');
    await eventually(() => participantIn(other.replica.state, learner.user.id)?.role === 'learner', 3000, 'back in the audience');
    expect(othersTokens).toEqual([]);
  });

  it('a speaker may step down; a declined invitation changes nothing for video', async () => {
    const room = await seedClassroom(nodeA, { learners: 2 });
    const { classroomId } = room;
    const [speaker, shy] = room.learners as [TestUser, TestUser];
    const cohost = await enter(nodeA, room.cohost, classroomId);
    const speakerClient = await enter(nodeB, speaker, classroomId);
    const shyClient = await enter(nodeB, shy, classroomId);
    const speakerTokens = collect(speakerClient.socket, 'classroom:token');
    const shyTokens = collect(shyClient.socket, 'classroom:token');

    await emitOk(cohost.socket, 'stage:invite', { classroomId, userId: speaker.user.id });
    await emitOk(speakerClient.socket, 'stage:accept', { classroomId });
    await eventually(() => speakerTokens.length === 1, 3000, 'publisher token');
    await emitOk(speakerClient.socket, 'stage:remove', { classroomId, userId: speaker.user.id });
    await eventually(() => speakerTokens.length === 2, 3000, 'subscriber token after stepping down');
    expect(speakerTokens.map((t) => t.role)).toEqual(['publisher', 'subscriber']);

    await emitOk(cohost.socket, 'stage:invite', { classroomId, userId: shy.user.id });
    await eventually(() => participantIn(shyClient.replica.state, shy.user.id)?.stageInvited === true, 3000, 'invited');
    await emitOk(shyClient.socket, 'stage:decline', { classroomId });
    await eventually(() => participantIn(cohost.replica.state, shy.user.id)?.stageInvited === false, 3000, 'declined');
    expect(await emitAck(shyClient.socket, 'stage:accept', { classroomId })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(participantIn(cohost.replica.state, shy.user.id)!.role).toBe('learner');
    expect(shyTokens).toEqual([]);
  });

  it('only admitted learners can be invited', async () => {
    const room = await seedClassroom(nodeA, { learners: 2 });
    const { classroomId } = room;
    const host = await enter(nodeA, room.host, classroomId);
    // Registered but never came in; not registered; the co-host.
    expect(await emitAck(host.socket, 'stage:invite', { classroomId, userId: room.learners[0]!.user.id })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await emitAck(host.socket, 'stage:invite', { classroomId, userId: room.unregistered.user.id })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await emitAck(host.socket, 'stage:invite', { classroomId, userId: room.cohost.user.id })).toMatchObject({ ok: false, error: { code: 'conflict' } });
  });
});
