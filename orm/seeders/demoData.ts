import type { EntityManager } from '@mikro-orm/postgresql';
import type { PlatformRole } from '../../contracts/auth.ts';
import { hashPassword } from '../../domain/auth/passwords.ts';
import { User } from '../entities/index.ts';

export interface DemoAccount {
  email: string;
  password: string;
  displayName: string;
  role: PlatformRole;
}

/** Known credentials for local exploration only; every row is marked is_demo. */
export const DEMO_ACCOUNTS: readonly DemoAccount[] = [
  { email: 'learner@demo.edulure.test', password: 'learn-with-edulure', displayName: 'Demo Learner', role: 'user' },
  { email: 'instructor@demo.edulure.test', password: 'teach-with-edulure', displayName: 'Demo Instructor', role: 'instructor' },
  { email: 'moderator@demo.edulure.test', password: 'keep-edulure-kind', displayName: 'Demo Moderator', role: 'moderator' },
  { email: 'admin@demo.edulure.test', password: 'run-edulure-well', displayName: 'Demo Admin', role: 'admin' },
];

/** Inserts the demo accounts that are missing; returns the ones it created. Safe to run repeatedly. */
export async function seedDemoData(em: EntityManager): Promise<DemoAccount[]> {
  const created: DemoAccount[] = [];
  for (const account of DEMO_ACCOUNTS) {
    if (await em.count(User, { email: account.email })) continue;
    em.create(User, {
      email: account.email,
      passwordHash: await hashPassword(account.password),
      displayName: account.displayName,
      role: account.role,
      emailVerifiedAt: new Date(),
      isDemo: true,
    });
    created.push(account);
  }
  await em.flush();
  return created;
}
