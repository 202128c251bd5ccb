import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedWorld } from '../../test/communities.ts';
import type { TestUser } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';
import type { Actor } from '../shared/deps.ts';
import { getModerationSettings, updateModerationSettings } from './settings.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => node?.close());

const actorOf = (u: TestUser): Actor => ({ userId: u.user.id, sessionId: u.sessionId, role: 'user' });

async function community() {
  const { communityId, channels, admin } = await seedWorld(node, { people: { admin: 'admin' }, channels: [{ name: 'a' }, { name: 'b' }] });
  return { communityId, channels, admin: actorOf(admin) };
}

describe('moderation settings', () => {
  it('changes only what the input names; the same word in another case or accent is one entry', async () => {
    const { communityId, channels, admin } = await community();
    const deps = node.node.deps;
    await updateModerationSettings(deps, admin, communityId, { wordFilter: { words: ['Café', 'cafe', 'CAFÉ', 'tea'], mode: 'block' } });
    await updateModerationSettings(deps, admin, communityId, { newMemberLinkLimit: 0 });
    await updateModerationSettings(deps, admin, communityId, { slowMode: { [channels.a]: 15 } });
    expect(await getModerationSettings(deps, admin, communityId)).toEqual({
      communityId,
      wordFilter: { words: ['Café', 'tea'], mode: 'block' },
      slowMode: { [channels.a]: 15 },
      newMemberLinkLimit: 0,
    });
    const cleared = await updateModerationSettings(deps, admin, communityId, {
      wordFilter: { words: [], mode: 'flag' },
      newMemberLinkLimit: null,
      slowMode: { [channels.a]: 0 },
    });
    expect(cleared).toEqual({ communityId, wordFilter: { words: [], mode: 'flag' }, slowMode: {}, newMemberLinkLimit: null });
  });

  it('concurrent changes apply one after another: each audit entry starts where the previous one ended', async () => {
    const { communityId, channels, admin } = await community();
    const deps = node.node.deps;
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        updateModerationSettings(deps, admin, communityId, i % 2 ? { slowMode: { [channels.b]: i } } : { newMemberLinkLimit: i }),
      ),
    );
    const entries = await dbOf(node)
      .selectFrom('moderation_audit')
      .select(['before', 'after'])
      .where('community_id', '=', communityId)
      .where('action', '=', 'settings')
      .orderBy('id')
      .execute();
    expect(entries).toHaveLength(6);
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.before).toEqual(entries[i - 1]!.after);
    expect(entries.at(-1)!.after).toEqual(await getModerationSettings(deps, admin, communityId));
  });
});
