import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssetDto } from '../../contracts/media.ts';
import { db } from '../../orm/db.ts';
import { samplePdf, samplePng, sampleMp4, uploadAsset } from '../../test/assetFactories.ts';
import { registerUsers, type TestUser } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';
import { AppError } from '../shared/errors.ts';
import { assetDtos, attachAssets, readAssetBytes } from './assets.ts';

let node: RunningNode;
let owner: TestUser;
let other: TestUser;
let image: AssetDto;
let pdf: AssetDto;
let othersPdf: AssetDto;
let pendingId: string;

beforeAll(async () => {
  node = await startNode();
  [owner, other] = await registerUsers(node.url, 2);
  image = await uploadAsset(node, owner, { name: 'cover.png', bytes: await samplePng(120, 90) });
  pdf = await uploadAsset(node, owner, { name: 'handout.pdf', bytes: samplePdf() });
  othersPdf = await uploadAsset(node, other, { name: 'theirs.pdf', bytes: samplePdf() });
  pendingId = crypto.randomUUID();
  await dbOf(node)
    .insertInto('assets')
    .values({ id: pendingId, owner_id: owner.user.id, kind: 'video', mime: 'video/mp4', storage_key: `${pendingId}/original` })
    .execute();
});
afterAll(async () => {
  await node?.close();
});

const deps = () => node.node.deps;
/** Runs `attachAssets` in a transaction of its own, as a caller's operation would. */
const attach = (input: Parameters<typeof attachAssets>[2]) =>
  node.node.orm.em.fork().transactional((tx) => attachAssets(deps(), db(tx), input));
const refusal = async (promise: Promise<unknown>) => {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
};

describe('attachAssets', () => {
  it('marks my ready assets attached (once: a second attach keeps the first time) and returns their rows in order', async () => {
    const at = new Date('2026-12-01T10:00:00Z');
    const rows = await attach({ ownerId: owner.user.id, assetIds: [pdf.id, image.id, pdf.id], at });
    expect(rows.map((r) => r.id)).toEqual([pdf.id, image.id]);
    expect(rows.every((r) => r.attached_at?.getTime() === at.getTime())).toBe(true);
    const again = await attach({ ownerId: owner.user.id, assetIds: [image.id], kinds: ['image'], at: new Date('2026-12-02T10:00:00Z') });
    expect(again[0]!.attached_at).toEqual(at);
    expect(await attach({ ownerId: owner.user.id, assetIds: [], at })).toEqual([]);
  });

  it("refuses someone else's asset, a pending one, an unknown or malformed id, and the wrong kind — attaching none", async () => {
    const at = new Date();
    const fresh = await uploadAsset(node, owner, { name: 'fresh.mp4', bytes: sampleMp4() });
    const cases: [readonly string[], RegExp, Parameters<typeof attachAssets>[2]['kinds']?][] = [
      [[fresh.id, othersPdf.id], new RegExp(`Asset ${othersPdf.id} is not one of your uploads`)],
      [[fresh.id, pendingId], new RegExp(`Asset ${pendingId} is still uploading`)],
      [[crypto.randomUUID()], /is not one of your uploads/],
      [['../etc/passwd'], /is not an asset id/],
      [[fresh.id], new RegExp(`Asset ${fresh.id} is a video; an image is needed here`), ['image']],
      [[fresh.id], /a pdf or an epub is needed here/, ['pdf', 'epub']],
    ];
    for (const [assetIds, message, kinds] of cases) {
      const err = await refusal(attach({ ownerId: owner.user.id, assetIds, at, ...(kinds ? { kinds } : {}) }));
      expect(err.code).toBe('invalid_input');
      expect(err.message).toMatch(message);
    }
    const row = await dbOf(node).selectFrom('assets').select('attached_at').where('id', '=', fresh.id).executeTakeFirstOrThrow();
    expect(row.attached_at).toBeNull();
  });

  it('with ownerId null (staff or system use), any ready asset; still never a pending one', async () => {
    const rows = await attach({ ownerId: null, assetIds: [othersPdf.id], kinds: ['pdf'], at: new Date() });
    expect(rows[0]!.owner_id).toBe(other.user.id);
    expect((await refusal(attach({ ownerId: null, assetIds: [pendingId], at: new Date() }))).code).toBe('invalid_input');
  });

  it("rolls back with the caller's transaction", async () => {
    const fresh = await uploadAsset(node, owner, { name: 'rollback.pdf', bytes: samplePdf() });
    await node.node.orm.em
      .fork()
      .transactional(async (tx) => {
        await attachAssets(deps(), db(tx), { ownerId: owner.user.id, assetIds: [fresh.id], at: new Date() });
        throw new Error('the caller fails after attaching');
      })
      .catch(() => {});
    const row = await dbOf(node).selectFrom('assets').select('attached_at').where('id', '=', fresh.id).executeTakeFirstOrThrow();
    expect(row.attached_at).toBeNull();
  });
});

describe('assetDtos', () => {
  it('DTOs of the ready assets asked for, with fresh signed URLs; pending and unknown ids are absent', async () => {
    const dtos = await assetDtos(deps(), dbOf(node), [image.id, pdf.id, pendingId, crypto.randomUUID(), 'nope']);
    expect([...dtos.keys()].sort()).toEqual([image.id, pdf.id].sort());
    expect(dtos.get(image.id)).toMatchObject({ kind: 'image', width: 120, height: 90, name: 'cover.png', byteSize: image.byteSize });
    expect(dtos.get(image.id)!.thumbnailUrl).toMatch(/\/thumbnail\?exp=/);
    expect(dtos.get(pdf.id)!.thumbnailUrl).toBeNull();
    const res = await fetch(node.url + dtos.get(pdf.id)!.url);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(samplePdf())).toBe(true);
    const downloads = await assetDtos(deps(), dbOf(node), [pdf.id], { download: true });
    expect(downloads.get(pdf.id)!.url).toMatch(/&download=1$/);
  });
});

describe('readAssetBytes', () => {
  it('the stored bytes with their type; too large → payload_too_large; pending or unknown → not_found', async () => {
    const read = await readAssetBytes(deps(), pdf.id, 1_000_000);
    expect(read).toMatchObject({ mime: 'application/pdf', kind: 'pdf' });
    expect(read.bytes.equals(samplePdf())).toBe(true);
    expect((await refusal(readAssetBytes(deps(), pdf.id, 10))).code).toBe('payload_too_large');
    expect((await refusal(readAssetBytes(deps(), pendingId, 1_000_000))).code).toBe('not_found');
    expect((await refusal(readAssetBytes(deps(), crypto.randomUUID(), 1_000_000))).code).toBe('not_found');
  });
});
