import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCommunity } from '../../test/communities.ts';
import { call, registerUser } from '../../test/factories.ts';
import { startNode, statementsDuring, type RunningNode } from '../../test/nodes.ts';
import { createCommunityIdsReader } from '../presence/communityPresence.ts';
import { createSessionAuthenticator } from './sessions.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => {
  await node?.close();
});

describe('socket handshakes checked together', () => {
  it('reads the sessions of the handshakes of a moment in one statement, and judges each token on its own', async () => {
    const users = await Promise.all(Array.from({ length: 24 }, () => registerUser(node.url)));
    for (const u of users.slice(0, 2)) expect((await call(node, 'POST', '/auth/logout', u)).status).toBe(204);
    // Handshakes of one moment: their tokens' signatures checked beforehand (really), so that all 24 reach the session
    // read in the same turn — verification resolves on the crypto thread pool, a turn apart under a busy machine.
    const { deps } = node.node;
    const claims = new Map(await Promise.all(users.map(async (u) => [u.accessToken, await deps.tokens.verifyAccessToken(u.accessToken)] as const)));
    const tokens = Object.create(deps.tokens) as typeof deps.tokens;
    tokens.verifyAccessToken = async (token: string) => claims.get(token)!;
    const authenticator = createSessionAuthenticator({ ...deps, tokens });
    let outcomes: string[] = [];
    const statements = await statementsDuring(
      node,
      async () => {
        outcomes = await Promise.all(
          users.map((u) =>
            authenticator.authenticate(u.accessToken).then(
              ({ actor, displayName }) => `${actor.userId}:${displayName}`,
              (err: { code?: string }) => err.code ?? 'thrown',
            ),
          ),
        );
      },
      { ownContextOnly: true },
    );
    expect(outcomes.slice(0, 2)).toEqual(['unauthenticated', 'unauthenticated']);
    expect(outcomes.slice(2)).toEqual(users.slice(2).map((u) => `${u.user.id}:${u.user.displayName}`));
    expect(statements.filter((q) => /from "sessions"/.test(q))).toHaveLength(1);
  });

  it("reads the communities of the handshakes of a moment in one statement, each person's own", async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => registerUser(node.url)));
    const a = await seedCommunity(node, { members: users.slice(0, 4).map((u) => ({ userId: u.user.id })), channels: [] });
    const b = await seedCommunity(node, { members: users.slice(2, 5).map((u) => ({ userId: u.user.id })), channels: [] });
    const read = createCommunityIdsReader(node.node.orm);
    let ids: string[][] = [];
    const statements = await statementsDuring(node, async () => (ids = await Promise.all(users.map((u) => read(u.user.id)))), { ownContextOnly: true });
    expect(ids.map((list) => [...list].sort())).toEqual([
      [a.communityId],
      [a.communityId],
      [a.communityId, b.communityId].sort(),
      [a.communityId, b.communityId].sort(),
      [b.communityId],
      [],
    ]);
    expect(statements).toHaveLength(1);
  });
});
