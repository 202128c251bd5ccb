import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_ROLES } from '../../contracts/auth.ts';
import { COMMUNITY_ROLES } from '../../contracts/communities.ts';
import { EBOOK_STATUSES } from '../../contracts/ebooks.ts';
import { openOrm, type Orm } from '../../orm/database.ts';
import { db } from '../../orm/db.ts';
import { testDatabaseUrl } from '../../test/db.ts';
import type { Actor } from '../shared/deps.ts';
import { EbookPolicy, loadEbookAccess, visibleEbookIds } from './ebook.ts';

/** Where the ebook lives: the platform, or a community of some kind. */
const PLACES = ['platform', 'public', 'private', 'archived'] as const;
const ROLES = [null, ...COMMUNITY_ROLES] as const;
/** How the viewer stands to one ebook. */
const RELATIONS = ['owner', 'entitled', 'revoked', 'none'] as const;

/*
 * Parity: EbookPolicy.view over the loaded access and the visibleEbookIds predicate agree on every case — where the
 * ebook lives × the viewer's role in that community × their platform role × ebook status × owner / entitled / refunded
 * / nothing (4 × 5 × 4 × 3 × 4 = 960 cases, the platform ones repeated under each role: membership elsewhere must not
 * matter). The matrix also pins the rules that matter most: drafts are seen by their authors only, entitlements outlive
 * unpublishing, a revoked entitlement is nothing.
 */
describe('ebook visibility: EbookPolicy.view over the loaded access and visibleEbookIds agree', () => {
  let orm: Orm;
  beforeAll(async () => {
    orm = await openOrm(await testDatabaseUrl(), { poolMax: 2 });
  });
  afterAll(async () => orm?.close(true));

  it('place × community role × platform role × status × relation', async () => {
    const q = db(orm.em.fork());
    const tag = randomBytes(4).toString('hex');
    const standings = PLACES.flatMap((place) =>
      ROLES.map((role, i) => ({
        place,
        role,
        i,
        communityId: place === 'platform' ? null : crypto.randomUUID(),
        // A platform ebook's viewer still belongs to some community with this role: it must not matter.
        memberOf: crypto.randomUUID(),
        viewerId: crypto.randomUUID(),
        ownerId: crypto.randomUUID(),
      })),
    );
    const cases = standings.flatMap((s) =>
      EBOOK_STATUSES.flatMap((status) => RELATIONS.map((relation) => ({ ...s, status, relation, ebookId: crypto.randomUUID() }))),
    );

    await q
      .insertInto('users')
      .values(
        standings.flatMap((s) =>
          [s.viewerId, s.ownerId].map((id, n) => ({
            id,
            email: `ebook-view-${tag}-${s.place}-${s.i}-${n}@example.test`,
            password_hash: 'not a hash',
            display_name: n ? 'Owner' : 'Viewer',
          })),
        ),
      )
      .execute();
    await q
      .insertInto('communities')
      .values(
        standings.map((s) => ({
          id: s.communityId ?? s.memberOf,
          slug: `ev-${tag}-${s.place}-${s.i}`,
          name: `Ebooks ${s.i}`,
          visibility: s.place === 'private' ? ('private' as const) : ('public' as const),
          archived_at: s.place === 'archived' ? new Date() : null,
        })),
      )
      .execute();
    await q
      .insertInto('community_members')
      .values(standings.filter((s) => s.role !== null).map((s) => ({ community_id: s.communityId ?? s.memberOf, user_id: s.viewerId, role: s.role! })))
      .execute();
    await q
      .insertInto('ebooks')
      .values(
        cases.map((c) => ({
          id: c.ebookId,
          community_id: c.communityId,
          owner_id: c.relation === 'owner' ? c.viewerId : c.ownerId,
          title: `${c.status} ${c.relation}`,
          author: 'Someone',
          status: c.status,
          published_at: c.status === 'draft' ? null : new Date(),
        })),
      )
      .execute();
    await q
      .insertInto('entitlements')
      .values(
        cases
          .filter((c) => c.relation === 'entitled' || c.relation === 'revoked')
          .map((c) => ({
            id: crypto.randomUUID(),
            user_id: c.viewerId,
            resource_type: 'ebook' as const,
            resource_id: c.ebookId,
            source: 'free' as const,
            revoked_at: c.relation === 'revoked' ? new Date() : null,
          })),
      )
      .execute();

    const caseIds = cases.map((c) => c.ebookId);
    const disagreements: string[] = [];
    const seen = { total: 0, visible: 0, draftsSeenByNonAuthors: 0 };
    for (const platformRole of PLATFORM_ROLES) {
      for (const standing of standings) {
        const actor: Actor = { userId: standing.viewerId, sessionId: '', role: platformRole };
        const visible = new Set((await visibleEbookIds(q, actor).where('e.id', 'in', caseIds).execute()).map((r) => r.id));
        for (const c of cases.filter((x) => x.viewerId === standing.viewerId)) {
          const access = await loadEbookAccess(q, actor.userId, c.ebookId);
          expect(access).not.toBeNull();
          const byPolicy = EbookPolicy.view(actor, access!);
          seen.total += 1;
          if (byPolicy) seen.visible += 1;
          if (byPolicy && c.status === 'draft' && !EbookPolicy.author(actor, access!) && !access!.entitled) seen.draftsSeenByNonAuthors += 1;
          if (byPolicy !== visible.has(c.ebookId)) {
            disagreements.push(`${c.place}/role:${c.role ?? 'none'}/platform:${platformRole}/${c.status}/${c.relation}: policy ${byPolicy}`);
          }
          // Reading needs an entitlement or authorship; a refund takes it away.
          const reads = EbookPolicy.read(actor, access!);
          expect(reads).toBe(c.relation === 'entitled' || EbookPolicy.author(actor, access!));
        }
      }
    }
    expect(disagreements).toEqual([]);
    expect(seen.total).toBe(PLATFORM_ROLES.length * cases.length);
    expect(seen.visible).toBeGreaterThan(0);
    expect(seen.visible).toBeLessThan(seen.total);
    expect(seen.draftsSeenByNonAuthors).toBe(0);
  });
});
