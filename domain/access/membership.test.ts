import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrm, type Orm } from '../../orm/database.ts';
import { db } from '../../orm/db.ts';
import { testDatabaseUrl } from '../../test/db.ts';
import { activeBar, assertNotBanned, barredAt, loadStandings, standingKey } from './membership.ts';

let orm: Orm;
beforeAll(async () => {
  orm = await openOrm(await testDatabaseUrl(), { poolMax: 2 });
});
afterAll(async () => orm?.close(true));

/** The domain clock's time in these cases: far from the database's own clock, so only `now` can decide. */
const now = new Date('2031-05-01T12:00:00.000Z');
const hour = 3_600_000;

describe('standings', () => {
  it('loads role and bar for many pairs in one statement, and judges bars on the domain clock alike in code and in SQL', async () => {
    const q = db(orm.em.fork());
    const tag = randomBytes(4).toString('hex');
    const bars = {
      none: undefined,
      bannedForGood: null,
      kickRunning: new Date(now.getTime() + hour),
      kickRunOut: new Date(now.getTime() - hour),
      kickEndingNow: now,
    } as const;
    const cases = Object.entries(bars).map(([name, until]) => ({ name, until, userId: crypto.randomUUID(), communityId: crypto.randomUUID() }));
    await q
      .insertInto('users')
      .values(cases.map((c) => ({ id: c.userId, email: `standing-${tag}-${c.name.toLowerCase()}@example.test`, password_hash: 'not a hash', display_name: c.name })))
      .execute();
    await q
      .insertInto('communities')
      .values(cases.map((c, i) => ({ id: c.communityId, slug: `s-${tag}-${i}`, name: c.name, visibility: i % 2 ? 'private' : 'public' })))
      .execute();
    await q
      .insertInto('community_bans')
      .values(cases.filter((c) => c.until !== undefined).map((c) => ({ community_id: c.communityId, user_id: c.userId, reason: c.name, expires_at: c.until })))
      .execute();
    // A kick that has run out leaves the person free to have joined again.
    const rejoined = cases.find((c) => c.name === 'kickRunOut')!;
    await q.insertInto('community_members').values({ community_id: rejoined.communityId, user_id: rejoined.userId, role: 'member' }).execute();

    const standings = await loadStandings(q, [...cases, { userId: cases[0]!.userId, communityId: crypto.randomUUID() }]);
    expect(standings.size).toBe(cases.length);
    const judged: Record<string, { inCode: boolean; inSql: boolean }> = {};
    for (const c of cases) {
      const standing = standings.get(standingKey(c.userId, c.communityId))!;
      const { inSql } = await q
        .selectNoFrom(sql<boolean>`${barredAt(c.userId, c.communityId, now)}`.as('inSql'))
        .executeTakeFirstOrThrow();
      judged[c.name] = { inCode: activeBar(standing, now) !== null, inSql };
    }
    expect(judged).toEqual({
      none: { inCode: false, inSql: false },
      bannedForGood: { inCode: true, inSql: true },
      kickRunning: { inCode: true, inSql: true },
      kickRunOut: { inCode: false, inSql: false },
      kickEndingNow: { inCode: false, inSql: false },
    });
    expect(standings.get(standingKey(rejoined.userId, rejoined.communityId))).toMatchObject({
      role: 'member',
      ban: { reason: 'kickRunOut', until: rejoined.until },
      archived: false,
    });

    // Joining is refused while a bar stands, with why and until when.
    const refusal = (name: string) => {
      const c = cases.find((x) => x.name === name)!;
      return assertNotBanned(orm.em.fork(), c.communityId, c.userId, now).then(
        () => null,
        (err: { code: string; details: unknown; retryAfter?: number }) => ({ code: err.code, details: err.details, retryAfter: err.retryAfter }),
      );
    };
    expect(await refusal('bannedForGood')).toEqual({ code: 'forbidden', details: { banned: true }, retryAfter: undefined });
    expect(await refusal('kickRunning')).toEqual({
      code: 'forbidden',
      details: { rejoinAfter: bars.kickRunning.toISOString() },
      retryAfter: 3600,
    });
    expect(await refusal('kickRunOut')).toBeNull();
    expect(await refusal('none')).toBeNull();
  });
});
