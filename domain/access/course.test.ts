import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_ROLES } from '../../contracts/auth.ts';
import { COMMUNITY_ROLES } from '../../contracts/communities.ts';
import { openOrm, type Orm } from '../../orm/database.ts';
import { db } from '../../orm/db.ts';
import { testDatabaseUrl } from '../../test/db.ts';
import type { Actor } from '../shared/deps.ts';
import { CoursePolicy, lessonAvailability, loadCourseAccess, visibleCourseIds, type Viewer } from './course.ts';

const STATUSES = ['draft', 'published', 'unpublished'] as const;
/** The course's community: none, a public one or a private one. */
const COMMUNITIES = ['none', 'public', 'private'] as const;
const ROLES = [null, ...COMMUNITY_ROLES] as const;
const INSTRUCTOR = [null, 'owner', 'instructor'] as const;
const ENTITLED = [false, true] as const;

/*
 * Parity: CoursePolicy.view over the loaded access and the visibleCourseIds predicate agree on every case — status ×
 * the course's community (none / public / private) × the viewer's community role × platform role × instructor seat ×
 * entitlement, and for a signed-out visitor. The author rule is checked alongside (the predicate embeds it).
 */
describe('course visibility: CoursePolicy.view over the loaded access and visibleCourseIds agree', () => {
  let orm: Orm;
  beforeAll(async () => {
    orm = await openOrm(await testDatabaseUrl(), { poolMax: 2 });
  });
  afterAll(async () => orm?.close(true));

  it('status × community visibility × community role × platform role × instructor × entitled', async () => {
    const q = db(orm.em.fork());
    const tag = randomBytes(4).toString('hex');
    // One standing per community kind and viewer role (a course without a community has no role), one viewer each.
    const standings = COMMUNITIES.flatMap((community) =>
      (community === 'none' ? [null] : ROLES).map((role, i) => ({
        community,
        role,
        communityId: community === 'none' ? null : crypto.randomUUID(),
        viewerId: crypto.randomUUID(),
        ownerId: crypto.randomUUID(),
        i,
      })),
    );
    const cases = standings.flatMap((standing) =>
      STATUSES.flatMap((status) =>
        INSTRUCTOR.flatMap((instructor) =>
          ENTITLED.map((entitled) => ({ ...standing, status, instructor, entitled, courseId: crypto.randomUUID(), channelId: crypto.randomUUID() })),
        ),
      ),
    );

    await q
      .insertInto('users')
      .values(
        standings.flatMap((s) =>
          [s.viewerId, s.ownerId].map((id, n) => ({
            id,
            email: `course-view-${tag}-${s.community}-${s.i}-${n}@example.test`,
            password_hash: 'not a hash',
            display_name: n ? 'Owner' : 'Viewer',
          })),
        ),
      )
      .execute();
    const withCommunity = standings.filter((s) => s.communityId !== null);
    await q
      .insertInto('communities')
      .values(
        withCommunity.map((s) => ({
          id: s.communityId!,
          slug: `kv-${tag}-${s.community}-${s.i}`,
          name: `Courses ${s.i}`,
          visibility: s.community as 'public' | 'private',
        })),
      )
      .execute();
    await q
      .insertInto('community_members')
      .values([
        ...withCommunity.map((s) => ({ community_id: s.communityId!, user_id: s.ownerId, role: 'owner' as const })),
        ...withCommunity.filter((s) => s.role !== null).map((s) => ({ community_id: s.communityId!, user_id: s.viewerId, role: s.role! })),
      ])
      .execute();
    await q
      .insertInto('channels')
      .values(cases.map((c) => ({ id: c.channelId, community_id: c.communityId, kind: 'course' as const, visibility: 'private' as const })))
      .execute();
    await q
      .insertInto('courses')
      .values(
        cases.map((c) => ({
          id: c.courseId,
          community_id: c.communityId,
          owner_id: c.instructor === 'owner' ? c.viewerId : c.ownerId,
          channel_id: c.channelId,
          title: `${c.status} course`,
          level: 'beginner' as const,
          status: c.status,
          published_at: c.status === 'draft' ? null : new Date(),
        })),
      )
      .execute();
    await q
      .insertInto('course_instructors')
      .values(
        cases.flatMap((c) => [
          { course_id: c.courseId, user_id: c.instructor === 'owner' ? c.viewerId : c.ownerId, role: 'owner' as const },
          ...(c.instructor === 'instructor' ? [{ course_id: c.courseId, user_id: c.viewerId, role: 'instructor' as const }] : []),
        ]),
      )
      .execute();
    await q
      .insertInto('entitlements')
      .values(
        cases
          .filter((c) => c.entitled)
          .map((c) => ({ id: crypto.randomUUID(), user_id: c.viewerId, resource_type: 'course' as const, resource_id: c.courseId, source: 'grant' as const })),
      )
      .execute();

    const caseIds = cases.map((c) => c.courseId);
    const disagreements: string[] = [];
    let visibleCount = 0;
    const check = async (actor: Viewer, label: string, forCases: typeof cases) => {
      const visible = new Set((await visibleCourseIds(q, actor).where('k.id', 'in', caseIds).execute()).map((r) => r.id));
      for (const c of forCases) {
        const access = await loadCourseAccess(q, actor, c.courseId);
        expect(access).not.toBeNull();
        expect(access!.entitled).toBe(actor !== null && c.entitled);
        const byPolicy = CoursePolicy.view(actor, access!);
        if (byPolicy) visibleCount += 1;
        if (byPolicy !== visible.has(c.courseId)) {
          disagreements.push(
            `${c.status}/${c.community}/role:${c.role ?? 'none'}/${label}/instructor:${c.instructor ?? 'none'}/entitled:${c.entitled}: policy ${byPolicy}`,
          );
        }
        // Learners never see what is not published; authors see everything.
        if (c.status !== 'published') expect(byPolicy).toBe(CoursePolicy.author(actor, access!));
        if (CoursePolicy.learn(actor, access!)) expect(byPolicy).toBe(true);
      }
    };
    for (const platformRole of PLATFORM_ROLES) {
      for (const standing of standings) {
        const actor: Actor = { userId: standing.viewerId, sessionId: '', role: platformRole };
        await check(actor, `platform:${platformRole}`, cases.filter((x) => x.viewerId === standing.viewerId));
      }
    }
    // A signed-out visitor: published courses without a community or of a public one, nothing else.
    await check(null, 'anonymous', cases);
    expect(disagreements).toEqual([]);
    const total = PLATFORM_ROLES.length * cases.length + cases.length;
    expect(visibleCount).toBeGreaterThan(0);
    expect(visibleCount).toBeLessThan(total);
  });
});

describe('lessonAvailability (drip release)', () => {
  const now = new Date('2026-12-10T12:00:00Z');
  const day = 86_400_000;
  it('immediate lessons are open', () => {
    expect(lessonAvailability({ release_type: 'immediate', release_days: null, release_at: null }, null, now)).toEqual({ open: true, availableAt: null });
  });
  it('afterEnrolment counts days from the enrolment; without one it is closed with no date', () => {
    const lesson = { release_type: 'afterEnrolment', release_days: 3, release_at: null } as const;
    expect(lessonAvailability(lesson, null, now)).toEqual({ open: false, availableAt: null });
    const enrolled = new Date(now.getTime() - 2 * day);
    expect(lessonAvailability(lesson, enrolled, now)).toEqual({ open: false, availableAt: new Date(enrolled.getTime() + 3 * day) });
    expect(lessonAvailability(lesson, new Date(now.getTime() - 3 * day), now).open).toBe(true);
  });
  it('onDate opens at its date', () => {
    const at = new Date(now.getTime() + 1000);
    const lesson = { release_type: 'onDate', release_days: null, release_at: at } as const;
    expect(lessonAvailability(lesson, now, now)).toEqual({ open: false, availableAt: at });
    expect(lessonAvailability(lesson, now, at)).toEqual({ open: true, availableAt: at });
  });
});
