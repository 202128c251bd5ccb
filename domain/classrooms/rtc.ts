import agora from 'agora-token';
import { EARLY_START_MINUTES, RTC_TOKEN_MAX_TTL_SECONDS, type RtcTokenDto } from '../../contracts/classrooms.ts';
import type { Actor, ClassroomSettings } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import type { Db } from '../../orm/db.ts';
import { ClassroomPolicy, checkClassroomAccess, type ClassroomAccess } from '../access/classroom.ts';

const { RtcTokenBuilder, RtcRole } = agora;

/** The Agora channel of a classroom: derived on the server, never taken from a client. */
export function rtcChannelOf(classroomId: string): string {
  return `edulure-${classroomId}`;
}

/** The Agora project, or `unavailable` with a clear message when the server has none. */
export function videoConfigured(settings: ClassroomSettings): { appId: string; appCertificate: string } {
  if (settings.agora) return settings.agora;
  throw new AppError(
    'unavailable',
    'Video is not configured on this server (AGORA_APP_ID and AGORA_APP_CERTIFICATE are unset). Chat, hands, stage and polls still work.',
  );
}

/**
 * Builds a video token for one user in one classroom. `uid` is the user's stable `users.rtc_uid` (unique, non-zero).
 * PUBLISHER may send audio/video; SUBSCRIBER only receives — which Agora enforces only when co-host authentication is
 * enabled for the project, so who gets a token at all is decided before this is called.
 */
export function buildRtcToken(
  settings: ClassroomSettings,
  input: { classroomId: string; uid: number; publisher: boolean },
): RtcTokenDto {
  const agoraProject = videoConfigured(settings);
  if (!Number.isInteger(input.uid) || input.uid <= 0 || input.uid > 0xffffffff) throw new Error(`invalid rtc uid ${input.uid}`);
  const ttl = Math.min(settings.rtcTokenTtlSeconds, RTC_TOKEN_MAX_TTL_SECONDS);
  const channel = rtcChannelOf(input.classroomId);
  const token = RtcTokenBuilder.buildTokenWithUid(
    agoraProject.appId,
    agoraProject.appCertificate,
    channel,
    input.uid,
    input.publisher ? RtcRole.PUBLISHER : RtcRole.SUBSCRIBER,
    ttl,
    ttl,
  );
  return {
    appId: agoraProject.appId,
    channel,
    uid: input.uid,
    token,
    role: input.publisher ? 'publisher' : 'subscriber',
    // The token counts its lifetime from its own issue time (the real clock), so that is what expiry reports.
    expiresAt: new Date(Math.floor(Date.now() / 1000) * 1000 + ttl * 1000).toISOString(),
  };
}

/**
 * A token for `userId` as the rules stand in `access` (loaded in the caller's transaction): refuses anyone
 * ClassroomPolicy.rtcToken excludes; PUBLISHER for those who may publish, else SUBSCRIBER.
 */
export async function rtcTokenFor(
  settings: ClassroomSettings,
  q: Db,
  actor: Actor,
  access: ClassroomAccess,
  now: Date,
): Promise<RtcTokenDto> {
  if (!ClassroomPolicy.rtcToken(actor, access, now)) {
    const c = access.classroom;
    if (!ClassroomPolicy.participate(actor, access)) {
      // `enter` first: someone with no place in the class is told to register, not to wait for admission.
      checkClassroomAccess(actor, access, 'enter');
      checkClassroomAccess(actor, access, 'participate');
    }
    if (c.status === 'ended' || c.status === 'cancelled') throw new AppError('conflict', `This class has ${c.status === 'ended' ? 'ended' : 'been cancelled'}: no more video tokens.`);
    throw new AppError('conflict', ClassroomPolicy.staff(actor, access) ? `Video opens ${EARLY_START_MINUTES} minutes before the start.` : 'Video opens when the host starts the class.');
  }
  videoConfigured(settings);
  const user = await q.selectFrom('users').select('rtc_uid').where('id', '=', actor.userId).executeTakeFirstOrThrow();
  return buildRtcToken(settings, {
    classroomId: access.classroom.id,
    uid: user.rtc_uid,
    publisher: ClassroomPolicy.publish(actor, access),
  });
}
