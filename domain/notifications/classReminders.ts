import { sql } from 'kysely';
import { db, type Db } from '../../orm/db.ts';
import '../classrooms/events.ts';
import type { Deps } from '../shared/deps.ts';
import type { EventBus } from '../shared/events.ts';
import { enqueueJob, type JobHandler } from '../shared/jobs.ts';
import './events.ts';
import { notify, type NewNotification } from './notify.ts';

/*
 * Class reminders and "class is live". Each scheduled class has at most one pending reminder job, keyed by the class
 * (`class-reminder:<id>`), due CLASS_REMINDER_MINUTES before its start: scheduling queues it, a new start time moves it
 * (graphile's job_key replaces the pending job), cancelling or starting the class drops it. The classrooms code records
 * `classroom.scheduled`, `classroom.cancelled` and `classroom.started` in the change's transaction, so these durable
 * listeners run even if the node dies right after the commit.
 *
 * The listeners do not trust the order they run in (two quick moves are two jobs, possibly on two nodes): each one
 * re-reads the class under its row lock and makes the reminder match what it finds. The reminder job re-reads the class
 * too and does nothing unless it is still scheduled at the start time it was queued for, so a stale job is harmless.
 * Notifications are keyed by class and start time, so a job that runs twice (a retry, two nodes) notifies once.
 */

declare module '../shared/jobs.ts' {
  interface JobPayloads {
    /** A class's reminder falls due (keyed per class, so rescheduling moves it and cancelling drops it). */
    'notifications.class_reminder': { classroomId: string; startsAt: string };
  }
}

export const classReminderKey = (classroomId: string) => `class-reminder:${classroomId}`;
const classUrl = (communityId: string, classroomId: string) => `/app/c/${communityId}/classes/${classroomId}`;

/**
 * Makes the class's reminder job match the class as it is now: queued (or moved) for `startsAt − classReminderMinutes`
 * while it is scheduled and that time is still ahead, dropped otherwise. Safe to run any number of times, in any order.
 */
export async function syncClassReminder(deps: Deps, classroomId: string): Promise<void> {
  await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    // The row lock orders this against a concurrent move and another node's sync of the same class.
    const classroom = await q.selectFrom('classrooms').select(['status', 'starts_at']).where('id', '=', classroomId).forUpdate().executeTakeFirst();
    const runAt = classroom && new Date(classroom.starts_at.getTime() - deps.notifications.classReminderMinutes * 60_000);
    if (classroom?.status === 'scheduled' && runAt && runAt > deps.clock.now()) {
      const startsAt = classroom.starts_at.toISOString();
      await enqueueJob(tx, 'notifications.class_reminder', { classroomId, startsAt }, { jobKey: classReminderKey(classroomId), runAt });
    } else {
      await sql`select graphile_worker.remove_job(${classReminderKey(classroomId)})`.execute(q);
    }
  });
}

async function loadClass(q: Db, classroomId: string) {
  return q
    .selectFrom('classrooms')
    .select(['id', 'community_id', 'host_id', 'title', 'status', 'starts_at'])
    .where('id', '=', classroomId)
    .executeTakeFirst();
}
type LoadedClass = NonNullable<Awaited<ReturnType<typeof loadClass>>>;

async function registeredLearners(q: Db, classroomId: string): Promise<string[]> {
  const rows = await q
    .selectFrom('classroom_registrations')
    .select('user_id')
    .where('classroom_id', '=', classroomId)
    .where('status', '=', 'registered')
    .execute();
  return rows.map((r) => r.user_id);
}

function toLearners(classroom: LoadedClass, userIds: string[], item: Pick<NewNotification, 'kind' | 'sourceKey' | 'title'>): NewNotification[] {
  return userIds.map((userId) => ({
    userId,
    ...item,
    actorId: classroom.host_id,
    communityId: classroom.community_id,
    subjectType: 'classroom',
    subjectId: classroom.id,
    url: classUrl(classroom.community_id, classroom.id),
  }));
}

/** "starts in 10 minutes", from the time left now (a job that ran late does not claim more time than there is). */
function startsIn(startsAt: Date, now: Date): string {
  const minutes = Math.round((startsAt.getTime() - now.getTime()) / 60_000);
  if (minutes <= 0) return 'is starting now';
  return `starts in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
}

/** Reminds the class's registered learners, once per start time; nothing if the class moved, started or was cancelled. */
export async function remindClass(deps: Deps, classroomId: string, startsAt: string): Promise<number> {
  const q = db(deps.orm.em.fork());
  const classroom = await loadClass(q, classroomId);
  if (!classroom || classroom.status !== 'scheduled') return 0;
  const at = classroom.starts_at.toISOString();
  if (at !== new Date(startsAt).toISOString()) return 0;
  const title = `“${classroom.title}” ${startsIn(classroom.starts_at, deps.clock.now())}`;
  const learners = await registeredLearners(q, classroomId);
  return notify(deps, toLearners(classroom, learners, { kind: 'class_reminder', sourceKey: `class:${classroomId}:reminder:${at}`, title }));
}

/** Tells the class's registered learners it is live, once; nothing if it ended (or never went live) before this ran. */
export async function announceClassLive(deps: Deps, classroomId: string): Promise<number> {
  const q = db(deps.orm.em.fork());
  const classroom = await loadClass(q, classroomId);
  if (!classroom || classroom.status !== 'live') return 0;
  const learners = await registeredLearners(q, classroomId);
  return notify(deps, toLearners(classroom, learners, { kind: 'class_live', sourceKey: `class:${classroomId}:live`, title: `“${classroom.title}” is live now` }));
}

/** 'notifications.class_reminder': reminds the class's registered learners that it starts soon. */
export function classReminderJob(deps: Deps): JobHandler<'notifications.class_reminder'> {
  return async ({ classroomId, startsAt }) => {
    await remindClass(deps, classroomId, startsAt);
  };
}

/** Durable listeners that schedule, move and drop class reminders and announce a class going live. */
export function registerClassReminderListeners(bus: EventBus, deps: Deps): void {
  bus.onDurable('classroom.scheduled', 'scheduleClassReminder', async ({ classroomId }) => syncClassReminder(deps, classroomId));
  bus.onDurable('classroom.cancelled', 'dropClassReminder', async ({ classroomId }) => syncClassReminder(deps, classroomId));
  bus.onDurable('classroom.started', 'notifyClassLive', async ({ classroomId }) => {
    await syncClassReminder(deps, classroomId);
    await announceClassLive(deps, classroomId);
  });
}
