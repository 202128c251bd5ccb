import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrm, type Orm } from '../database.ts';
import { Channel, ChannelMember, Community, CommunityMember, User } from '../entities/index.ts';
import { DEMO_ACCOUNTS, DEMO_CLASSROOM, DEMO_COMMUNITY, seedDemoData } from './demoData.ts';
import { db } from '../db.ts';
import { testDatabaseUrl } from '../../test/db.ts';
import { verifyPassword } from '../../domain/auth/passwords.ts';

let orm: Orm;
beforeAll(async () => {
  orm = await openOrm(await testDatabaseUrl(), { poolMax: 2 });
});
afterAll(async () => orm?.close(true));

describe('demo seed', () => {
  it('creates verified demo accounts with their printed passwords, a community and channels, once', async () => {
    const first = await seedDemoData(orm.em.fork());
    const second = await seedDemoData(orm.em.fork());
    expect(second).toEqual([]);
    // Another test file may have seeded this worker's database first; either way every account exists now.
    expect(first.length === 0 || first.length === DEMO_ACCOUNTS.length).toBe(true);

    const em = orm.em.fork();
    for (const account of DEMO_ACCOUNTS) {
      const user = await em.findOneOrFail(User, { email: account.email });
      expect(user.isDemo).toBe(true);
      expect(user.role).toBe(account.role);
      expect(user.emailVerifiedAt).not.toBeNull();
      expect(await verifyPassword(user.passwordHash, account.password)).toBe(true);
    }
    const community = await em.findOneOrFail(Community, { slug: DEMO_COMMUNITY.slug });
    expect(await em.count(CommunityMember, { community })).toBe(DEMO_ACCOUNTS.length);
    const channels = await em.find(Channel, { community, kind: 'channel' }, { orderBy: { name: 'asc' } });
    expect(channels.map((c) => c.name)).toEqual(['general', 'introductions', 'staff-room', 'study-hall']);
    const staffRoom = channels.find((c) => c.name === 'staff-room')!;
    expect(staffRoom.visibility).toBe('private');
    const learner = await em.findOneOrFail(User, { email: DEMO_ACCOUNTS[0]!.email });
    expect(await em.count(ChannelMember, { channel: staffRoom, user: learner })).toBe(0);
    expect(await em.count(ChannelMember, { channel: staffRoom })).toBe(3);

    // One upcoming class, hosted by the owner, with the demo learner registered — seeded once.
    const classes = await db(em)
      .selectFrom('classrooms as k')
      .innerJoin('users as u', 'u.id', 'k.host_id')
      .select((eb) => [
        'k.title',
        'k.starts_at',
        'k.status',
        'u.email as host_email',
        eb
          .selectFrom('classroom_registrations as r')
          .innerJoin('users as ru', 'ru.id', 'r.user_id')
          .whereRef('r.classroom_id', '=', 'k.id')
          .where('r.status', '=', 'registered')
          .select((inner) => inner.fn.agg<string[]>('array_agg', ['ru.email']).as('emails'))
          .as('learners'),
      ])
      .where('k.community_id', '=', community.id)
      .execute();
    expect(classes).toHaveLength(1);
    expect(classes[0]!.title).toBe(DEMO_CLASSROOM.title);
    expect(classes[0]!.status).toBe('scheduled');
    expect(classes[0]!.starts_at.getTime()).toBeGreaterThan(Date.now());
    expect(classes[0]!.host_email).toBe(DEMO_ACCOUNTS.find((a) => a.communityRole === 'owner')!.email);
    expect(classes[0]!.learners).toEqual([DEMO_ACCOUNTS.find((a) => a.communityRole === 'member')!.email]);
  });
});
