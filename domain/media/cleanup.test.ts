import { existsSync } from 'node:fs';
import { utimes, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samplePdf, samplePng, uploadAsset } from '../../test/assetFactories.ts';
import { registerUsers } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';
import { manualClock } from '../shared/time.ts';
import { presentAsset } from './assets.ts';
import { assetCleanupJob, cleanUpAssets } from './cleanup.ts';

const HOUR = 3_600_000;
const clock = manualClock();
let node: RunningNode;

beforeAll(async () => {
  node = await startNode({ clock });
});
afterAll(async () => {
  await node?.close();
});

const ids = async (userId: string) =>
  (await dbOf(node).selectFrom('assets').select('id').where('owner_id', '=', userId).execute()).map((r) => r.id).sort();

describe('the asset clean-up job', () => {
  it('is scheduled once for the cluster, under one job key', async () => {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from graphile_worker.jobs where key = 'assets.cleanup' and task_identifier = 'assets.cleanup'
    `.execute(dbOf(node));
    expect(rows[0]!.n).toBe(1);
    // Running it queues the next run under the same key (still one).
    await assetCleanupJob(node.node.deps)();
    const again = await sql<{ n: number }>`select count(*)::int as n from graphile_worker.jobs where key = 'assets.cleanup'`.execute(dbOf(node));
    expect(again.rows[0]!.n).toBe(1);
  });

  it('removes unattached uploads after a day and abandoned pending ones after hours, with their stored objects', async () => {
    const [user] = await registerUsers(node.url, 1);
    const { storage, tempDir } = node.node.deps.media;
    const unused = await uploadAsset(node, user, { name: 'unused.png', bytes: await samplePng() });
    const used = await uploadAsset(node, user, { name: 'used.pdf', bytes: samplePdf() });
    await dbOf(node).updateTable('assets').set({ attached_at: clock.now() }).where('id', '=', used.id).execute();
    // An upload that crashed midway: a pending row and part of its object.
    const crashed = crypto.randomUUID();
    await dbOf(node)
      .insertInto('assets')
      .values({ id: crashed, owner_id: user.user.id, kind: 'video', mime: 'video/mp4', storage_key: `${crashed}/original`, created_at: clock.now() })
      .execute();
    await storage.put(`${crashed}/original`, Readable.from([Buffer.from('half a video')]), { byteSize: 12, contentType: 'video/mp4' });
    const spooled = path.join(tempDir, `${crashed}.upload`);
    await writeFile(spooled, 'half a video');

    // Two hours on: nothing is old enough yet.
    clock.advance(2 * HOUR);
    expect((await cleanUpAssets(node.node.deps)).spoolFiles).toBe(0);
    expect(await ids(user.user.id)).toEqual([unused.id, used.id, crashed].sort());
    expect(existsSync(spooled)).toBe(true);

    // Four hours on: the abandoned upload (row, object and spool file) goes; the unused ready one stays for a day.
    clock.advance(2 * HOUR);
    // Spool files are judged by their file time (the system clock's).
    await utimes(spooled, new Date(), new Date(Date.now() - 4 * HOUR));
    // (Counts are at least: the worker's database may hold other test files' leftovers.)
    const swept = await cleanUpAssets(node.node.deps);
    expect(swept.removed).toBeGreaterThanOrEqual(1);
    expect(swept.spoolFiles).toBe(1);
    expect(await ids(user.user.id)).toEqual([unused.id, used.id].sort());
    expect(await storage.head(`${crashed}/original`)).toBeNull();
    expect(existsSync(spooled)).toBe(false);

    // A day on: the unused asset and its thumbnail go; the attached one stays.
    clock.advance(21 * HOUR);
    expect((await cleanUpAssets(node.node.deps)).removed).toBeGreaterThanOrEqual(1);
    expect(await ids(user.user.id)).toEqual([used.id]);
    expect(await storage.head(`${unused.id}/original`)).toBeNull();
    expect(await storage.head(`${unused.id}/thumbnail`)).toBeNull();
    expect(await storage.head(`${used.id}/original`)).toEqual({ byteSize: used.byteSize });
    const usedRow = await dbOf(node).selectFrom('assets').selectAll().where('id', '=', used.id).executeTakeFirstOrThrow();
    expect((await fetch(node.url + presentAsset(node.node.deps, usedRow, clock.now()).url)).status).toBe(200);
  });
});
