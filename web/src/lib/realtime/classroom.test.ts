import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClassroomPatchDto, ClassroomStateDto, JoinClassroomResult, ParticipantDto } from '$contracts/classrooms.ts';
import type { AckResult } from '$contracts/errors.ts';
import { ClassroomRoom } from './classroom.svelte.ts';
import { FakeSocket } from './fakeSocket.ts';

const ROOM = '00000000-0000-4000-8000-00000000aaaa';
const HOST = { id: '00000000-0000-4000-8000-000000000001', displayName: 'Hana' };
const LEARNER = { id: '00000000-0000-4000-8000-000000000002', displayName: 'Leo' };
const POLL = '00000000-0000-4000-8000-0000000000b1';

function person(user: { id: string; displayName: string }, role: ParticipantDto['role']): ParticipantDto {
  return { user, rtcUid: 1, role, present: true, stageInvited: false, handRaisedAt: null };
}

function state(version: number, extra: Partial<ClassroomStateDto> = {}): ClassroomStateDto {
  return {
    classroomId: ROOM,
    version,
    status: 'live',
    startedAt: '2026-01-01T10:00:00.000Z',
    endedAt: null,
    participants: [person(HOST, 'host'), person(LEARNER, 'learner')],
    handQueue: [],
    waiting: [],
    muteAll: null,
    polls: [],
    ...extra,
  };
}

const admitted = (s: ClassroomStateDto, myAnswers: Record<string, number[]> = {}): AckResult<JoinClassroomResult> => ({
  ok: true,
  data: { admitted: true, state: s, myAnswers },
});
const fakeSocket = () => new FakeSocket(() => ({ ok: true, data: { classroomId: ROOM, version: 0 } }));
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
const patch = (version: number, fields: Partial<ClassroomPatchDto> = {}): ClassroomPatchDto => ({ classroomId: ROOM, version, ...fields });

function setup(me = LEARNER, snapshot = state(3)) {
  const socket = fakeSocket();
  socket.answers['classroom:join'] = () => admitted(snapshot);
  const room = new ClassroomRoom({ classroomId: ROOM, me, gapGraceMs: 50, retryDelayMs: () => 20 });
  room.attach(socket.socket);
  return { socket, room };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ClassroomRoom', () => {
  it('joins with a snapshot and follows patches in version order', async () => {
    const { socket, room } = setup();
    await settle();
    expect(room.phase).toBe('in');
    expect(room.version).toBe(3);
    expect(room.isStaff).toBe(false);

    socket.push('classroom:state', patch(5, { handQueue: [HOST.id, LEARNER.id] }));
    expect(room.state?.handQueue).toEqual([]);
    socket.push('classroom:state', patch(4, { handQueue: [LEARNER.id] }));
    expect(room.version).toBe(5);
    expect(room.handQueue.map((p) => p.user.id)).toEqual([HOST.id, LEARNER.id]);
    expect(room.handRaised).toBe(true);
    socket.push('classroom:state', patch(4, { handQueue: [] }));
    expect(room.state?.handQueue).toHaveLength(2);
  });

  it('re-joins for a snapshot when a missing patch never arrives', async () => {
    const { socket, room } = setup();
    await settle();
    socket.answers['classroom:join'] = () => admitted(state(6, { handQueue: [LEARNER.id] }));
    socket.push('classroom:state', patch(7, { handQueue: [] }));
    expect(socket.count('classroom:join')).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(socket.count('classroom:join')).toBe(2);
    expect(room.version).toBe(7);
    expect(room.state?.handQueue).toEqual([]);
  });

  it('re-joins after every reconnect and converges on the fresh snapshot', async () => {
    const { socket, room } = setup();
    await settle();
    socket.connected = false;
    socket.answers['classroom:join'] = () =>
      admitted(state(9, { participants: [person(HOST, 'host'), person(LEARNER, 'speaker')] }), { [POLL]: [1] });
    socket.reconnect();
    await settle();
    expect(socket.count('classroom:join')).toBe(2);
    expect(room.version).toBe(9);
    expect(room.myself?.role).toBe('speaker');
    expect(room.myAnswers).toEqual({ [POLL]: [1] });
  });

  it('waits in the waiting room and comes in when admitted', async () => {
    const socket = fakeSocket();
    socket.answers['classroom:join'] = () => ({ ok: true, data: { admitted: false, waiting: true } });
    const room = new ClassroomRoom({ classroomId: ROOM, me: LEARNER });
    room.attach(socket.socket);
    await settle();
    expect(room.phase).toBe('waiting');
    socket.answers['classroom:join'] = () => admitted(state(2));
    socket.push('classroom:admission', { classroomId: ROOM, admitted: true });
    await settle();
    expect(room.phase).toBe('in');
    expect(room.version).toBe(2);
  });

  it('stops at a denial or a removal and does not re-join on reconnect', async () => {
    const { socket, room } = setup();
    await settle();
    socket.push('classroom:removed', { classroomId: ROOM, reason: 'unregistered' });
    expect(room.phase).toBe('removed');
    expect(room.problem).toMatch(/registration was cancelled/);
    socket.reconnect();
    await settle();
    expect(socket.count('classroom:join')).toBe(1);
  });

  it('reports a refusal to join and retries when the server could not answer', async () => {
    const socket = fakeSocket();
    socket.answers['classroom:join'] = () => ({ ok: false, error: { code: 'forbidden', message: 'Register for this class to join it.' } });
    const room = new ClassroomRoom({ classroomId: ROOM, me: LEARNER, retryDelayMs: () => 10 });
    room.attach(socket.socket);
    await settle();
    expect(room.phase).toBe('error');
    expect(room.problem).toBe('Register for this class to join it.');

    const flaky = fakeSocket();
    let calls = 0;
    flaky.answers['classroom:join'] = () =>
      ++calls === 1 ? { ok: false, error: { code: 'unavailable', message: 'Try again.' } } : admitted(state(1));
    const second = new ClassroomRoom({ classroomId: ROOM, me: LEARNER, retryDelayMs: () => 10 });
    second.attach(flaky.socket);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(second.phase).toBe('in');
    expect(second.problem).toBeNull();
  });

  it('answers a poll once and changes the answer afterwards', async () => {
    const { socket, room } = setup();
    await settle();
    socket.answers['poll:answer'] = (p) => ({ ok: true, data: { pollId: p.pollId, options: p.options } });
    socket.answers['poll:change'] = (p) => ({ ok: true, data: { pollId: p.pollId, options: p.options } });
    expect(await room.answerPoll(POLL, [0])).toBeNull();
    expect(await room.answerPoll(POLL, [1])).toBeNull();
    expect(socket.emitted.filter((e) => e.event.startsWith('poll:')).map((e) => e.event)).toEqual(['poll:answer', 'poll:change']);
    expect(room.myAnswers[POLL]).toEqual([1]);
  });

  it('turns "already answered" (from another tab) into a change', async () => {
    const { socket, room } = setup();
    await settle();
    socket.answers['poll:answer'] = () => ({ ok: false, error: { code: 'conflict', message: 'You already answered.' } });
    socket.answers['poll:change'] = (p) => ({ ok: true, data: { pollId: p.pollId, options: p.options } });
    expect(await room.answerPoll(POLL, [1])).toBeNull();
    expect(room.myAnswers[POLL]).toEqual([1]);
  });

  it('keeps the newest live results for the host and passes stage tokens on', async () => {
    const { socket, room } = setup(HOST);
    await settle();
    expect(room.isStaff).toBe(true);
    socket.push('poll:results', { classroomId: ROOM, pollId: POLL, resultsVersion: 2, counts: [1, 1], answered: 2 });
    socket.push('poll:results', { classroomId: ROOM, pollId: POLL, resultsVersion: 1, counts: [1, 0], answered: 1 });
    expect(room.liveResults[POLL]?.answered).toBe(2);

    const tokens: string[] = [];
    room.onToken((t) => tokens.push(t.role));
    socket.push('classroom:token', { classroomId: ROOM, appId: 'a', channel: 'c', uid: 1, token: 't', role: 'publisher', expiresAt: '' });
    socket.push('classroom:token', { classroomId: 'other', appId: 'a', channel: 'c', uid: 1, token: 't', role: 'subscriber', expiresAt: '' });
    expect(tokens).toEqual(['publisher']);
  });

  it('asks publishers to mute only for a mute-all made while they are in the room, not by themselves', async () => {
    const earlier = { at: '2026-01-01T10:01:00.000Z', by: HOST.id };
    const { socket, room } = setup(LEARNER, state(3, { muteAll: earlier }));
    await settle();
    expect(room.muteRequest).toBeNull();
    const later = { at: '2026-01-01T10:05:00.000Z', by: HOST.id };
    socket.push('classroom:state', patch(4, { muteAll: later }));
    expect(room.muteRequest).toEqual(later);

    const host = setup(HOST);
    await settle();
    host.socket.push('classroom:state', patch(4, { muteAll: later }));
    expect(host.room.muteRequest).toBeNull();
  });

  it('leaves the room on the server and stops listening', async () => {
    const { socket, room } = setup();
    await settle();
    room.leave();
    expect(socket.emitted.at(-1)?.event).toBe('classroom:leave');
    expect(socket.listeners('classroom:state')).toBe(0);
  });
});
