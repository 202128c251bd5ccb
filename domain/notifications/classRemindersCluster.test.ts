import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { classroomCommunity, scheduleClassroom } from '../../test/classroomFactories.ts';
import { call, eventually, ok, type TestUser } from '../../test/factories.ts';
import { dbOf, startCluster, startNode, type RunningNode } from '../../test/nodes.ts';
import { classReminderKey } from './classReminders.ts';

/*
 * A class reminder on two nodes sharing the database, one of which restarts at the moment the reminder falls due:
 * the reminder job is taken by exactly one runner, and whichever runs it (or runs it again) stores one notification
 * per registered learner. Real time here: the class starts CLASS_REMINDER_MINUTES and a few seconds from now, so the
 * job falls due while the test watches.
 */
describe.skipIf(!inject('redisUrl'))('class reminder across two nodes and a restart', () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  let restarted: RunningNode | undefined;

  beforeAll(async () => {
    cluster = await startCluster(2);
  });
  afterAll(async () => {
    await restarted?.close();
    await cluster?.close();
  });

  const reminderJob = async (classroomId: string) => {
    const { rows } = await sql<{ run_at: Date }>`
      select j.run_at from graphile_worker._private_jobs j where j.key = ${classReminderKey(classroomId)}
    `.execute(dbOf(cluster.nodes[1]!));
    return rows[0];
  };

  it('fires once per learner when both nodes are up and one of them restarts as it falls due', async () => {
    const [nodeA, nodeB] = cluster.nodes as [RunningNode, RunningNode];
    const minutes = nodeA.node.deps.notifications.classReminderMinutes;
    const { communityId, host, learners } = await classroomCommunity(nodeA, 3);
    const [first, second, bystander] = learners as [TestUser, TestUser, TestUser];
    const startsAt = new Date(Date.now() + minutes * 60_000 + 5_000).toISOString();
    const classroom = await scheduleClassroom(nodeA, host, communityId, { title: 'Graphs', startsAt });
    await ok(call(nodeB, 'POST', `/classrooms/${classroom.id}/register`, first), 201);
    await ok(call(nodeA, 'POST', `/classrooms/${classroom.id}/register`, second), 201);

    await eventually(async () => (await reminderJob(classroom.id)) !== undefined, 10_000, 'reminder queued');
    const dueAt = (await reminderJob(classroom.id))!.run_at.getTime();
    expect(dueAt).toBe(new Date(startsAt).getTime() - minutes * 60_000);

    // Node A goes down just before the reminder falls due and comes back just after; node B runs throughout.
    await new Promise((r) => setTimeout(r, Math.max(0, dueAt - Date.now() - 300)));
    await nodeA.close();
    restarted = await startNode({ redis: true });

    const reminders = () =>
      dbOf(nodeB)
        .selectFrom('notifications')
        .select(['user_id', 'kind', 'title'])
        .where('subject_type', '=', 'classroom')
        .where('subject_id', '=', classroom.id)
        .execute();
    await eventually(async () => (await reminders()).length >= 2, 15_000, 'reminders stored');
    // Any runner that might still take the job has had time to (the job is gone once one runner finished it).
    await eventually(async () => (await reminderJob(classroom.id)) === undefined, 10_000, 'reminder job finished');
    await new Promise((r) => setTimeout(r, 2_500));

    const stored = await reminders();
    expect(stored.map((n) => n.user_id).sort()).toEqual([first.user.id, second.user.id].sort());
    expect(stored.every((n) => n.kind === 'class_reminder' && n.title.startsWith('“Graphs” starts in'))).toBe(true);
    expect(stored.some((n) => n.user_id === bystander.user.id)).toBe(false);
    expect((await ok(call<{ unreadCount: number }>(restarted, 'GET', '/notifications/unread-count', first))).unreadCount).toBe(1);
  });
});
