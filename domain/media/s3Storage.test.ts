import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, S3RVER_CREDENTIALS, type LocalS3 } from '../../test/s3Server.ts';
import { createS3Storage } from './s3Storage.ts';
import type { AssetStorage } from './storage.ts';

let s3: LocalS3;
let storage: AssetStorage;
let multipartStorage: AssetStorage;

beforeAll(async () => {
  s3 = await startLocalS3();
  const config = { bucket: s3.bucket, endpoint: s3.endpoint, region: s3.region, credentials: S3RVER_CREDENTIALS, forcePathStyle: true };
  storage = createS3Storage(config);
  // Small parts, to take the multipart path with a small body (s3rver does not enforce AWS's 5 MiB minimum).
  multipartStorage = createS3Storage({ ...config, multipartThresholdBytes: 10_000, partSizeBytes: 4096 });
});
afterAll(async () => {
  await s3?.close();
});

const read = async (stream: Readable | null) => {
  if (!stream) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
};
/** A body that arrives in uneven chunks, as an upload does. */
const streamOf = (bytes: Buffer, chunk = 777) =>
  Readable.from((function* () {
    for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
  })());
const sample = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + 17) % 256));

describe('the S3 storage adapter (against s3rver)', () => {
  it('puts a streamed object, reads it whole and by range, heads and deletes it (idempotently)', async () => {
    const key = `${crypto.randomUUID()}/original`;
    const bytes = sample(5000);
    await storage.put(key, streamOf(bytes), { byteSize: bytes.length, contentType: 'video/mp4' });
    expect(await storage.head(key)).toEqual({ byteSize: 5000 });
    expect((await read(await storage.get(key)))!.equals(bytes)).toBe(true);
    expect((await read(await storage.get(key, { start: 1000, end: 1099 })))!.equals(bytes.subarray(1000, 1100))).toBe(true);
    expect((await read(await storage.get(key, { start: 4990, end: 4999 })))!.equals(bytes.subarray(4990))).toBe(true);
    await storage.delete(key);
    expect(await storage.head(key)).toBeNull();
    expect(await storage.get(key)).toBeNull();
    await storage.delete(key);
  });

  it('uploads a large body in parts, one part in memory at a time', async () => {
    const key = `${crypto.randomUUID()}/original`;
    const bytes = sample(23_456);
    await multipartStorage.put(key, streamOf(bytes, 1000), { byteSize: bytes.length, contentType: 'application/pdf' });
    expect(await multipartStorage.head(key)).toEqual({ byteSize: bytes.length });
    expect((await read(await multipartStorage.get(key)))!.equals(bytes)).toBe(true);
    await multipartStorage.delete(key);
  });

  it('stores nothing when the body is not the declared length', async () => {
    const key = `${crypto.randomUUID()}/original`;
    await expect(multipartStorage.put(key, streamOf(sample(15_000)), { byteSize: 20_000, contentType: 'application/pdf' })).rejects.toThrow();
    expect(await multipartStorage.head(key)).toBeNull();
  });

  it('refuses keys that are not ours', async () => {
    for (const key of ['../etc/passwd', 'x/original', `${crypto.randomUUID()}/../../x`, `${crypto.randomUUID()}/original/..`]) {
      await expect(storage.get(key)).rejects.toThrow(/not an asset storage key/);
    }
  });
});
