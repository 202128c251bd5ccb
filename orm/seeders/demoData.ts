import type { EntityManager } from '@mikro-orm/postgresql';
import type { PlatformRole } from '../../contracts/auth.ts';
import { hashPassword } from '../../domain/auth/passwords.ts';
import { seedDemoActivity } from './demoActivity.ts';
import { seedDemoCourses, type PutDemoFile } from './demoCourses.ts';
import { Channel, ChannelMember, Classroom, ClassroomRegistration, Community, CommunityMember, User, type IUser } from '../entities/index.ts';

export interface DemoAccount {
  email: string;
  password: string;
  displayName: string;
  role: PlatformRole;
  communityRole: 'owner' | 'admin' | 'moderator' | 'member';
}

/** Known credentials for local exploration only; every row is marked is_demo. */
export const DEMO_ACCOUNTS: readonly DemoAccount[] = [
  { email: 'learner@demo.edulure.test', password: 'learn-with-edulure', displayName: 'Demo Learner', role: 'user', communityRole: 'member' },
  { email: 'instructor@demo.edulure.test', password: 'teach-with-edulure', displayName: 'Demo Instructor', role: 'instructor', communityRole: 'owner' },
  { email: 'moderator@demo.edulure.test', password: 'keep-edulure-kind', displayName: 'Demo Moderator', role: 'moderator', communityRole: 'moderator' },
  { email: 'admin@demo.edulure.test', password: 'run-edulure-well', displayName: 'Demo Admin', role: 'admin', communityRole: 'admin' },
];

export const DEMO_COMMUNITY = {
  slug: 'demo-academy',
  name: 'Edulure Demo Academy',
  description: 'A sample learning community to explore Edulure: chat, live classes and more.',
  channels: [
    { name: 'general', topic: 'Say hello and talk about anything course-related.', visibility: 'public' },
    { name: 'introductions', topic: 'New here? Tell us what you are learning.', visibility: 'public' },
    { name: 'study-hall', topic: 'Work together, ask for help, share notes.', visibility: 'public' },
    { name: 'staff-room', topic: 'Instructors and moderators only.', visibility: 'private' },
  ],
} as const;

/**
 * Inserts the demo accounts, the demo community, its class, course and ebook where missing; returns the accounts it
 * created. `putFile` stores the demo course's study guide in the asset storage (without it the file lesson has no file).
 * Safe to run repeatedly.
 */
export async function seedDemoData(em: EntityManager, options: { putFile?: PutDemoFile } = {}): Promise<DemoAccount[]> {
  const created: DemoAccount[] = [];
  const users = new Map<DemoAccount, IUser>();
  for (const account of DEMO_ACCOUNTS) {
    const existing = await em.findOne(User, { email: account.email });
    if (existing) {
      users.set(account, existing);
      continue;
    }
    const user = em.create(User, {
      email: account.email,
      passwordHash: await hashPassword(account.password),
      displayName: account.displayName,
      role: account.role,
      emailVerifiedAt: new Date(),
      isDemo: true,
    });
    users.set(account, user);
    created.push(account);
  }
  if (!(await em.count(Community, { slug: DEMO_COMMUNITY.slug }))) {
    const owner = [...users].find(([a]) => a.communityRole === 'owner')![1];
    const community = em.create(Community, {
      slug: DEMO_COMMUNITY.slug,
      name: DEMO_COMMUNITY.name,
      description: DEMO_COMMUNITY.description,
      visibility: 'public',
      createdBy: owner,
      isDemo: true,
    });
    for (const [account, user] of users) em.create(CommunityMember, { community, user, role: account.communityRole });
    for (const spec of DEMO_COMMUNITY.channels) {
      const channel = em.create(Channel, { community, kind: 'channel', name: spec.name, topic: spec.topic, visibility: spec.visibility, createdBy: owner });
      if (spec.visibility === 'private') {
        for (const [account, user] of users) if (account.communityRole !== 'member') em.create(ChannelMember, { channel, user });
      }
    }
  }
  await em.flush();
  await seedDemoClassroom(em);
  await seedDemoCourses(em, {
    communitySlug: DEMO_COMMUNITY.slug,
    instructorEmail: DEMO_ACCOUNTS.find((a) => a.communityRole === 'owner')!.email,
    learnerEmail: DEMO_ACCOUNTS.find((a) => a.communityRole === 'member')!.email,
    putFile: options.putFile,
  });
  await seedDemoActivity(em, { communitySlug: DEMO_COMMUNITY.slug, accounts: DEMO_ACCOUNTS });
  return created;
}

export const DEMO_CLASSROOM = {
  title: 'Welcome live class: how Edulure works',
  description: 'A short live tour: raise your hand, come on stage, answer a poll and chat with the class.',
  durationMinutes: 45,
  capacity: 30,
} as const;

/**
 * One upcoming class in the demo community, hosted by the demo instructor (owner), with the demo learner registered.
 * Scheduled for the next full hour a day ahead, so it shows under upcoming classes.
 */
async function seedDemoClassroom(em: EntityManager): Promise<void> {
  const community = await em.findOne(Community, { slug: DEMO_COMMUNITY.slug });
  if (!community || (await em.count(Classroom, { community }))) return;
  const owner = await em.findOne(CommunityMember, { community, role: 'owner' }, { orderBy: { joinedAt: 'asc' } });
  const learnerAccount = DEMO_ACCOUNTS.find((a) => a.communityRole === 'member')!;
  const learner = await em.findOne(User, { email: learnerAccount.email });
  if (!owner || !learner) return;
  const host = owner.user;
  const channel = em.create(Channel, { community, kind: 'classroom', name: null, visibility: 'private', createdBy: host });
  const classroom = em.create(Classroom, {
    community,
    host,
    channel,
    title: DEMO_CLASSROOM.title,
    description: DEMO_CLASSROOM.description,
    startsAt: new Date(Math.ceil((Date.now() + 24 * 3600_000) / 3600_000) * 3600_000),
    durationMinutes: DEMO_CLASSROOM.durationMinutes,
    capacity: DEMO_CLASSROOM.capacity,
  });
  em.create(ChannelMember, { channel, user: host });
  em.create(ClassroomRegistration, { classroom, user: learner, status: 'registered' });
  await em.flush();
}
