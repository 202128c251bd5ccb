import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_ROLES } from '../../contracts/auth.ts';
import { openOrm, type Orm } from '../../orm/database.ts';
import { db, type Db } from '../../orm/db.ts';
import { testDatabaseUrl } from '../../test/db.ts';
import type { Actor } from '../shared/deps.ts';
import { loadCaseAccess, ModerationCasePolicy, visibleCaseIds } from './moderationCase.ts';

/*
 * Parity: who sees a moderation case is written twice, as ModerationCasePolicy.see over one loaded case and as the
 * visibleCaseIds predicate the queue lists with. Every actor below — each community role (or none) in one community,
 * times each platform role — looks at a case in that community and at a case in a community they do not belong to,
 * and both halves must give the same answer, the one the rule states.
 */

const ROLES = ['none', 'member', 'moderator', 'admin', 'owner'] as const;
const WHERE = ['mine', 'other'] as const;

/** The rule as stated: the community's moderators and up, and platform moderators and admins everywhere. */
const expected = (role: (typeof ROLES)[number], platform: Actor['role'], where: (typeof WHERE)[number]) =>
  platform === 'moderator' || platform === 'admin' || (where === 'mine' && (role === 'moderator' || role === 'admin' || role === 'owner'));

let orm: Orm;
let q: Db;
const tag = randomBytes(4).toString('hex');
const communities = { mine: crypto.randomUUID(), other: crypto.randomUUID() };
const caseIds = { mine: crypto.randomUUID(), other: crypto.randomUUID() };
const actors: { role: (typeof ROLES)[number]; actor: Actor }[] = [];

beforeAll(async () => {
  orm = await openOrm(await testDatabaseUrl(), { poolMax: 2 });
  q = db(orm.em.fork());
  for (const role of ROLES)
    for (const platform of PLATFORM_ROLES) actors.push({ role, actor: { userId: crypto.randomUUID(), sessionId: crypto.randomUUID(), role: platform } });
  const author = crypto.randomUUID();

  await q
    .insertInto('users')
    .values(
      [...actors.map((a) => ({ id: a.actor.userId, role: a.actor.role })), { id: author, role: 'user' as const }].map((u, i) => ({
        id: u.id,
        email: `case-parity-${tag}-${i}@example.test`,
        password_hash: 'not a hash',
        display_name: `Case parity ${i}`,
        role: u.role,
      })),
    )
    .execute();
  await q
    .insertInto('communities')
    .values(WHERE.map((where) => ({ id: communities[where], slug: `case-parity-${tag}-${where}`, name: `Case parity ${where}` })))
    .execute();
  await q
    .insertInto('community_members')
    .values(actors.flatMap(({ role, actor }) => (role === 'none' ? [] : [{ community_id: communities.mine, user_id: actor.userId, role }])))
    .execute();
  await q
    .insertInto('moderation_cases')
    .values(
      WHERE.map((where) => ({ id: caseIds[where], community_id: communities[where], target_type: 'user' as const, target_id: author, target_user_id: author })),
    )
    .execute();
});
afterAll(async () => {
  await orm?.close(true);
});

describe('who sees a moderation case: ModerationCasePolicy.see and visibleCaseIds agree', () => {
  it.each(ROLES.flatMap((role) => PLATFORM_ROLES.flatMap((platform) => WHERE.map((where) => ({ role, platform, where })))))(
    'community role $role, platform role $platform, case in $where community',
    async ({ role, platform, where }) => {
      const { actor } = actors.find((a) => a.role === role && a.actor.role === platform)!;
      const access = await loadCaseAccess(q, actor, caseIds[where]);
      expect(access).not.toBeNull();
      const byPolicy = ModerationCasePolicy.see(actor, access!);
      const listed = await visibleCaseIds(q, actor).where('k.id', '=', caseIds[where]).execute();
      const byPredicate = listed.length === 1;
      expect({ byPolicy, byPredicate }).toEqual({ byPolicy: expected(role, platform, where), byPredicate: expected(role, platform, where) });
    },
  );
});
