import { randomBytes } from 'node:crypto';
import type { Insertable } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_ROLES } from '../../contracts/auth.ts';
import { COMMUNITY_ROLES } from '../../contracts/communities.ts';
import { openOrm, type Orm } from '../../orm/database.ts';
import { db, type DB } from '../../orm/db.ts';
import { testDatabaseUrl } from '../../test/db.ts';
import type { Actor } from '../shared/deps.ts';
import { ClassroomPolicy, loadClassroomAccess, visibleClassroomIds } from './classroom.ts';

const VISIBILITIES = ['public', 'private'] as const;
const ROLES = [null, ...COMMUNITY_ROLES] as const;
/** How the viewer stands in one class. */
const RELATIONS = ['host', 'cohost', 'registered', 'waitlisted', 'cancelled', 'none'] as const;

/*
 * Parity: ClassroomPolicy.view over the loaded access and the visibleClassroomIds predicate agree on every case —
 * community visibility × the viewer's community role × their platform role × their place in the class. The place in
 * the class must not matter to visibility (a host who left a private community no longer sees its classes); the
 * enumeration proves that too.
 */
describe('classroom visibility: ClassroomPolicy.view over the loaded access and visibleClassroomIds agree', () => {
  let orm: Orm;
  beforeAll(async () => {
    orm = await openOrm(await testDatabaseUrl(), { poolMax: 2 });
  });
  afterAll(async () => orm?.close(true));

  it('visibility × community role × platform role × host / co-host / registration', async () => {
    const q = db(orm.em.fork());
    const tag = randomBytes(4).toString('hex');
    // One community per visibility and viewer role, with one viewer and a host who owns it; one class per relation.
    const standings = VISIBILITIES.flatMap((visibility) =>
      ROLES.map((role, i) => ({ visibility, role, communityId: crypto.randomUUID(), viewerId: crypto.randomUUID(), ownerId: crypto.randomUUID(), i })),
    );
    const cases = standings.flatMap((standing) =>
      RELATIONS.map((relation) => ({ ...standing, relation, classroomId: crypto.randomUUID(), channelId: crypto.randomUUID() })),
    );

    await q
      .insertInto('users')
      .values(
        standings.flatMap((s) =>
          [s.viewerId, s.ownerId].map((id, n) => ({
            id,
            email: `classroom-view-${tag}-${s.visibility}-${s.i}-${n}@example.test`,
            password_hash: 'not a hash',
            display_name: n ? 'Owner' : 'Viewer',
          })),
        ),
      )
      .execute();
    await q
      .insertInto('communities')
      .values(standings.map((s) => ({ id: s.communityId, slug: `cv-${tag}-${s.visibility}-${s.i}`, name: `Classes ${s.i}`, visibility: s.visibility })))
      .execute();
    await q
      .insertInto('community_members')
      .values([
        ...standings.map((s) => ({ community_id: s.communityId, user_id: s.ownerId, role: 'owner' as const })),
        ...standings.filter((s) => s.role !== null).map((s) => ({ community_id: s.communityId, user_id: s.viewerId, role: s.role! })),
      ])
      .execute();
    await q
      .insertInto('channels')
      .values(cases.map((c) => ({ id: c.channelId, community_id: c.communityId, kind: 'classroom' as const, visibility: 'private' as const })))
      .execute();
    await q
      .insertInto('classrooms')
      .values(
        cases.map(
          (c) =>
            ({
              id: c.classroomId,
              community_id: c.communityId,
              host_id: c.relation === 'host' ? c.viewerId : c.ownerId,
              channel_id: c.channelId,
              title: `${c.relation} class`,
              starts_at: new Date(Date.now() + 3_600_000),
              duration_minutes: 60,
              capacity: 10,
            }) as Insertable<DB['classrooms']>, // channel_id: see Classroom (classroom.ts)
        ),
      )
      .execute();
    await q
      .insertInto('classroom_cohosts')
      .values(cases.filter((c) => c.relation === 'cohost').map((c) => ({ classroom_id: c.classroomId, user_id: c.viewerId })))
      .execute();
    await q
      .insertInto('classroom_registrations')
      .values(
        cases.flatMap((c) =>
          c.relation === 'registered' || c.relation === 'waitlisted' || c.relation === 'cancelled'
            ? [{ classroom_id: c.classroomId, user_id: c.viewerId, status: c.relation }]
            : [],
        ),
      )
      .execute();

    const caseIds = cases.map((c) => c.classroomId);
    const disagreements: string[] = [];
    let visibleCount = 0;
    for (const platformRole of PLATFORM_ROLES) {
      for (const standing of standings) {
        const actor: Actor = { userId: standing.viewerId, sessionId: '', role: platformRole };
        const visible = new Set((await visibleClassroomIds(q, actor).where('k.id', 'in', caseIds).execute()).map((r) => r.id));
        for (const c of cases.filter((x) => x.viewerId === standing.viewerId)) {
          const access = await loadClassroomAccess(q, actor.userId, c.classroomId);
          expect(access).not.toBeNull();
          const byPolicy = ClassroomPolicy.view(actor, access!);
          if (byPolicy) visibleCount += 1;
          if (byPolicy !== visible.has(c.classroomId)) {
            disagreements.push(`${c.visibility}/role:${c.role ?? 'none'}/platform:${platformRole}/${c.relation}: policy ${byPolicy}`);
          }
        }
      }
    }
    expect(disagreements).toEqual([]);
    // Both answers occur: outsiders of private communities see nothing, platform admins everything.
    const total = PLATFORM_ROLES.length * cases.length;
    expect(visibleCount).toBeGreaterThan(0);
    expect(visibleCount).toBeLessThan(total);
  });
});
