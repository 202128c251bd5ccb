import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelEnvelope } from '../../contracts/communities.ts';
import type { TeachingDto } from '../../contracts/teaching.ts';
import { seedWorld } from '../../test/communities.ts';
import { addLesson, addModule, createCourse, enrol, publish, registerInstructor } from '../../test/courseFactories.ts';
import { createEbook, userWithRole } from '../../test/ebookFactories.ts';
import { call, ok, registerUser } from '../../test/factories.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => node?.close());

describe('GET /me/teaching', () => {
  it('lists my courses and ebooks and those of communities I run, drafts included, and nobody else’s', async () => {
    const world = await seedWorld(node, { people: { owner: 'owner', admin: 'admin', member: 'member' } });
    const instructor = await registerInstructor(node);
    const stranger = await registerInstructor(node);
    const platformAdmin = await userWithRole(node, 'admin');

    const draft = await createCourse(node, instructor, { title: 'My draft course' });
    const published = await createCourse(node, instructor, { title: 'My published course' });
    const module = await addModule(node, instructor, published.id);
    await addLesson(node, instructor, module.id, { title: 'Hello', kind: 'text', body: 'Hi' });
    await publish(node, instructor, published.id);
    const communityCourse = await createCourse(node, world.owner, { title: 'Community course', communityId: world.communityId });
    const otherCourse = await createCourse(node, stranger, { title: 'Someone else’s' });
    const myEbook = await createEbook(node, instructor, { title: 'My unpublished ebook', publish: false });
    const communityEbook = await createEbook(node, world.owner, { title: 'Community ebook', communityId: world.communityId });

    const mine = await ok(call<TeachingDto>(node, 'GET', '/me/teaching', instructor));
    expect(new Set(mine.courses.map((c) => c.title))).toEqual(new Set(['My draft course', 'My published course']));
    expect(mine.courses.find((c) => c.id === draft.id)!.status).toBe('draft');
    expect(mine.ebooks.map((e) => e.id)).toEqual([myEbook.id]);

    // A community admin sees the community's courses and ebooks; a plain member sees none of them.
    const admin = await ok(call<TeachingDto>(node, 'GET', '/me/teaching', world.admin));
    expect(admin.courses.map((c) => c.id)).toEqual([communityCourse.id]);
    expect(admin.ebooks.map((e) => e.id)).toEqual([communityEbook.id]);
    const member = await ok(call<TeachingDto>(node, 'GET', '/me/teaching', world.member));
    expect(member).toEqual({ courses: [], ebooks: [] });

    // A platform admin may author anything, but this lists only what is theirs.
    const staff = await ok(call<TeachingDto>(node, 'GET', '/me/teaching', platformAdmin));
    expect(staff.courses.map((c) => c.id)).not.toContain(otherCourse.id);
    expect(staff).toEqual({ courses: [], ebooks: [] });

    expect((await call(node, 'GET', '/me/teaching')).status).toBe(401);
  });
});

describe('GET /courses/:id/discussion', () => {
  it('gives the discussion channel to the instructors and enrolled learners only', async () => {
    const instructor = await registerInstructor(node);
    const [learner, visitor] = await Promise.all([registerUser(node.url), registerUser(node.url)]);
    const course = await createCourse(node, instructor, { title: 'Discussed course' });
    const module = await addModule(node, instructor, course.id);
    await addLesson(node, instructor, module.id, { title: 'Hello', kind: 'text', body: 'Hi' });
    await publish(node, instructor, course.id);
    await enrol(node, learner, course.id);

    const seen = await ok(call<ChannelEnvelope>(node, 'GET', `/courses/${course.id}/discussion`, learner));
    expect(seen.channel).toMatchObject({ kind: 'course', communityId: null, unreadCount: 0 });
    expect((await ok(call<ChannelEnvelope>(node, 'GET', `/courses/${course.id}/discussion`, instructor))).channel.id).toBe(seen.channel.id);
    const refused = await call(node, 'GET', `/courses/${course.id}/discussion`, visitor);
    expect([refused.status, refused.body.error.code]).toEqual([403, 'forbidden']);
    expect((await call(node, 'GET', `/courses/${crypto.randomUUID()}/discussion`, learner)).status).toBe(404);
  });
});
