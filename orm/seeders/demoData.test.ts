import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrm, type Orm } from '../database.ts';
import { Channel, ChannelMember, Community, CommunityMember, User } from '../entities/index.ts';
import { sql } from 'kysely';
import { DEMO_MEMBERS } from './demoActivity.ts';
import { DEMO_COURSE, DEMO_EBOOK, DEMO_PAID_COURSE } from './demoCourses.ts';
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
    expect(await em.count(CommunityMember, { community })).toBe(DEMO_ACCOUNTS.length + DEMO_MEMBERS.length);
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
      .where('k.status', '=', 'scheduled')
      .execute();
    expect(classes).toHaveLength(1);
    expect(classes[0]!.title).toBe(DEMO_CLASSROOM.title);
    expect(classes[0]!.status).toBe('scheduled');
    expect(classes[0]!.starts_at.getTime()).toBeGreaterThan(Date.now());
    expect(classes[0]!.host_email).toBe(DEMO_ACCOUNTS.find((a) => a.communityRole === 'owner')!.email);
    expect(classes[0]!.learners).toEqual([DEMO_ACCOUNTS.find((a) => a.communityRole === 'member')!.email]);
  });

  it('seeds a free published course with the demo learner part-way through, and a free ebook, once', async () => {
    const stored = new Map<string, Buffer>();
    await seedDemoData(orm.em.fork(), { putFile: async (key, bytes) => void stored.set(key, bytes) });
    await seedDemoData(orm.em.fork(), { putFile: async (key, bytes) => void stored.set(key, bytes) });
    const q = db(orm.em.fork());
    const courses = await q
      .selectFrom('courses as c')
      .innerJoin('communities as co', 'co.id', 'c.community_id')
      .select(['c.id', 'c.status', 'c.price_minor', 'c.channel_id'])
      .where('co.slug', '=', DEMO_COMMUNITY.slug)
      .where('c.title', '=', DEMO_COURSE.title)
      .execute();
    expect(courses).toHaveLength(1);
    const course = courses[0]!;
    expect(course).toMatchObject({ status: 'published', price_minor: 0 });
    const lessons = await q
      .selectFrom('course_lessons as l')
      .innerJoin('course_modules as m', 'm.id', 'l.module_id')
      .select(['m.title as module', 'l.id', 'l.kind', 'l.release_type', 'l.release_days', 'l.asset_id'])
      .where('l.course_id', '=', course.id)
      .orderBy('m.position')
      .orderBy('l.position')
      .execute();
    expect(new Set(lessons.map((l) => l.module)).size).toBe(2);
    expect(lessons.map((l) => l.kind)).toEqual(['text', 'text', 'file', 'quiz', 'text', 'text']);
    expect(lessons.at(-1)).toMatchObject({ release_type: 'afterEnrolment', release_days: 7 });
    // The study guide is a stored PDF (whichever seeding run created the course stored it).
    const file = lessons.find((l) => l.kind === 'file')!;
    if (file.asset_id) {
      const asset = await q.selectFrom('assets').select(['status', 'mime', 'storage_key']).where('id', '=', file.asset_id).executeTakeFirstOrThrow();
      expect(asset).toMatchObject({ status: 'ready', mime: 'application/pdf' });
      if (stored.size) expect(stored.get(asset.storage_key)!.subarray(0, 5).toString()).toBe('%PDF-');
    }

    const learnerEmail = DEMO_ACCOUNTS.find((a) => a.communityRole === 'member')!.email;
    const progress = await q
      .selectFrom('users as u')
      .innerJoin('course_enrolments as e', 'e.user_id', 'u.id')
      .select((eb) => [
        eb.selectFrom('lesson_progress as p').whereRef('p.user_id', '=', 'u.id').where('p.course_id', '=', course.id).where('p.completed_at', 'is not', null).select(sql<number>`count(*)::int`.as('n')).as('completed'),
        eb.selectFrom('entitlements as en').whereRef('en.user_id', '=', 'u.id').where('en.resource_id', '=', course.id).where('en.revoked_at', 'is', null).select(sql<number>`count(*)::int`.as('n')).as('entitled'),
        eb.selectFrom('channel_members as cm').whereRef('cm.user_id', '=', 'u.id').where('cm.channel_id', '=', course.channel_id).select(sql<number>`count(*)::int`.as('n')).as('in_channel'),
      ])
      .where('u.email', '=', learnerEmail)
      .where('e.course_id', '=', course.id)
      .executeTakeFirstOrThrow();
    expect(progress).toEqual({ completed: 2, entitled: 1, in_channel: 1 });

    const ebooks = await q
      .selectFrom('ebooks as b')
      .select((eb) => ['b.status', 'b.price_minor', eb.selectFrom('ebook_chapters as ch').whereRef('ch.ebook_id', '=', 'b.id').select(sql<number>`count(*)::int`.as('n')).as('chapters')])
      .where('b.title', '=', DEMO_EBOOK.title)
      .execute();
    expect(ebooks).toEqual([{ status: 'published', price_minor: 0, chapters: 3 }]);
  });

  it('seeds a priced course with its half-price coupon, so a first run can show buying', async () => {
    await seedDemoData(orm.em.fork());
    const q = db(orm.em.fork());
    const rows = await q
      .selectFrom('courses as c')
      .innerJoin('coupons as k', 'k.product_id', 'c.id')
      .select(['c.status', 'c.price_minor', 'c.currency', 'k.code', 'k.percent_off', 'k.seller_id', 'c.owner_id', 'k.active'])
      .where('c.title', '=', DEMO_PAID_COURSE.title)
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'published', price_minor: 2900, currency: 'EUR', code: 'WELCOME50', percent_off: 50, active: true });
    expect(rows[0]!.seller_id).toBe(rows[0]!.owner_id);
  });
});
