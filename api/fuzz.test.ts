import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../test/factories.ts';
import { checkNormalClient, fuzzRest, Tally } from '../test/fuzzRun.ts';
import { buildWorld, FUZZ_NODE_ENV, type FuzzWorld } from '../test/fuzzTargets.ts';
import { startNode, type RunningNode } from '../test/nodes.ts';

/**
 * A fast, fixed-seed slice of the fuzz run (`npm run fuzz` sends the full ≥ 10,000): generated malformed requests to
 * every operation of the OpenAPI document — mutated valid bodies, queries and path ids, wrong types, unicode edge
 * cases, prototype keys, deep nesting, malformed JSON, wrong content types, no or forged tokens. Every answer is a
 * success or a 4xx in the error shape; none is a 5xx or a hang, and the node serves a normal client afterwards.
 */

let node: RunningNode;
let world: FuzzWorld;

beforeAll(async () => {
  node = await startNode({ env: FUZZ_NODE_ENV });
  world = await buildWorld(node);
});
afterAll(async () => node?.close());

describe('REST fuzzing (fixed seed)', { timeout: 120_000 }, () => {
  it('answers every generated request with a success or a clean 4xx', async () => {
    const tally = new Tally();
    const operations = await fuzzRest(node.url, world, { seed: 20261216, perEvent: 0, perOperation: 10, handshakes: 0, timeoutMs: 15_000, concurrency: 3 }, tally);
    expect(operations).toBeGreaterThan(150);
    expect(tally.sent).toBe(operations * 10);
    expect(tally.findings, tally.report()).toEqual([]);
    expect((await api(node.url, 'GET', '/health/live')).status).toBe(200);
    await checkNormalClient(node.url);
  });
});
