import { readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchAsset, sampleJpegWithExif, sampleMp4, uploadAsset, uploadRaw } from '../../test/assetFactories.ts';
import { call, ok, registerUsers } from '../../test/factories.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';
import { startLocalS3, type LocalS3 } from '../../test/s3Server.ts';

let s3: LocalS3;
let node: RunningNode;

beforeAll(async () => {
  s3 = await startLocalS3();
  node = await startNode({ env: s3.env });
});
afterAll(async () => {
  await node?.close();
  await s3?.close();
});

describe('assets stored in an S3-compatible bucket', () => {
  it('an upload lands in the bucket (nothing on local disk) and is served through signed URLs with ranges', async () => {
    expect(node.node.deps.media.storage.name).toBe('s3');
    const [user] = await registerUsers(node.url, 1);
    const video = sampleMp4(3000);
    const asset = await uploadAsset(node, user, { name: 'lecture.mp4', bytes: video, type: 'video/mp4' });
    expect(await node.node.deps.media.storage.head(`${asset.id}/original`)).toEqual({ byteSize: video.length });
    const dataDir = path.dirname(path.dirname(node.node.deps.media.tempDir));
    expect(await readdir(dataDir)).not.toContain('assets');
    expect(await readdir(node.node.deps.media.tempDir)).toEqual([]);

    const whole = await fetchAsset(node, asset.url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('video/mp4');
    expect(whole.bytes.equals(video)).toBe(true);
    const part = await fetchAsset(node, asset.url, { range: 'bytes=10-29' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-29/${video.length}`);
    expect(part.bytes.equals(video.subarray(10, 30))).toBe(true);

    const photo = await uploadAsset(node, user, { name: 'photo.jpg', bytes: await sampleJpegWithExif() });
    const thumbnail = await fetchAsset(node, photo.thumbnailUrl!);
    expect((await sharp(thumbnail.bytes).metadata()).format).toBe('webp');
    expect((await sharp((await fetchAsset(node, photo.url)).bytes).metadata()).exif).toBeUndefined();

    await ok(call(node, 'DELETE', `/assets/${asset.id}`, user), 204);
    expect(await node.node.deps.media.storage.head(`${asset.id}/original`)).toBeNull();
    expect((await uploadRaw(node, user, { name: 'x.svg', bytes: Buffer.from('<svg/>') })).status).toBe(400);
  });
});
