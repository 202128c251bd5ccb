import type { CaseDto } from '../../contracts/moderation.ts';
import type { OrderDto } from '../../contracts/commerce.ts';
import { db, type Db } from '../../orm/db.ts';
import '../classrooms/events.ts';
import '../commerce/events.ts';
import '../courses/learningEvents.ts';
import '../feed/events.ts';
import '../moderation/events.ts';
import type { Deps } from '../shared/deps.ts';
import type { EventBus } from '../shared/events.ts';
import './events.ts';
import { notify, type NewNotification } from './notify.ts';

/*
 * Notifications from learning, commerce, social and moderation events. Each listener turns one domain event into
 * notifications whose source key names the fact itself (this grading, this payment, this follow), so an event heard
 * twice — a retried durable job, a repeated emit — stores one. Listeners run after the operation committed; a missing
 * row (deleted in between) simply notifies nobody.
 */

const q = (deps: Deps): Db => db(deps.orm.em.fork());

/** A graded (or re-graded) submission: each grading is news to the learner, the same grading heard twice is not. */
export async function notifySubmissionGraded(
  deps: Deps,
  event: { submissionId: string; courseId: string; lessonId: string; learnerId: string; scorePercent: number; passed: boolean; feedback: string; gradedAt: string },
): Promise<number> {
  const lesson = await q(deps)
    .selectFrom('course_lessons as l')
    .innerJoin('courses as c', 'c.id', 'l.course_id')
    .select(['l.title', 'c.community_id'])
    .where('l.id', '=', event.lessonId)
    .executeTakeFirst();
  if (!lesson) return 0;
  return notify(deps, [
    {
      userId: event.learnerId,
      kind: 'assignment_graded',
      sourceKey: `submission:${event.submissionId}:graded:${event.gradedAt}`,
      communityId: lesson.community_id,
      subjectType: 'lesson',
      subjectId: event.lessonId,
      title: `Your assignment “${lesson.title}” was graded: ${event.scorePercent}% (${event.passed ? 'passed' : 'not passed yet'})`,
      body: event.feedback,
      url: `/app/courses/${event.courseId}/lessons/${event.lessonId}`,
    },
  ]);
}

export function notifyCertificateIssued(deps: Deps, event: { certificateId: string; courseId: string; userId: string; courseTitle: string }) {
  return notify(deps, [
    {
      userId: event.userId,
      kind: 'certificate_issued',
      sourceKey: `certificate:${event.certificateId}`,
      subjectType: 'certificate',
      subjectId: event.certificateId,
      title: `You earned a certificate for “${event.courseTitle}”`,
      url: `/certificates/${event.certificateId}`,
    },
  ]);
}

/** Paid and refunded orders tell the buyer; each further partial refund (a new refunded amount) is news again. */
export function notifyOrderUpdated(deps: Deps, event: { order: OrderDto; buyerId: string }) {
  const { order } = event;
  const base = { userId: event.buyerId, subjectType: 'order', subjectId: order.id, url: `/app/orders/${order.id}` };
  const items: NewNotification[] = [];
  if (order.status === 'paid') {
    items.push({ ...base, kind: 'order_paid', sourceKey: `order:${order.id}:paid`, title: `Your order “${order.title}” is paid` });
  } else if (order.status === 'refunded' || order.status === 'partially_refunded') {
    const partly = order.status === 'partially_refunded';
    items.push({
      ...base,
      kind: 'order_refunded',
      sourceKey: `order:${order.id}:refunded:${order.refundedMinor}`,
      title: partly ? `Your order “${order.title}” was partly refunded` : `Your order “${order.title}” was refunded`,
      body: `${(order.refundedMinor / 100).toFixed(2)} ${order.currency} refunded`,
    });
  }
  return notify(deps, items);
}

export async function notifyWaitlistPromoted(deps: Deps, event: { classroomId: string; title: string; userIds: string[] }) {
  const classroom = await q(deps).selectFrom('classrooms').select(['id', 'community_id']).where('id', '=', event.classroomId).executeTakeFirst();
  if (!classroom) return 0;
  return notify(
    deps,
    event.userIds.map((userId) => ({
      userId,
      kind: 'waitlist_promoted' as const,
      sourceKey: `classroom:${classroom.id}:promoted`,
      communityId: classroom.community_id,
      subjectType: 'classroom',
      subjectId: classroom.id,
      title: `A seat opened up: you are registered for “${event.title}”`,
      url: `/app/c/${classroom.community_id}/classes/${classroom.id}`,
    })),
  );
}

async function communityName(deps: Deps, communityId: string): Promise<string | null> {
  const row = await q(deps).selectFrom('communities').select('name').where('id', '=', communityId).executeTakeFirst();
  return row?.name ?? null;
}

/**
 * A warning names the audit entry that recorded it (the same moderator action heard twice is one warning; a second
 * warning is another); without one (an event from elsewhere) the warning's words identify it.
 */
export async function notifyMemberWarned(deps: Deps, event: { communityId: string; userId: string; reason: string }) {
  const name = await communityName(deps, event.communityId);
  if (name === null) return 0;
  const audit = await q(deps)
    .selectFrom('moderation_audit')
    .select('id')
    .where('community_id', '=', event.communityId)
    .where('target_user_id', '=', event.userId)
    .where('action', '=', 'warn')
    .orderBy('id', 'desc')
    .executeTakeFirst();
  return notify(deps, [
    {
      userId: event.userId,
      kind: 'moderation_warned',
      sourceKey: audit ? `audit:${audit.id}` : `warn:${event.communityId}:${event.reason}`,
      communityId: event.communityId,
      subjectType: 'community',
      subjectId: event.communityId,
      title: `A moderator of ${name} warned you`,
      body: event.reason,
      url: `/app/c/${event.communityId}`,
    },
  ]);
}

export async function notifyMemberTimedOut(deps: Deps, event: { communityId: string; userId: string; until: string; reason: string }) {
  const name = await communityName(deps, event.communityId);
  if (name === null) return 0;
  return notify(deps, [
    {
      userId: event.userId,
      kind: 'moderation_timed_out',
      sourceKey: `timeout:${event.communityId}:${event.until}`,
      communityId: event.communityId,
      subjectType: 'community',
      subjectId: event.communityId,
      title: `A moderator of ${name} timed you out until ${event.until.slice(0, 16).replace('T', ' ')} UTC`,
      body: event.reason,
      url: `/app/c/${event.communityId}`,
    },
  ]);
}

export async function notifyFollowed(deps: Deps, event: { followerId: string; followeeId: string }) {
  const follower = await q(deps).selectFrom('users').select('display_name').where('id', '=', event.followerId).executeTakeFirst();
  if (!follower) return 0;
  return notify(deps, [
    {
      userId: event.followeeId,
      kind: 'new_follower',
      sourceKey: `follow:${event.followerId}`,
      actorId: event.followerId,
      subjectType: 'user',
      subjectId: event.followerId,
      title: `${follower.display_name} followed you`,
      // No profile page yet: their posts reach the follower's home feed, so that is where it leads.
      url: '/app/feed',
    },
  ]);
}

/**
 * A closed case tells the people who reported it that it was looked at — never what was done to whom beyond
 * "action taken" or "no action", and never who else reported.
 */
export async function notifyReportResolved(deps: Deps, kase: CaseDto) {
  if (kase.status !== 'resolved' && kase.status !== 'dismissed') return 0;
  const reporters = await q(deps).selectFrom('reports').select('reporter_id').where('case_id', '=', kase.id).execute();
  const acted = kase.status === 'resolved';
  return notify(
    deps,
    reporters.map(({ reporter_id }) => ({
      userId: reporter_id,
      kind: 'report_resolved' as const,
      sourceKey: `case:${kase.id}`,
      communityId: kase.communityId,
      subjectType: 'community',
      subjectId: kase.communityId,
      title: acted ? 'Moderators reviewed your report and took action' : 'Moderators reviewed your report',
      url: `/app/c/${kase.communityId}`,
    })),
  );
}

/** Notifications from learning, commerce, social and moderation events (graded, certificate, order, follower, …). */
export function registerActivityNotifications(bus: EventBus, deps: Deps): void {
  bus.on('submission.graded', async (event) => {
    await notifySubmissionGraded(deps, event);
  });
  // Recorded durably with the certificate: its own job, so it is notified even if the node died after the commit.
  bus.onDurable('certificate.issued', 'notifyCertificateIssued', async (event) => {
    await notifyCertificateIssued(deps, event);
  });
  bus.on('order.updated', async (event) => {
    await notifyOrderUpdated(deps, event);
  });
  bus.on('classroom.registrations_promoted', async (event) => {
    await notifyWaitlistPromoted(deps, event);
  });
  bus.on('member.warned', async (event) => {
    await notifyMemberWarned(deps, event);
  });
  bus.on('member.timed_out', async (event) => {
    await notifyMemberTimedOut(deps, event);
  });
  bus.on('user.followed', async (event) => {
    await notifyFollowed(deps, event);
  });
  bus.on('moderation_case.updated', async ({ case: kase }) => {
    await notifyReportResolved(deps, kase);
  });
}
