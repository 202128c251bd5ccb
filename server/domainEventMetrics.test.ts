import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, registerUsers } from '../test/factories.ts';
import { feedCommunity, postAs } from '../test/feedFactories.ts';
import { dbOf, startNode, type RunningNode } from '../test/nodes.ts';

/*
 * A listener added in composition alone: the per-event counter sees operations that know nothing about it.
 */

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => node?.close());

async function scrape(): Promise<string> {
  const res = await fetch(`${node.url}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

function domainEventCount(metrics: string, event: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`edulure_domain_events_total{event="${event}"} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('/metrics', () => {
  it('counts domain events by name as operations emit them', async () => {
    const [author] = await registerUsers(node.url, 1);
    const communityId = await feedCommunity(node, [{ user: author, role: 'owner' }]);
    const before = await scrape();

    const post = await postAs(node, author, communityId, 'Counting starts here');
    await postAs(node, author, communityId, 'And goes on');
    expect((await call(node, 'DELETE', `/posts/${post.id}`, author)).status).toBe(204);
    expect((await call(node, 'POST', '/auth/logout', author)).status).toBe(204);

    const after = await scrape();
    expect(domainEventCount(after, 'post.created') - domainEventCount(before, 'post.created')).toBe(2);
    expect(domainEventCount(after, 'post.deleted') - domainEventCount(before, 'post.deleted')).toBe(1);
    expect(domainEventCount(after, 'session.revoked') - domainEventCount(before, 'session.revoked')).toBe(1);
  });

  it('reports the jobs that failed for good (the dead letter)', async () => {
    const failedJobs = (metrics: string) => Number(/^edulure_jobs_failed (\d+)$/m.exec(metrics)?.[1]);
    const before = failedJobs(await scrape());
    expect(before).toBeGreaterThanOrEqual(0);

    // A job given up on (as after its last attempt), due later so no runner takes it first.
    const q = dbOf(node);
    const { rows } = await sql<{ id: number }>`
      select id from graphile_worker.permanently_fail_jobs(
        array[(graphile_worker.add_job('domain-event', '{}'::json, run_at => now() + interval '1 hour')).id],
        'the listener kept failing'
      )
    `.execute(q);
    try {
      expect(failedJobs(await scrape())).toBe(before + 1);
    } finally {
      await sql`select graphile_worker.complete_jobs(array[${rows[0]!.id}]::bigint[])`.execute(q);
    }
    expect(failedJobs(await scrape())).toBe(before);
  });
});
