import { afterAll, beforeAll } from 'vitest';
import { connectSocket, type ClientSocket, type TestUser } from './factories.ts';
import { startCluster, type RunningNode } from './nodes.ts';

/**
 * Two nodes sharing one Redis for the enclosing `describe` (started before its tests, closed after), and sockets opened
 * on either that are closed with them. Use inside `describe.skipIf(!inject('redisUrl'))`.
 */
export function twoNodes() {
  let cluster: Awaited<ReturnType<typeof startCluster>> | undefined;
  const sockets: ClientSocket[] = [];
  beforeAll(async () => {
    cluster = await startCluster(2);
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await cluster?.close();
  });
  const node = (index: 0 | 1): RunningNode => {
    if (!cluster) throw new Error('the cluster starts in beforeAll');
    return cluster.nodes[index]!;
  };
  return {
    get nodeA() {
      return node(0);
    },
    get nodeB() {
      return node(1);
    },
    /** A signed-in socket of `user` on `node`, closed after the tests. */
    async socketOn(on: RunningNode, user: TestUser): Promise<ClientSocket> {
      const socket = await connectSocket(on.url, user.accessToken);
      sockets.push(socket);
      return socket;
    },
  };
}
