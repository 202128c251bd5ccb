import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PollDto } from '../contracts/classrooms.ts';
import { jsonb } from '../orm/db.ts';
import { roomClient, seedClassroom, type RoomClient } from '../test/classrooms.ts';
import { collect, connectSocket, emitAck, emitOk, eventually, type ClientSocket, type EventPayload, type TestUser } from '../test/factories.ts';
import { dbOf, startCluster, type RunningNode } from '../test/nodes.ts';

type Results = EventPayload<'poll:results'>;

/** The live results a host's client shows: the highest resultsVersion per poll wins, whatever the arrival order. */
function latest(events: Results[], pollId: string): Results | undefined {
  return events.filter((e) => e.pollId === pollId).sort((a, b) => b.resultsVersion - a.resultsVersion)[0];
}

describe.skipIf(!inject('redisUrl'))('polls and quizzes across two nodes', () => {
  let nodeA: RunningNode;
  let nodeB: RunningNode;
  let close: () => Promise<void>;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    const cluster = await startCluster(2, { env: { RATE_LIMIT_EVENTS_PER_10S: '100000', PRESENCE_SWEEP_INTERVAL_MS: '200' } });
    [nodeA, nodeB] = cluster.nodes as [RunningNode, RunningNode];
    close = cluster.close;
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await close?.();
  });

  async function enter(node: RunningNode, user: TestUser, classroomId: string): Promise<RoomClient & { results: Results[] }> {
    const socket = await connectSocket(node.url, user.accessToken);
    sockets.push(socket);
    const results = collect(socket, 'poll:results');
    const client = roomClient(socket, classroomId);
    expect((await client.join()).admitted).toBe(true);
    return { ...client, results };
  }
  const pollIn = (client: RoomClient, pollId: string): PollDto | undefined => client.replica.state?.polls.find((p) => p.id === pollId);

  it('learners answer once and may change it while open; the host sees live results, learners only once revealed', async () => {
    const room = await seedClassroom(nodeA, { learners: 2 });
    const { classroomId } = room;
    const [first, second] = room.learners as [TestUser, TestUser];
    const host = await enter(nodeA, room.host, classroomId);
    const l0 = await enter(nodeB, first, classroomId);
    const l1 = await enter(nodeB, second, classroomId);

    const { poll } = await emitOk(host.socket, 'poll:create', {
      classroomId,
      question: 'What is 2 + 2?',
      options: ['3', '4', '5'],
      correctOptions: [1],
    });
    expect(poll).toMatchObject({ status: 'open', quiz: true, multiple: false, revealed: false, results: null, correctOptions: null });
    await eventually(() => pollIn(l1, poll.id) !== undefined, 3000, 'the poll reaches node B');
    expect(pollIn(l1, poll.id)).toEqual(poll);

    const answer = (client: RoomClient, options: number[], event: 'poll:answer' | 'poll:change' = 'poll:answer') =>
      emitAck(client.socket, event, { classroomId, pollId: poll.id, options });
    expect(await answer(l0, [0])).toEqual({ ok: true, data: { pollId: poll.id, options: [0] } });
    expect(await answer(l0, [1])).toMatchObject({ ok: false, error: { code: 'conflict', message: 'You already answered — change it instead.' } });
    expect(await answer(l1, [1], 'poll:change')).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(await answer(l1, [0, 1])).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(await answer(l1, [3])).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(await answer(host, [1])).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await answer(l1, [1])).toMatchObject({ ok: true });
    expect(await answer(l0, [1], 'poll:change')).toEqual({ ok: true, data: { pollId: poll.id, options: [1] } });

    await eventually(() => latest(host.results, poll.id)?.answered === 2 && latest(host.results, poll.id)!.counts[1] === 2, 3000, 'live results');
    expect(latest(host.results, poll.id)).toEqual({ classroomId, pollId: poll.id, resultsVersion: 3, counts: [0, 2, 0], answered: 2 });
    // A co-host coming in later gets the results as they stand, right after the snapshot.
    const cohost = await enter(nodeB, room.cohost, classroomId);
    await eventually(() => cohost.results.length === 1, 3000, 'results for a staff member joining');
    expect(cohost.results[0]).toEqual(latest(host.results, poll.id));

    await emitOk(host.socket, 'poll:close', { classroomId, pollId: poll.id });
    await eventually(() => pollIn(l0, poll.id)?.status === 'closed', 3000, 'closed on node B');
    expect(pollIn(l0, poll.id)).toMatchObject({ results: null, correctOptions: null, revealed: false });
    expect(await answer(l0, [2], 'poll:change')).toMatchObject({ ok: false, error: { code: 'conflict', message: 'This poll is closed.' } });

    await emitOk(host.socket, 'poll:reveal', { classroomId, pollId: poll.id });
    for (const client of [l0, l1, host]) {
      await eventually(() => pollIn(client, poll.id)?.revealed === true, 3000, 'revealed');
      expect(pollIn(client, poll.id)).toMatchObject({ status: 'closed', results: { counts: [0, 2, 0], answered: 2 }, correctOptions: [1] });
    }
    expect(l0.results).toEqual([]);
    expect(l1.results).toEqual([]);
    // Stored: a learner coming back sees their answer.
    const again = await emitOk(l0.socket, 'classroom:join', { classroomId });
    expect(again.admitted && again.myAnswers).toEqual({ [poll.id]: [1] });
  });

  it('multiple choice: several options, each once; revealing an open poll closes it', async () => {
    const room = await seedClassroom(nodeA, { learners: 1 });
    const { classroomId } = room;
    const cohost = await enter(nodeA, room.cohost, classroomId);
    const learner = await enter(nodeB, room.learners[0]!, classroomId);
    const { poll } = await emitOk(cohost.socket, 'poll:create', {
      classroomId,
      question: 'Which are prime?',
      options: ['2', '4', '5'],
      multiple: true,
    });
    expect(poll.quiz).toBe(false);
    const input = (options: number[]) => ({ classroomId, pollId: poll.id, options });
    expect(await emitAck(learner.socket, 'poll:answer', input([0, 0]))).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(await emitOk(learner.socket, 'poll:answer', input([2, 0]))).toEqual({ pollId: poll.id, options: [0, 2] });
    await emitOk(cohost.socket, 'poll:reveal', { classroomId, pollId: poll.id });
    await eventually(() => pollIn(learner, poll.id)?.revealed === true, 3000, 'revealed');
    expect(pollIn(learner, poll.id)).toMatchObject({ status: 'closed', results: { counts: [1, 0, 1], answered: 1 }, correctOptions: null });
    expect(await emitAck(learner.socket, 'poll:change', input([1]))).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(await emitAck(learner.socket, 'poll:create', { classroomId, question: 'Mine', options: ['a', 'b'] })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
  });

  it('a time-limited poll closes on time for everyone', async () => {
    const room = await seedClassroom(nodeA, { learners: 1 });
    const { classroomId } = room;
    const host = await enter(nodeA, room.host, classroomId);
    const learner = await enter(nodeB, room.learners[0]!, classroomId);
    const { poll } = await emitOk(host.socket, 'poll:create', {
      classroomId,
      question: 'Quick!',
      options: ['a', 'b'],
      timeLimitSeconds: 5,
    });
    expect(poll.timeLimitSeconds).toBe(5);
    expect(new Date(poll.closesAt!).getTime() - new Date(poll.createdAt).getTime()).toBe(5000);
    await emitOk(learner.socket, 'poll:answer', { classroomId, pollId: poll.id, options: [0] });
    await eventually(() => pollIn(learner, poll.id)?.status === 'closed', 10_000, 'closed by its timer');
    expect(await emitAck(learner.socket, 'poll:change', { classroomId, pollId: poll.id, options: [1] })).toMatchObject({
      ok: false,
      error: { code: 'conflict' },
    });
  });

  it('a poll whose node went away before its end is closed by the sweep', async () => {
    const room = await seedClassroom(nodeA, { learners: 1 });
    const { classroomId } = room;
    const learner = await enter(nodeB, room.learners[0]!, classroomId);
    const pollId = crypto.randomUUID();
    const q = dbOf(nodeA);
    await q
      .insertInto('classroom_polls')
      .values({
        id: pollId,
        classroom_id: classroomId,
        question: 'Orphan?',
        options: jsonb(['a', 'b']),
        time_limit_seconds: 5,
        closes_at: sql<Date>`now() - interval '1 second'`,
        created_at: sql<Date>`now() - interval '6 seconds'`,
      })
      .execute();
    await eventually(() => pollIn(learner, pollId)?.status === 'closed', 5000, 'closed by a sweep');
    const row = await q.selectFrom('classroom_polls').select('closed_at').where('id', '=', pollId).executeTakeFirstOrThrow();
    expect(row.closed_at).toBeInstanceOf(Date);
  });
});
