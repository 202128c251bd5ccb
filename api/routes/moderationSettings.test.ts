import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModerationSettingsEnvelope } from '../../contracts/moderation.ts';
import { withPlatformRole } from '../../test/classroomFactories.ts';
import { seedCommunity, seedWorld } from '../../test/communities.ts';
import { call, type TestUser } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => node?.close());

const path = (communityId: string) => `/communities/${communityId}/moderation/settings`;
const getAs = (user: TestUser | null, communityId: string) => call<ModerationSettingsEnvelope>(node, 'GET', path(communityId), user);
/** Answers either the settings or a refusal, so its body is left untyped. */
const patchAs = (user: TestUser, communityId: string, body: unknown) => call(node, 'PATCH', path(communityId), user, body);

async function world(visibility: 'public' | 'private' = 'public') {
  const main = await seedWorld(node, {
    visibility,
    people: {
      owner: 'owner',
      admin: 'admin',
      moderator: 'moderator',
      member: 'member',
      otherAdmin: null,
      platformModerator: null,
      platformAdmin: null,
    },
    channels: [{ name: 'general' }, { name: 'random' }],
  });
  const other = await seedCommunity(node, { members: [{ userId: main.otherAdmin.user.id, role: 'admin' }], channels: [{ name: 'elsewhere' }] });
  return {
    ...main,
    otherCommunityId: other.communityId,
    otherChannelId: other.channels.elsewhere,
    platformModerator: await withPlatformRole(node, main.platformModerator, 'moderator'),
    platformAdmin: await withPlatformRole(node, main.platformAdmin, 'admin'),
  };
}

const auditOf = (communityId: string) =>
  dbOf(node)
    .selectFrom('moderation_audit')
    .select(['actor_id', 'action', 'target_type', 'target_id', 'before', 'after'])
    .where('community_id', '=', communityId)
    .orderBy('id')
    .execute();

describe('GET|PATCH /communities/:id/moderation/settings', () => {
  it('moderators read, admins change; members, other communities and outsiders cannot', async () => {
    const w = await world();
    const defaults = { communityId: w.communityId, wordFilter: { words: [], mode: 'flag' }, slowMode: {}, newMemberLinkLimit: null };
    for (const reader of [w.owner, w.admin, w.moderator, w.platformModerator, w.platformAdmin]) {
      const res = await getAs(reader, w.communityId);
      expect(res.status).toBe(200);
      expect(res.body.settings).toEqual(defaults);
    }
    for (const refused of [w.member, w.otherAdmin]) {
      expect((await getAs(refused, w.communityId)).body).toMatchObject({ error: { code: 'forbidden' } });
    }

    const change = { wordFilter: { words: ['spoiler'], mode: 'block' } };
    for (const refused of [w.member, w.moderator, w.otherAdmin, w.platformModerator]) {
      const res = await patchAs(refused, w.communityId, change);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ error: { code: 'forbidden' } });
    }
    expect(await auditOf(w.communityId)).toEqual([]);
    for (const allowed of [w.admin, w.owner, w.platformAdmin]) {
      const res = await patchAs(allowed, w.communityId, change);
      expect(res.status).toBe(200);
      expect(res.body.settings).toMatchObject(change);
    }
    expect((await auditOf(w.communityId)).map((e) => e.actor_id)).toEqual([w.admin.user.id, w.owner.user.id, w.platformAdmin.user.id]);
    expect((await getAs(null, w.communityId)).status).toBe(401);
  });

  it('a private community does not exist for those outside it', async () => {
    const w = await world('private');
    expect((await getAs(w.otherAdmin, w.communityId)).status).toBe(404);
    expect((await patchAs(w.otherAdmin, w.communityId, { newMemberLinkLimit: 1 })).status).toBe(404);
    expect((await getAs(w.platformModerator, w.communityId)).status).toBe(200);
    expect((await patchAs(w.platformAdmin, w.communityId, { newMemberLinkLimit: 1 })).status).toBe(200);
    expect((await getAs(w.admin, crypto.randomUUID())).status).toBe(404);
  });

  it('records each change in the audit log with what the settings were before and after', async () => {
    const w = await world();
    const first = await patchAs(w.admin, w.communityId, { slowMode: { [w.channels.general]: 30 }, newMemberLinkLimit: 2 });
    expect(first.body.settings).toEqual({
      communityId: w.communityId,
      wordFilter: { words: [], mode: 'flag' },
      slowMode: { [w.channels.general]: 30 },
      newMemberLinkLimit: 2,
    });
    const second = await patchAs(w.owner, w.communityId, { slowMode: { [w.channels.general]: 0, [w.channels.random]: 5 } });
    expect(second.body.settings).toMatchObject({ slowMode: { [w.channels.random]: 5 }, newMemberLinkLimit: 2 });

    const entries = await auditOf(w.communityId);
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ actor_id: w.admin.user.id, action: 'settings', target_type: 'community', target_id: w.communityId });
    expect(entries[0]!.before).toMatchObject({ slowMode: {}, newMemberLinkLimit: null });
    expect(entries[0]!.after).toEqual(first.body.settings);
    expect(entries[1]!.before).toEqual(first.body.settings);
    expect(entries[1]!.after).toEqual(second.body.settings);
    expect((await getAs(w.moderator, w.communityId)).body.settings).toEqual(second.body.settings);
  });

  it("refuses slow mode for another community's channel, naming it, and changes nothing", async () => {
    const w = await world();
    const res = await patchAs(w.admin, w.communityId, {
      newMemberLinkLimit: 0,
      slowMode: { [w.channels.general]: 10, [w.otherChannelId]: 10 },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_input');
    expect(res.body.error.message).toContain(w.otherChannelId);
    expect(res.body.error.details.fields).toEqual({ [`slowMode.${w.otherChannelId}`]: 'Not a channel of this community.' });
    const other = await dbOf(node).selectFrom('channels').select('slow_mode_seconds').where('id', '=', w.otherChannelId).executeTakeFirstOrThrow();
    expect(other.slow_mode_seconds).toBe(0);
    expect((await getAs(w.admin, w.communityId)).body.settings).toMatchObject({ slowMode: {}, newMemberLinkLimit: null });
    expect(await auditOf(w.communityId)).toEqual([]);
  });

  it('validates the input', async () => {
    const w = await world();
    for (const bad of [
      {},
      { wordFilter: { words: ['x'], mode: 'shout' } },
      { wordFilter: { words: [''], mode: 'block' } },
      { slowMode: { 'not-a-uuid': 5 } },
      { slowMode: { [w.channels.general]: 99_999 } },
      { newMemberLinkLimit: -1 },
      { surprise: true },
    ]) {
      const res = await patchAs(w.admin, w.communityId, bad);
      expect(res.status, JSON.stringify(bad)).toBe(400);
      expect(res.body.error.code).toBe('invalid_input');
    }
  });
});
