import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationList } from '../../contracts/notifications.ts';
import { classroomCommunity, minutesFrom, scheduleClassroom } from '../../test/classroomFactories.ts';
import { call, eventually, ok, type TestUser } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';
import { manualClock } from '../shared/time.ts';
import { announceClassLive, classReminderJob, classReminderKey, remindClass } from './classReminders.ts';

/*
 * Class reminders: one job per class, CLASS_REMINDER_MINUTES before its start, queued by the durable listener of
 * `classroom.scheduled`, moved when the class moves and dropped when it is cancelled or starts. The job notifies the
 * registered learners exactly once per start time, and a stale job (the class moved since) notifies nobody. Going
 * live notifies them once with 'class_live'.
 */
describe('class reminders and "class is live"', () => {
  // The domain's clock runs with the real one (graphile compares run_at with the database's now()), held still.
  const clock = manualClock(new Date(Math.floor(Date.now() / 60_000) * 60_000));
  let node: RunningNode;

  beforeAll(async () => {
    node = await startNode({ clock });
  });
  afterAll(async () => {
    await node?.close();
  });

  async function reminderJob(classroomId: string) {
    const { rows } = await sql<{ run_at: Date; payload: { classroomId: string; startsAt: string } }>`
      select j.run_at, j.payload from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
      where j.key = ${classReminderKey(classroomId)} and t.identifier = 'notifications.class_reminder'
    `.execute(dbOf(node));
    return rows[0];
  }
  /** Waits for the durable listener (a job run by the node) to put the reminder at `runAt`, or to drop it (null). */
  async function reminderBecomes(classroomId: string, runAt: string | null) {
    await eventually(async () => ((await reminderJob(classroomId))?.run_at.toISOString() ?? null) === runAt, 10_000, `reminder at ${runAt}`);
  }
  const notificationsOf = (classroomId: string) =>
    dbOf(node).selectFrom('notifications').selectAll().where('subject_type', '=', 'classroom').where('subject_id', '=', classroomId).execute();

  async function registeredClass(startsInMinutes = 120) {
    const { communityId, host, learners } = await classroomCommunity(node, 2);
    const [learner, bystander] = learners as [TestUser, TestUser];
    const classroom = await scheduleClassroom(node, host, communityId, { title: 'Vectors', startsAt: minutesFrom(startsInMinutes, clock.now()) });
    await ok(call(node, 'POST', `/classrooms/${classroom.id}/register`, learner), 201);
    return { communityId, host, learner, bystander, classroom };
  }

  it('schedules one reminder 10 minutes before the start, moves it with the class and drops it on cancel', async () => {
    const { host, classroom } = await registeredClass();
    await reminderBecomes(classroom.id, minutesFrom(-10, new Date(classroom.startsAt)));
    expect((await reminderJob(classroom.id))!.payload).toEqual({ classroomId: classroom.id, startsAt: classroom.startsAt });

    const later = minutesFrom(180, clock.now());
    await ok(call(node, 'PATCH', `/classrooms/${classroom.id}`, host, { startsAt: later }));
    await reminderBecomes(classroom.id, minutesFrom(-10, new Date(later)));
    expect((await reminderJob(classroom.id))!.payload.startsAt).toBe(later);

    // Moved to within the reminder window: too late to remind, so no job is left.
    await ok(call(node, 'PATCH', `/classrooms/${classroom.id}`, host, { startsAt: minutesFrom(5, clock.now()) }));
    await reminderBecomes(classroom.id, null);
    await ok(call(node, 'PATCH', `/classrooms/${classroom.id}`, host, { startsAt: later }));
    await reminderBecomes(classroom.id, minutesFrom(-10, new Date(later)));

    await ok(call(node, 'POST', `/classrooms/${classroom.id}/cancel`, host));
    await reminderBecomes(classroom.id, null);
    // A job that ran anyway (queued before the cancel) reminds nobody.
    expect(await remindClass(node.node.deps, classroom.id, later)).toBe(0);
  });

  it('the reminder notifies each registered learner exactly once, however often it runs; a stale job notifies nobody', async () => {
    const { communityId, host, learner, bystander, classroom } = await registeredClass();
    await reminderBecomes(classroom.id, minutesFrom(-10, new Date(classroom.startsAt)));
    const stale = (await reminderJob(classroom.id))!.payload;

    const later = minutesFrom(150, clock.now());
    await ok(call(node, 'PATCH', `/classrooms/${classroom.id}`, host, { startsAt: later }));
    await reminderBecomes(classroom.id, minutesFrom(-10, new Date(later)));
    // The job queued for the old start, had it run: the class moved since, so it does nothing.
    await classReminderJob(node.node.deps)(stale, { id: '0', attempts: 1, maxAttempts: 1 });
    expect(await notificationsOf(classroom.id)).toEqual([]);

    clock.set(minutesFrom(-10, new Date(later)));
    const fresh = (await reminderJob(classroom.id))!.payload;
    // Twice at once, as two nodes or a retry would: one notification.
    await Promise.all([remindClass(node.node.deps, fresh.classroomId, fresh.startsAt), remindClass(node.node.deps, fresh.classroomId, fresh.startsAt)]);
    await classReminderJob(node.node.deps)(fresh, { id: '0', attempts: 2, maxAttempts: 12 });
    const stored = await notificationsOf(classroom.id);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      user_id: learner.user.id,
      kind: 'class_reminder',
      source_key: `class:${classroom.id}:reminder:${later}`,
      title: '“Vectors” starts in 10 minutes',
      url: `/app/c/${communityId}/classes/${classroom.id}`,
      subject_type: 'classroom',
      actor_id: host.user.id,
    });
    const list = await ok(call<NotificationList>(node, 'GET', '/notifications', learner));
    expect(list.data.map((n) => n.kind)).toEqual(['class_reminder']);
    expect((await ok(call<NotificationList>(node, 'GET', '/notifications', bystander))).data).toEqual([]);
    expect((await ok(call<NotificationList>(node, 'GET', '/notifications', host))).data).toEqual([]);
  });

  it('starting the class notifies its registered learners once that it is live, and drops the reminder', async () => {
    const { communityId, host, learner, classroom } = await registeredClass(30);
    await reminderBecomes(classroom.id, minutesFrom(-10, new Date(classroom.startsAt)));
    clock.set(minutesFrom(-5, new Date(classroom.startsAt)));

    await ok(call(node, 'POST', `/classrooms/${classroom.id}/start`, host));
    await eventually(async () => (await notificationsOf(classroom.id)).length > 0, 10_000, 'class_live notification');
    await reminderBecomes(classroom.id, null);
    expect(await announceClassLive(node.node.deps, classroom.id)).toBe(0);
    // The reminder's job, had it run now, reminds nobody of a class already live.
    expect(await remindClass(node.node.deps, classroom.id, classroom.startsAt)).toBe(0);
    const stored = await notificationsOf(classroom.id);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      user_id: learner.user.id,
      kind: 'class_live',
      source_key: `class:${classroom.id}:live`,
      title: '“Vectors” is live now',
      url: `/app/c/${communityId}/classes/${classroom.id}`,
    });
  });
});
