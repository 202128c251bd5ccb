import { sql } from 'kysely';
import type { ClassroomPatchDto, ClassroomStateDto, JoinClassroomResult, ParticipantDto, PollDto } from '../contracts/classrooms.ts';
import { seedCommunity } from './communities.ts';
import { emitOk, registerUsers, type ClientSocket, type TestUser } from './factories.ts';
import { dbOf, type RunningNode } from './nodes.ts';

export interface SeededClassroom {
  classroomId: string;
  communityId: string;
  channelId: string;
  host: TestUser;
  cohost: TestUser;
  /** Registered learners. */
  learners: TestUser[];
  /** A community member on the waitlist (the class is full). */
  waitlisted: TestUser;
  /** A community member who never registered. */
  unregistered: TestUser;
  /** Not even in the community. */
  outsider: TestUser;
}

/**
 * A classroom straight in the database, live unless told otherwise, so room tests do not depend on the scheduling API:
 * a host (community owner) with a co-host, registered learners, one waitlisted and one unregistered member.
 */
export async function seedClassroom(
  node: RunningNode,
  options: { learners?: number; waitingRoom?: boolean; status?: 'scheduled' | 'live'; startedAt?: Date; durationMinutes?: number } = {},
): Promise<SeededClassroom> {
  const count = options.learners ?? 2;
  const users = (await registerUsers(node.url, count + 5)) as TestUser[];
  const [host, cohost, waitlisted, unregistered, outsider, ...learners] = users as [TestUser, TestUser, TestUser, TestUser, TestUser, ...TestUser[]];
  const { communityId } = await seedCommunity(node, {
    members: [
      { userId: host.user.id, role: 'owner' },
      ...[cohost, waitlisted, unregistered, ...learners].map((u) => ({ userId: u.user.id })),
    ],
    channels: [],
  });
  const q = dbOf(node);
  const classroomId = crypto.randomUUID();
  const channelId = crypto.randomUUID();
  const status = options.status ?? 'live';
  const startedAt = status === 'live' ? (options.startedAt ?? new Date()) : null;
  await q.insertInto('channels').values({ id: channelId, community_id: communityId, kind: 'classroom', visibility: 'private' }).execute();
  await q
    .insertInto('classrooms')
    .values({
      id: classroomId,
      community_id: communityId,
      host_id: host.user.id,
      channel_id: channelId,
      title: 'Live algebra',
      starts_at: startedAt ?? new Date(Date.now() + 3_600_000),
      duration_minutes: options.durationMinutes ?? 60,
      capacity: Math.max(1, count),
      waiting_room: options.waitingRoom ?? false,
      status,
      started_at: startedAt,
    })
    .execute();
  await q.insertInto('classroom_cohosts').values({ classroom_id: classroomId, user_id: cohost.user.id }).execute();
  await q
    .insertInto('classroom_registrations')
    .values([
      ...learners.map((learner) => ({ classroom_id: classroomId, user_id: learner.user.id, status: 'registered' as const })),
      { classroom_id: classroomId, user_id: waitlisted.user.id, status: 'waitlisted' },
    ])
    .execute();
  await q
    .insertInto('channel_members')
    .values([host, cohost].map((staff) => ({ channel_id: channelId, user_id: staff.user.id })))
    .execute();
  return { classroomId, communityId, channelId, host, cohost, learners, waitlisted, unregistered, outsider };
}

/**
 * What a client holds for one room, built as the web client does: a snapshot from `classroom:join`, then patches
 * strictly in version order — one at or below the applied version is ignored, one that arrives early waits in
 * `pending` (also those that arrive before the first snapshot) until the gap fills.
 */
export class ClassroomReplica {
  state: ClassroomStateDto | null = null;
  readonly pending = new Map<number, ClassroomPatchDto>();
  readonly applied: number[] = [];

  reset(snapshot: ClassroomStateDto): void {
    this.state = structuredClone(snapshot);
    for (const version of this.pending.keys()) if (version <= snapshot.version) this.pending.delete(version);
    this.drain();
  }

  apply(patch: ClassroomPatchDto): void {
    if (this.state && patch.version <= this.state.version) return;
    this.pending.set(patch.version, patch);
    this.drain();
  }

  get version(): number {
    return this.state?.version ?? -1;
  }

  private drain(): void {
    const state = this.state;
    if (!state) return;
    for (let next = this.pending.get(state.version + 1); next; next = this.pending.get(state.version + 1)) {
      this.pending.delete(next.version);
      applyPatch(state, next);
      this.applied.push(next.version);
    }
  }
}

function upsert<T>(list: T[], items: T[], key: (item: T) => string): T[] {
  const byKey = new Map(list.map((item) => [key(item), item]));
  for (const item of items) byKey.set(key(item), item);
  return [...byKey.values()];
}

function applyPatch(state: ClassroomStateDto, patch: ClassroomPatchDto): void {
  state.version = patch.version;
  if (patch.status !== undefined) state.status = patch.status;
  if (patch.startedAt !== undefined) state.startedAt = patch.startedAt;
  if (patch.endedAt !== undefined) state.endedAt = patch.endedAt;
  if (patch.participants) state.participants = upsert(state.participants, patch.participants, (p) => p.user.id);
  if (patch.removed) state.participants = state.participants.filter((p) => !patch.removed!.includes(p.user.id));
  if (patch.handQueue) state.handQueue = patch.handQueue;
  if (patch.waiting) state.waiting = patch.waiting;
  if (patch.muteAll !== undefined) state.muteAll = patch.muteAll;
  if (patch.polls) state.polls = upsert(state.polls, patch.polls, (p) => p.id);
}

/** A state in a form two replicas can be compared by: lists that are sets (roster, polls) sorted by id. */
export function comparable(state: ClassroomStateDto) {
  return {
    ...state,
    participants: [...state.participants].sort((a: ParticipantDto, b: ParticipantDto) => a.user.id.localeCompare(b.user.id)),
    polls: [...state.polls].sort((a: PollDto, b: PollDto) => a.id.localeCompare(b.id)),
  };
}

/** A socket in a room with its replica: patches are followed from before the join, as a client does. */
export interface RoomClient {
  socket: ClientSocket;
  replica: ClassroomReplica;
  join(): Promise<JoinClassroomResult>;
}

export function roomClient(socket: ClientSocket, classroomId: string): RoomClient {
  const replica = new ClassroomReplica();
  socket.on('classroom:state', (patch) => {
    if (patch.classroomId === classroomId) replica.apply(patch);
  });
  return {
    socket,
    replica,
    async join() {
      const result = await emitOk(socket, 'classroom:join', { classroomId });
      if (result.admitted) replica.reset(result.state);
      return result;
    },
  };
}

/** Someone's entry on a replica's roster. */
export function participantIn(state: ClassroomStateDto | null, userId: string): ParticipantDto | undefined {
  return state?.participants.find((p) => p.user.id === userId);
}

/** The attendance intervals of one user in one class, oldest first. */
export async function attendanceOf(node: RunningNode, classroomId: string, userId: string): Promise<{ joinedAt: string; leftAt: string | null }[]> {
  const rows = await dbOf(node)
    .selectFrom('classroom_attendance')
    .select(['joined_at', 'left_at'])
    .where('classroom_id', '=', classroomId)
    .where('user_id', '=', userId)
    .orderBy('joined_at')
    .execute();
  return rows.map((r) => ({ joinedAt: r.joined_at.toISOString(), leftAt: r.left_at?.toISOString() ?? null }));
}

/** How many sockets the room's connection table holds for a user. */
export async function connectionCount(node: RunningNode, classroomId: string, userId: string): Promise<number> {
  const { n } = await dbOf(node)
    .selectFrom('classroom_connections')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('classroom_id', '=', classroomId)
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return n;
}
