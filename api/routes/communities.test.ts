import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommunityDto, InviteDto, MemberDto } from '../../contracts/communities.ts';
import { addMemberAs, createCommunityAs, expectNoEmails, uniqueLabel } from '../../test/communityFactories.ts';
import { call, registerUser, registerUsers, type TestUser } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => node?.close());


describe('POST /communities', () => {
  it('creates a community whose creator is the owner, with a slug derived from the name and suffixed on a clash', async () => {
    const owner = await registerUser(node.url);
    const name = `Crème Brûlée & Co ${uniqueLabel()}`;
    const first = await call(node, 'POST', '/communities', owner, { name, description: ' Desserts ', visibility: 'public' });
    expect(first.status).toBe(201);
    const community: CommunityDto = first.body.community;
    expect(community).toMatchObject({ name, description: 'Desserts', visibility: 'public', memberCount: 1, myRole: 'owner' });
    expect(community.slug).toMatch(/^creme-brulee-co-c-[0-9a-f]{8}$/);

    const second = await call(node, 'POST', '/communities', owner, { name, visibility: 'private' });
    const third = await call(node, 'POST', '/communities', owner, { name: name.toUpperCase(), visibility: 'public' });
    expect(second.body.community.slug).toBe(`${community.slug}-2`);
    expect(third.body.community.slug).toBe(`${community.slug}-3`);
  });

  it('gives unique slugs to communities created concurrently with the same name', async () => {
    const owner = await registerUser(node.url);
    const name = `Race ${uniqueLabel()}`;
    const results = await Promise.all(Array.from({ length: 6 }, () => call(node, 'POST', '/communities', owner, { name, visibility: 'public' })));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(201));
    expect(new Set(results.map((r) => r.body.community.slug)).size).toBe(6);
  });

  it('validates input and requires authentication', async () => {
    const owner = await registerUser(node.url);
    const bad = await call(node, 'POST', '/communities', owner, { name: 'ab', visibility: 'secret' });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.details.fields).sort()).toEqual(['name', 'visibility']);
    expect((await call(node, 'POST', '/communities', undefined, { name: 'Valid name', visibility: 'public' })).status).toBe(401);
  });
});

describe('GET /communities and /communities/:id', () => {
  it("lists public communities and the caller's private ones, never others' private ones", async () => {
    const alice = await registerUser(node.url);
    const bob = await registerUser(node.url);
    const tag = uniqueLabel('vis');
    const pub = await createCommunityAs(node.url, alice, { name: `${tag} open`, visibility: 'public' });
    const priv = await createCommunityAs(node.url, alice, { name: `${tag} secret`, visibility: 'private' });

    const forAlice = await call(node, 'GET', `/communities?q=${tag}`, alice);
    expect(forAlice.body.data.map((c: CommunityDto) => c.id)).toEqual([pub.id, priv.id]);
    const forBob = await call(node, 'GET', `/communities?q=${tag}`, bob);
    expect(forBob.body.data).toEqual([{ ...pub, myRole: null }]);

    expect((await call(node, 'GET', `/communities/${priv.id}`, bob)).status).toBe(404);
    expect((await call(node, 'GET', `/communities/${priv.id}`, alice)).body.community).toEqual(priv);
    expect((await call(node, 'GET', `/communities/${crypto.randomUUID()}`, alice)).status).toBe(404);
    expect((await call(node, 'GET', '/communities/not-a-uuid', alice)).status).toBe(400);
  });

  it('searches names case-insensitively and treats LIKE wildcards literally', async () => {
    const alice = await registerUser(node.url);
    const tag = uniqueLabel('srch');
    const hit = await createCommunityAs(node.url, alice, { name: `${tag} 100% Rust_Lang` });
    await createCommunityAs(node.url, alice, { name: `${tag} 1000 RustXLang` });
    const res = await call(node, 'GET', `/communities?q=${encodeURIComponent(`${tag.toUpperCase()} 100% rust_`)}`, alice);
    expect(res.body.data.map((c: CommunityDto) => c.id)).toEqual([hit.id]);
  });

  it('paginates by name with an opaque cursor: no duplicates or gaps while communities are created between pages', async () => {
    const alice = await registerUser(node.url);
    const tag = uniqueLabel('page');
    const created: CommunityDto[] = [];
    for (const letter of ['b', 'd', 'f', 'h', 'j', 'l', 'n']) created.push(await createCommunityAs(node.url, alice, { name: `${tag} ${letter}` }));

    const seen: CommunityDto[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await call(node, 'GET', `/communities?q=${tag}&limit=3${cursor ? `&cursor=${cursor}` : ''}`, alice);
      expect(res.status).toBe(200);
      seen.push(...res.body.data);
      cursor = res.body.nextCursor;
      if (pages === 0) {
        // Created between pages: one sorting before the cursor (never shown now), one after it (must show up).
        await createCommunityAs(node.url, alice, { name: `${tag} a` });
        created.push(await createCommunityAs(node.url, alice, { name: `${tag} m` }));
        // Same name as an existing one: the id breaks the tie deterministically.
        created.push(await createCommunityAs(node.url, alice, { name: `${tag} j` }));
      }
      pages++;
    } while (cursor);

    const ids = seen.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set(created.map((c) => c.id)));
    const names = seen.map((c) => c.name);
    expect(names).toEqual([...names].sort());
    expect(pages).toBe(3);
  });

  it('refuses a forged cursor with invalid_input', async () => {
    const alice = await registerUser(node.url);
    for (const cursor of ['garbage', Buffer.from('["x","not-a-uuid"]').toString('base64url')]) {
      const res = await call(node, 'GET', `/communities?cursor=${cursor}`, alice);
      expect(res.status).toBe(400);
      expect(res.body.error.details.fields).toHaveProperty('cursor');
    }
  });
});

describe('joining, invites and leaving', () => {
  it('joins public communities idempotently and refuses private ones without an invite', async () => {
    const owner = await registerUser(node.url);
    const joiner = await registerUser(node.url);
    const pub = await createCommunityAs(node.url, owner);
    const priv = await createCommunityAs(node.url, owner, { visibility: 'private' });

    const joined = await call(node, 'POST', `/communities/${pub.id}/join`, joiner);
    expect(joined.status).toBe(200);
    expect(joined.body.community).toMatchObject({ id: pub.id, myRole: 'member', memberCount: 2 });
    const again = await call(node, 'POST', `/communities/${pub.id}/join`, joiner);
    expect(again.body.community).toMatchObject({ myRole: 'member', memberCount: 2 });
    // The owner joining does not demote them.
    expect((await call(node, 'POST', `/communities/${pub.id}/join`, owner)).body.community.myRole).toBe('owner');

    const refused = await call(node, 'POST', `/communities/${priv.id}/join`, joiner);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toEqual({ code: 'forbidden', message: 'This community is invite only.' });
  });

  it('accepts an invite into a private community once per person, and refuses expired or used-up codes', async () => {
    const owner = await registerUser(node.url);
    const [a, b, c] = await Promise.all([registerUser(node.url), registerUser(node.url), registerUser(node.url)]);
    const priv = await createCommunityAs(node.url, owner, { visibility: 'private' });
    const invite = await call<InviteDto>(node, 'POST', `/communities/${priv.id}/invites`, owner);
    expect(invite.status).toBe(201);
    expect(invite.body.code).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const ttl = new Date(invite.body.expiresAt).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(7 * 86_400_000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(7 * 86_400_000);

    const accepted = await call(node, 'POST', `/invites/${invite.body.code}/accept`, a);
    expect(accepted.status).toBe(200);
    expect(accepted.body.community).toMatchObject({ id: priv.id, myRole: 'member', memberCount: 2 });
    expect((await call(node, 'GET', `/communities/${priv.id}`, a)).status).toBe(200);

    // Accepting again is harmless and does not use the invite up.
    await dbOf(node).updateTable('community_invites').set({ max_uses: 2 }).where('code', '=', invite.body.code).execute();
    expect((await call(node, 'POST', `/invites/${invite.body.code}/accept`, a)).status).toBe(200);
    expect((await call(node, 'POST', `/invites/${invite.body.code}/accept`, b)).status).toBe(200);
    const usedUp = await call(node, 'POST', `/invites/${invite.body.code}/accept`, c);
    expect(usedUp.status).toBe(409);
    expect(usedUp.body.error.message).toMatch(/used up/);

    const expiring = await call<InviteDto>(node, 'POST', `/communities/${priv.id}/invites`, owner);
    await dbOf(node).updateTable('community_invites').set({ expires_at: new Date(Date.now() - 1000) }).where('code', '=', expiring.body.code).execute();
    const expired = await call(node, 'POST', `/invites/${expiring.body.code}/accept`, c);
    expect(expired.status).toBe(409);
    expect(expired.body.error.message).toMatch(/expired/);

    expect((await call(node, 'POST', `/invites/NoSuchInviteCode123/accept`, c)).status).toBe(404);
    expect((await call(node, 'POST', `/invites/bad%20code/accept`, c)).status).toBe(400);
  });

  it('counts invite uses exactly under concurrent accepts', async () => {
    const owner = await registerUser(node.url);
    const people = await registerUsers(node.url, 5);
    const priv = await createCommunityAs(node.url, owner, { visibility: 'private' });
    const { body } = await call<InviteDto>(node, 'POST', `/communities/${priv.id}/invites`, owner);
    await dbOf(node).updateTable('community_invites').set({ max_uses: 3 }).where('code', '=', body.code).execute();
    const results = await Promise.all(people.map((p) => call(node, 'POST', `/invites/${body.code}/accept`, p)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 409, 409]);
    expect((await call(node, 'GET', `/communities/${priv.id}`, owner)).body.community.memberCount).toBe(4);
  });

  it('lets members leave, but not the last owner', async () => {
    const owner = await registerUser(node.url);
    const other = await registerUser(node.url);
    const community = await createCommunityAs(node.url, owner);
    await addMemberAs(node.url, community, owner, other);

    const lastOwner = await call(node, 'POST', `/communities/${community.id}/leave`, owner);
    expect(lastOwner.status).toBe(409);
    expect(lastOwner.body.error.message).toMatch(/last owner/);

    expect((await call(node, 'POST', `/communities/${community.id}/leave`, other)).status).toBe(204);
    expect((await call(node, 'POST', `/communities/${community.id}/leave`, other)).status).toBe(404);
    expect((await call(node, 'GET', `/communities/${community.id}`, other)).body.community.myRole).toBeNull();

    // With a second owner, the first may go.
    await addMemberAs(node.url, community, owner, other, 'owner');
    expect((await call(node, 'POST', `/communities/${community.id}/leave`, owner)).status).toBe(204);
  });

  it('never lets two owners leave at once and strand the community', async () => {
    const a = await registerUser(node.url);
    const b = await registerUser(node.url);
    const community = await createCommunityAs(node.url, a);
    await addMemberAs(node.url, community, a, b, 'owner');
    const results = await Promise.all([a, b].map((u) => call(node, 'POST', `/communities/${community.id}/leave`, u)));
    expect(results.map((r) => r.status).sort()).toEqual([204, 409]);
  });
});

describe('members and roles', () => {
  it('lists members with UserRefs only, paginated by join date without duplicates while people join', async () => {
    const owner = await registerUser(node.url);
    const community = await createCommunityAs(node.url, owner);
    const people = [owner];
    for (let i = 0; i < 4; i++) {
      const user = await registerUser(node.url);
      await addMemberAs(node.url, community, owner, user);
      people.push(user);
    }
    const seen: MemberDto[] = [];
    let cursor: string | null = null;
    let page = 0;
    do {
      const res: any = await call(node, 'GET', `/communities/${community.id}/members?limit=2${cursor ? `&cursor=${cursor}` : ''}`, owner);
      expect(res.status).toBe(200);
      expectNoEmails(res.body);
      seen.push(...res.body.data);
      cursor = res.body.nextCursor;
      if (page++ === 0) {
        const late = await registerUser(node.url);
        await addMemberAs(node.url, community, owner, late);
        people.push(late);
      }
    } while (cursor);
    expect(seen.map((m) => m.user.id)).toEqual(people.map((p) => p.user.id));
    expect(seen[0]).toEqual({ user: { id: owner.user.id, displayName: owner.user.displayName }, role: 'owner', joinedAt: expect.any(String) });
  });

  it('applies the role rules: owners set anything, admins only moderator/member below them, nobody demotes the last owner', async () => {
    const owner = await registerUser(node.url);
    const [admin, admin2, mod, member] = await registerUsers(node.url, 4);
    const community = await createCommunityAs(node.url, owner);
    await addMemberAs(node.url, community, owner, admin, 'admin');
    await addMemberAs(node.url, community, owner, admin2, 'admin');
    await addMemberAs(node.url, community, owner, mod, 'moderator');
    await addMemberAs(node.url, community, owner, member);
    const setRole = (actor: TestUser, target: TestUser, role: string) =>
      call(node, 'PATCH', `/communities/${community.id}/members/${target.user.id}`, actor, { role });

    const promoted = await setRole(admin, member, 'moderator');
    expect(promoted.status).toBe(200);
    expect(promoted.body.member).toMatchObject({ user: { id: member.user.id }, role: 'moderator' });
    expect((await setRole(admin, member, 'member')).status).toBe(200);
    expect((await setRole(admin, member, 'admin')).status).toBe(403);
    expect((await setRole(admin, admin2, 'member')).status).toBe(403);
    expect((await setRole(admin, owner, 'member')).status).toBe(403);
    expect((await setRole(mod, member, 'moderator')).status).toBe(403);
    expect((await setRole(member, member, 'admin')).status).toBe(403);

    const lastOwner = await setRole(owner, owner, 'admin');
    expect(lastOwner.status).toBe(409);
    expect(lastOwner.body.error.message).toMatch(/last owner/);
    // Transfer: promote someone to owner, then step down.
    expect((await setRole(owner, admin, 'owner')).status).toBe(200);
    expect((await setRole(owner, owner, 'admin')).status).toBe(200);
    expect((await setRole(admin, owner, 'member')).status).toBe(200);
    expect((await setRole(admin, admin, 'member')).status).toBe(409);

    expect((await setRole(admin, { user: { id: crypto.randomUUID() } } as TestUser, 'member')).status).toBe(404);
    expect((await setRole(admin, member, 'emperor')).status).toBe(400);
  });

  it('removes members by rank: moderators kick members, admins kick moderators, nobody kicks an equal or higher rank', async () => {
    const owner = await registerUser(node.url);
    const [admin, mod, mod2, member, member2] = await registerUsers(node.url, 5);
    const community = await createCommunityAs(node.url, owner);
    await addMemberAs(node.url, community, owner, admin, 'admin');
    await addMemberAs(node.url, community, owner, mod, 'moderator');
    await addMemberAs(node.url, community, owner, mod2, 'moderator');
    await addMemberAs(node.url, community, owner, member);
    await addMemberAs(node.url, community, owner, member2);
    const kick = (actor: TestUser, target: TestUser) => call(node, 'DELETE', `/communities/${community.id}/members/${target.user.id}`, actor);

    expect((await kick(member, member2)).status).toBe(403);
    expect((await kick(mod, mod2)).status).toBe(403);
    expect((await kick(mod, admin)).status).toBe(403);
    expect((await kick(admin, owner)).status).toBe(403);
    expect((await kick(mod, member)).status).toBe(204);
    expect((await kick(mod, member)).status).toBe(404);
    expect((await kick(admin, mod2)).status).toBe(204);
    expect((await kick(owner, admin)).status).toBe(204);
    // Removing yourself is leaving (and the last owner still cannot).
    expect((await kick(member2, member2)).status).toBe(204);
    expect((await kick(owner, owner)).status).toBe(409);

    const left = (await call(node, 'GET', `/communities/${community.id}/members`, owner)).body.data.map((m: MemberDto) => m.user.id);
    expect(left.sort()).toEqual([owner.user.id, mod.user.id].sort());
  });
});
