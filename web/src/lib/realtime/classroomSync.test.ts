import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClassroomPatchDto, ClassroomStateDto, ParticipantDto, PollDto } from '$contracts/classrooms.ts';
import { applyPatch, handQueueOf, mergeLiveResults, resultsFor, RoomSync } from './classroomSync.ts';

const ROOM = '00000000-0000-4000-8000-000000000001';
const OTHER_ROOM = '00000000-0000-4000-8000-000000000002';
const id = (n: number) => `00000000-0000-4000-8000-1000000000${String(n).padStart(2, '0')}`;

function person(n: number, role: ParticipantDto['role'] = 'learner', extra: Partial<ParticipantDto> = {}): ParticipantDto {
  return { user: { id: id(n), displayName: `P${n}` }, rtcUid: n, role, present: true, stageInvited: false, handRaisedAt: null, ...extra };
}

function poll(n: number, extra: Partial<PollDto> = {}): PollDto {
  return {
    id: id(50 + n),
    question: `Q${n}`,
    options: ['a', 'b'],
    multiple: false,
    quiz: false,
    timeLimitSeconds: null,
    closesAt: null,
    status: 'open',
    revealed: false,
    createdAt: '2026-01-01T00:00:00.000Z',
    results: null,
    correctOptions: null,
    ...extra,
  };
}

function snapshot(version: number, extra: Partial<ClassroomStateDto> = {}): ClassroomStateDto {
  return {
    classroomId: ROOM,
    version,
    status: 'live',
    startedAt: '2026-01-01T00:00:00.000Z',
    endedAt: null,
    participants: [person(1, 'host'), person(2)],
    handQueue: [],
    waiting: [],
    muteAll: null,
    polls: [],
    ...extra,
  };
}

const patch = (version: number, fields: Partial<ClassroomPatchDto> = {}): ClassroomPatchDto => ({ classroomId: ROOM, version, ...fields });

function setup(gapGraceMs = 1_000) {
  const changes: ClassroomStateDto[] = [];
  const requestSnapshot = vi.fn();
  const sync = new RoomSync({ classroomId: ROOM, gapGraceMs, onChange: (s) => changes.push(s), requestSnapshot });
  return { sync, changes, requestSnapshot };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('applyPatch', () => {
  it('upserts participants and polls by id, drops removed people and replaces whole lists', () => {
    const before = snapshot(3, { polls: [poll(1)] });
    const after = applyPatch(
      before,
      patch(4, {
        participants: [person(2, 'speaker'), person(3)],
        removed: [id(1)],
        handQueue: [id(3)],
        waiting: [{ user: { id: id(9), displayName: 'P9' }, since: '2026-01-01T00:01:00.000Z' }],
        polls: [poll(1, { status: 'closed' }), poll(2)],
        muteAll: { at: '2026-01-01T00:02:00.000Z', by: id(1) },
        status: 'ended',
        endedAt: '2026-01-01T01:00:00.000Z',
      }),
    );
    expect(after.version).toBe(4);
    expect(after.participants.map((p) => [p.user.id, p.role])).toEqual([
      [id(2), 'speaker'],
      [id(3), 'learner'],
    ]);
    expect(after.handQueue).toEqual([id(3)]);
    expect(after.waiting).toHaveLength(1);
    expect(after.polls.map((p) => [p.id, p.status])).toEqual([
      [id(51), 'closed'],
      [id(52), 'open'],
    ]);
    expect(after.muteAll?.by).toBe(id(1));
    expect(after.status).toBe('ended');
    expect(after.endedAt).toBe('2026-01-01T01:00:00.000Z');
    // The snapshot it started from is untouched.
    expect(before.participants).toHaveLength(2);
    expect(before.polls[0]?.status).toBe('open');
  });

  it('leaves fields the patch does not mention alone (and null is a value, not an absence)', () => {
    const before = snapshot(1, { handQueue: [id(2)], muteAll: { at: '2026-01-01T00:02:00.000Z', by: id(1) } });
    const after = applyPatch(before, patch(2, { muteAll: null }));
    expect(after.handQueue).toEqual([id(2)]);
    expect(after.participants).toBe(before.participants);
    expect(after.muteAll).toBeNull();
  });
});

describe('RoomSync', () => {
  it('applies patches in version order', () => {
    const { sync, changes } = setup();
    sync.reset(snapshot(5));
    expect(sync.receive(patch(6, { handQueue: [id(2)] }))).toBe('applied');
    expect(sync.receive(patch(7, { handQueue: [] }))).toBe('applied');
    expect(sync.version).toBe(7);
    expect(changes.map((s) => s.version)).toEqual([5, 6, 7]);
  });

  it('holds a patch that arrives early and applies it once the missing one arrives', () => {
    const { sync, changes, requestSnapshot } = setup();
    sync.reset(snapshot(5));
    expect(sync.receive(patch(7, { handQueue: [id(1), id(2)] }))).toBe('held');
    expect(sync.version).toBe(5);
    expect(sync.heldVersions).toEqual([7]);
    expect(sync.receive(patch(6, { handQueue: [id(2)] }))).toBe('applied');
    expect(sync.version).toBe(7);
    expect(sync.state?.handQueue).toEqual([id(1), id(2)]);
    expect(sync.heldVersions).toEqual([]);
    expect(changes.at(-1)?.version).toBe(7);
    expect(requestSnapshot).not.toHaveBeenCalled();
  });

  it('ignores versions at or below the current one, and patches for other rooms', () => {
    const { sync, changes } = setup();
    sync.reset(snapshot(5, { handQueue: [id(2)] }));
    expect(sync.receive(patch(5, { handQueue: [] }))).toBe('stale');
    expect(sync.receive(patch(3, { handQueue: [] }))).toBe('stale');
    expect(sync.receive({ ...patch(6, { handQueue: [] }), classroomId: OTHER_ROOM })).toBe('ignored');
    expect(sync.state?.handQueue).toEqual([id(2)]);
    expect(changes).toHaveLength(1);
    expect(sync.receive(patch(6, { handQueue: [] }))).toBe('applied');
    expect(sync.receive(patch(6, { handQueue: [id(9)] }))).toBe('stale');
    expect(sync.state?.handQueue).toEqual([]);
  });

  it('asks for a fresh snapshot when a gap persists past the grace period, once', () => {
    vi.useFakeTimers();
    const { sync, requestSnapshot } = setup(1_000);
    sync.reset(snapshot(5));
    sync.receive(patch(7));
    sync.receive(patch(8));
    vi.advanceTimersByTime(999);
    expect(requestSnapshot).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(requestSnapshot).toHaveBeenCalledTimes(1);
    // More early patches while the snapshot is on its way do not ask again.
    sync.receive(patch(9));
    vi.advanceTimersByTime(5_000);
    expect(requestSnapshot).toHaveBeenCalledTimes(1);

    // The snapshot covers up to 7; the held 8 and 9 apply on top of it.
    sync.reset(snapshot(7, { handQueue: [id(2)] }));
    expect(sync.version).toBe(9);
    expect(sync.state?.handQueue).toEqual([id(2)]);
    expect(sync.heldVersions).toEqual([]);
  });

  it('does not ask for a snapshot when the gap closes within the grace period', () => {
    vi.useFakeTimers();
    const { sync, requestSnapshot } = setup(1_000);
    sync.reset(snapshot(5));
    sync.receive(patch(7));
    vi.advanceTimersByTime(500);
    sync.receive(patch(6));
    vi.advanceTimersByTime(5_000);
    expect(requestSnapshot).not.toHaveBeenCalled();
    expect(sync.version).toBe(7);
  });

  it('asks again after a failed snapshot when the gap is still there', () => {
    vi.useFakeTimers();
    const { sync, requestSnapshot } = setup(1_000);
    sync.reset(snapshot(5));
    sync.receive(patch(7));
    vi.advanceTimersByTime(1_000);
    sync.snapshotFailed();
    vi.advanceTimersByTime(1_000);
    expect(requestSnapshot).toHaveBeenCalledTimes(2);
  });

  it('holds patches that arrive before the first snapshot and keeps only the ones newer than it', () => {
    const { sync, requestSnapshot } = setup();
    expect(sync.receive(patch(4, { handQueue: [id(9)] }))).toBe('held');
    expect(sync.receive(patch(6, { handQueue: [id(2)] }))).toBe('held');
    sync.reset(snapshot(5));
    expect(sync.version).toBe(6);
    expect(sync.state?.handQueue).toEqual([id(2)]);
    expect(requestSnapshot).not.toHaveBeenCalled();
  });

  it('keeps the newer state when an older snapshot arrives late', () => {
    const { sync } = setup();
    sync.reset(snapshot(5));
    sync.receive(patch(6, { handQueue: [id(2)] }));
    sync.reset(snapshot(4));
    expect(sync.version).toBe(6);
    expect(sync.state?.handQueue).toEqual([id(2)]);
  });
});

describe('poll results and the hand queue', () => {
  it('keeps the newest live results per poll whatever order they arrive in', () => {
    let live = mergeLiveResults({}, { pollId: 'p', resultsVersion: 2, counts: [1, 1], answered: 2 });
    live = mergeLiveResults(live, { pollId: 'p', resultsVersion: 1, counts: [1, 0], answered: 1 });
    expect(live.p).toEqual({ counts: [1, 1], answered: 2, resultsVersion: 2 });
    live = mergeLiveResults(live, { pollId: 'p', resultsVersion: 3, counts: [2, 1], answered: 3 });
    expect(live.p?.answered).toBe(3);
  });

  it('shows revealed results to everyone and live ones to the host', () => {
    const open = poll(1);
    expect(resultsFor(open, {})).toBeNull();
    expect(resultsFor(open, { [open.id]: { counts: [1, 0], answered: 1, resultsVersion: 1 } })).toEqual({
      counts: [1, 0],
      answered: 1,
      resultsVersion: 1,
    });
    const revealed = poll(1, { revealed: true, results: { counts: [2, 0], answered: 2 } });
    expect(resultsFor(revealed, {})).toEqual({ counts: [2, 0], answered: 2 });
  });

  it('lists raised hands in queue order', () => {
    const state = snapshot(1, { participants: [person(1, 'host'), person(2), person(3)], handQueue: [id(3), id(2), id(8)] });
    expect(handQueueOf(state).map((p) => p.user.id)).toEqual([id(3), id(2)]);
  });
});
