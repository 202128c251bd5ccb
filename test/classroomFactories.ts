import agoraAccessToken from 'agora-token/src/AccessToken2.js';
import type { AuthResult, PlatformRole } from '../contracts/auth.ts';
import type { ClassroomDto, ClassroomEnvelope } from '../contracts/classrooms.ts';
import { seedCommunity } from './communities.ts';
import { call, ok, registerUsers, type TestUser } from './factories.ts';
import { dbOf, type RunningNode } from './nodes.ts';

/** An Agora project for tests: App ID and certificate are 32 hex characters each. */
export const TEST_AGORA = { AGORA_APP_ID: '0123456789abcdef0123456789abcdef', AGORA_APP_CERTIFICATE: 'fedcba9876543210fedcba9876543210' };

/** ISO time `minutes` from `from` (default: now). */
export const minutesFrom = (minutes: number, from: Date = new Date()) => new Date(from.getTime() + minutes * 60_000).toISOString();

/** A community seeded straight in the database: a host (its owner) and `learners` plain members, all real accounts. */
export async function classroomCommunity(
  node: RunningNode,
  learners: number,
  options: { visibility?: 'public' | 'private' } = {},
): Promise<{ communityId: string; host: TestUser; learners: TestUser[] }> {
  const [host, ...rest] = (await registerUsers(node.url, learners + 1)) as [TestUser, ...TestUser[]];
  const { communityId } = await seedCommunity(node, {
    members: [{ userId: host.user.id, role: 'owner' }, ...rest.map((u) => ({ userId: u.user.id }))],
    channels: [],
    visibility: options.visibility ?? 'public',
  });
  return { communityId, host, learners: rest };
}

/** Schedules through the API as `host`; fails the test unless it is created. */
export async function scheduleClassroom(
  node: RunningNode,
  host: TestUser,
  communityId: string,
  overrides: Partial<{ title: string; startsAt: string; durationMinutes: number; capacity: number; waitingRoom: boolean; priceMinor: number; currency: string }> = {},
): Promise<ClassroomDto> {
  // A ticketed class needs a currency: euros unless the test says otherwise.
  const currency = overrides.priceMinor ? { currency: 'EUR' } : {};
  const body = { communityId, title: 'Intro to algebra', startsAt: minutesFrom(5), durationMinutes: 60, capacity: 30, ...currency, ...overrides };
  return (await ok(call<ClassroomEnvelope>(node, 'POST', '/classrooms', host, body), 201)).classroom;
}

/** Gives a user a platform role and signs them in again, so their access token carries it. */
export async function withPlatformRole(node: RunningNode, user: TestUser, role: PlatformRole): Promise<TestUser> {
  await dbOf(node).updateTable('users').set({ role }).where('id', '=', user.user.id).execute();
  const signedIn = await ok(call<AuthResult>(node, 'POST', '/auth/login', null, { email: user.user.email, password: user.password }));
  return { ...signedIn, password: user.password };
}

/** A stretch of presence in the room, as the room code records it. */
export async function insertAttendance(node: RunningNode, classroomId: string, userId: string, joinedAt: Date | string, leftAt: Date | string | null) {
  await dbOf(node)
    .insertInto('classroom_attendance')
    .values({ classroom_id: classroomId, user_id: userId, joined_at: new Date(joinedAt), left_at: leftAt === null ? null : new Date(leftAt) })
    .execute();
}

/** A learner's standing in the room (waiting room admission, stage), as the room code records it. */
export async function setParticipant(
  node: RunningNode,
  classroomId: string,
  userId: string,
  state: { admission?: 'waiting' | 'admitted' | 'denied'; stage?: 'none' | 'invited' | 'speaker' },
) {
  const standing = { admission: state.admission ?? 'admitted', stage: state.stage ?? 'none' } as const;
  await dbOf(node)
    .insertInto('classroom_participants')
    .values({ classroom_id: classroomId, user_id: userId, ...standing, waiting_since: new Date() })
    .onConflict((oc) => oc.columns(['classroom_id', 'user_id']).doUpdateSet(standing))
    .execute();
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
