import agoraAccessToken from 'agora-token/src/AccessToken2.js';
import type { ClassroomDto } from '../contracts/classrooms.ts';
import type { CommunityRole } from '../contracts/communities.ts';
import { sqlOf } from '../domain/shared/sql.ts';
import { seedCommunity } from './communities.ts';
import { registerUsers, type TestUser } from './communityFactories.ts';
import { api } from './factories.ts';
import type { RunningNode } from './nodes.ts';

/** An Agora project for tests: App ID and certificate are 32 hex characters each. */
export const TEST_AGORA = { AGORA_APP_ID: '0123456789abcdef0123456789abcdef', AGORA_APP_CERTIFICATE: 'fedcba9876543210fedcba9876543210' };

export const call = <T = any>(node: RunningNode, method: string, path: string, user?: TestUser, body?: unknown) =>
  api<T>(node.url, method, `/api/v1${path}`, { token: user?.accessToken, body });

/** ISO time `minutes` from `from` (default: now). */
export const minutesFrom = (minutes: number, from: Date = new Date()) => new Date(from.getTime() + minutes * 60_000).toISOString();

/** A community seeded straight in the database: a host (its owner) and `learners` plain members, all real accounts. */
export async function classroomCommunity(
  node: RunningNode,
  learners: number,
  options: { visibility?: 'public' | 'private' } = {},
): Promise<{ communityId: string; host: TestUser; learners: TestUser[] }> {
  const [host, ...rest] = (await registerUsers(node.url, learners + 1)) as TestUser[];
  const { communityId } = await seedCommunity(node, {
    members: [{ userId: host!.user.id, role: 'owner' }, ...rest.map((u) => ({ userId: u.user.id, role: 'member' as CommunityRole }))],
    channels: [],
    visibility: options.visibility ?? 'public',
  });
  return { communityId, host: host!, learners: rest };
}

export async function addToCommunity(node: RunningNode, communityId: string, user: TestUser, role: CommunityRole = 'member') {
  await sqlOf(node.node.orm.em.fork())(
    `insert into community_members (community_id, user_id, role) values (?, ?, ?)
     on conflict (community_id, user_id) do update set role = excluded.role`,
    [communityId, user.user.id, role],
  );
}

/** Schedules through the API as `host`; fails the test unless it is created. */
export async function scheduleClassroom(
  node: RunningNode,
  host: TestUser,
  communityId: string,
  overrides: Partial<{ title: string; startsAt: string; durationMinutes: number; capacity: number; waitingRoom: boolean; priceMinor: number }> = {},
): Promise<ClassroomDto> {
  const body = { communityId, title: 'Intro to algebra', startsAt: minutesFrom(5), durationMinutes: 60, capacity: 30, ...overrides };
  const res = await call<{ classroom: ClassroomDto }>(node, 'POST', '/classrooms', host, body);
  if (res.status !== 201) throw new Error(`schedule failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.classroom;
}

/** Runs an action that must succeed, returning its body. */
export async function ok<T = any>(response: Promise<{ status: number; body: T }>, status = 200): Promise<T> {
  const res = await response;
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Gives a user a platform role and signs them in again, so their access token carries it. */
export async function withPlatformRole(node: RunningNode, user: TestUser, role: 'user' | 'instructor' | 'moderator' | 'admin'): Promise<TestUser> {
  await sqlOf(node.node.orm.em.fork())('update users set role = ? where id = ?', [role, user.user.id]);
  const res = await api(node.url, 'POST', '/api/v1/auth/login', { body: { email: user.user.email, password: user.password } });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...res.body, password: user.password };
}

/** A stretch of presence in the room, as the room code records it. */
export async function insertAttendance(node: RunningNode, classroomId: string, userId: string, joinedAt: Date | string, leftAt: Date | string | null) {
  await sqlOf(node.node.orm.em.fork())('insert into classroom_attendance (classroom_id, user_id, joined_at, left_at) values (?, ?, ?, ?)', [
    classroomId,
    userId,
    new Date(joinedAt),
    leftAt === null ? null : new Date(leftAt),
  ]);
}

/** A learner's standing in the room (waiting room admission, stage), as the room code records it. */
export async function setParticipant(
  node: RunningNode,
  classroomId: string,
  userId: string,
  state: { admission?: 'waiting' | 'admitted' | 'denied'; stage?: 'none' | 'invited' | 'speaker' },
) {
  await sqlOf(node.node.orm.em.fork())(
    `insert into classroom_participants (classroom_id, user_id, admission, stage, waiting_since) values (?, ?, ?, ?, now())
     on conflict (classroom_id, user_id) do update set admission = excluded.admission, stage = excluded.stage`,
    [classroomId, userId, state.admission ?? 'admitted', state.stage ?? 'none'],
  );
}

export interface DecodedRtcToken {
  appId: string;
  issueTs: number;
  expire: number;
  channel: string;
  uid: string;
  /** Agora privilege number → expiry (seconds after issue). */
  privileges: Record<number, number>;
}

/** Reads a token with agora-token's own parser (Token007 with one RTC service). */
export function decodeRtcToken(token: string): DecodedRtcToken {
  const parsed = new agoraAccessToken.AccessToken2();
  if (!parsed.from_string(token)) throw new Error('not an Agora AccessToken2');
  const [rtc] = parsed.getServices(agoraAccessToken.kRtcServiceType);
  if (!rtc) throw new Error('no RTC service in the token');
  const service = rtc as unknown as { __channel_name: unknown; __uid: unknown; __privileges: Record<number, number> };
  // The parser hands strings back as bytes.
  const text = (value: unknown) => (Buffer.isBuffer(value) ? value.toString('utf8') : String(value));
  return {
    appId: text(parsed.appId),
    issueTs: parsed.issueTs,
    expire: parsed.expire,
    channel: text(service.__channel_name),
    uid: text(service.__uid),
    privileges: { ...service.__privileges },
  };
}

export const RTC_PRIVILEGES = {
  join: agoraAccessToken.ServiceRtc.kPrivilegeJoinChannel as number,
  audio: agoraAccessToken.ServiceRtc.kPrivilegePublishAudioStream as number,
  video: agoraAccessToken.ServiceRtc.kPrivilegePublishVideoStream as number,
  data: agoraAccessToken.ServiceRtc.kPrivilegePublishDataStream as number,
};
