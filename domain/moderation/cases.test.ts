import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { moderationWorld, seedMessage, type ModerationWorld } from '../../test/moderationFactories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';
import { openAutomodCase } from './cases.ts';
import { loadCase } from './presenters.ts';

let node: RunningNode;
let world: ModerationWorld;

beforeAll(async () => {
  node = await startNode();
  world = await moderationWorld(node);
});
afterAll(async () => node?.close());

describe('openAutomodCase', () => {
  it('opens one case per target and merges later matches into it, words noted as the reason', async () => {
    const deps = node.node.deps;
    const messageId = await seedMessage(node, world.channelId, world.author.user.id, 'buy cheap pills');
    const target = { communityId: world.communityId, type: 'message' as const, id: messageId, authorId: world.author.user.id };
    await openAutomodCase(deps, target, ['pills']);
    await openAutomodCase(deps, target, ['Cheap', 'pills']);
    const q = dbOf(node);
    const rows = await q.selectFrom('moderation_cases').select('id').where('target_id', '=', messageId).execute();
    expect(rows).toHaveLength(1);
    const kase = await loadCase(q, rows[0]!.id);
    expect(kase).toMatchObject({
      status: 'open',
      reportCount: 0,
      reasons: { 'automod: cheap, pills': 1 },
      target: { type: 'message', id: messageId, body: 'buy cheap pills', author: { id: world.author.user.id }, channelId: world.channelId },
    });
  });

  it('never throws to its caller', async () => {
    const deps = node.node.deps;
    await expect(
      openAutomodCase(deps, { communityId: crypto.randomUUID(), type: 'post', id: crypto.randomUUID(), authorId: crypto.randomUUID() }, ['x']),
    ).resolves.toBeUndefined();
  });
});
