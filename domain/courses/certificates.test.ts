import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedWorld } from '../../test/communities.ts';
import { certificatesOf, completeAs, enrol, seedCourse } from '../../test/learningFactories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';
import { issueCertificateIfEarned } from './certificates.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => node?.close());

const issue = (courseId: string, userId: string) =>
  node.node.orm.em.fork().transactional((tx) => issueCertificateIfEarned(node.node.deps, tx, { courseId, userId, at: new Date() }));

describe('issueCertificateIfEarned', () => {
  it('the last lessons completed at the same time still issue exactly one certificate', async () => {
    const w = await seedWorld(node, { people: { teacher: 'owner', learner: 'member' } });
    for (let round = 0; round < 3; round++) {
      const course = await seedCourse(node, { owner: w.teacher, communityId: w.communityId, modules: [{ a: {}, b: {}, c: {} }] });
      await enrol(node, course.courseId, w.learner);
      const results = await Promise.all([completeAs(node, course.lessons.a, w.learner), completeAs(node, course.lessons.b, w.learner), completeAs(node, course.lessons.c, w.learner)]);
      const issued = await certificatesOf(node, course.courseId, w.learner.user.id);
      expect(issued).toHaveLength(1);
      // The completion that met the last requirement reports it; all agree on its id.
      expect(results.filter((r) => r.certificate).map((r) => r.certificate!.id)).toContain(issued[0]!.id);
      expect(await issue(course.courseId, w.learner.user.id)).toEqual({ id: issued[0]!.id });
    }
  });

  it('is null for someone not enrolled, and for a course without required lessons', async () => {
    const w = await seedWorld(node, { people: { teacher: 'owner', learner: 'member', stranger: 'member' } });
    const optional = await seedCourse(node, { owner: w.teacher, communityId: w.communityId, modules: [{ a: { required: false } }] });
    await enrol(node, optional.courseId, w.learner);
    await completeAs(node, optional.lessons.a, w.learner);
    expect(await issue(optional.courseId, w.learner.user.id)).toBeNull();
    expect(await issue(optional.courseId, w.stranger.user.id)).toBeNull();
    expect(await dbOf(node).selectFrom('certificates').select('id').where('course_id', '=', optional.courseId).execute()).toEqual([]);
  });

  it('a course without a community is issued by its owner', async () => {
    const w = await seedWorld(node, { people: { teacher: 'owner', learner: 'member' } });
    const course = await seedCourse(node, { owner: w.teacher, communityId: w.communityId, modules: [{ a: {} }] });
    await dbOf(node).updateTable('courses').set({ community_id: null }).where('id', '=', course.courseId).execute();
    await enrol(node, course.courseId, w.learner);
    await completeAs(node, course.lessons.a, w.learner);
    const [certificate] = await certificatesOf(node, course.courseId, w.learner.user.id);
    expect(certificate).toMatchObject({ issuer_name: w.teacher.user.displayName, recipient_name: w.learner.user.displayName });
  });
});
