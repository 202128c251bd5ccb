import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { assertStorageKey, lengthMismatch, type AssetStorage } from './storage.ts';

export interface S3StorageConfig {
  bucket: string;
  /** Any S3-compatible endpoint (MinIO, R2, s3rver…); omit for AWS itself. */
  endpoint?: string;
  region: string;
  /** Omitted → the SDK's default chain (AWS_* variables, instance roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Path-style URLs (`endpoint/bucket/key`), which most self-hosted stores need. */
  forcePathStyle: boolean;
  /** Bodies above this go up as a multipart upload, one part in memory at a time. */
  multipartThresholdBytes?: number;
  /** At least 5 MiB on AWS (except the last part). */
  partSizeBytes?: number;
}

const MiB = 1024 * 1024;

/**
 * Assets in an S3-compatible bucket. A body of known length up to the threshold is one streamed PutObject; a larger one
 * is a multipart upload read from the stream one part at a time (lib-storage's Upload does the same; we keep to
 * client-s3). S3 publishes an object only when its PutObject or CompleteMultipartUpload succeeds, and an upload that
 * fails midway is aborted, so a reader never sees half an object.
 */
export function createS3Storage(config: S3StorageConfig): AssetStorage {
  const client = new S3Client({
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
    // Checksums only where the API requires them: streamed bodies with a default CRC trailer (aws-chunked) are not
    // understood by every S3-compatible store.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const Bucket = config.bucket;
  const threshold = config.multipartThresholdBytes ?? 64 * MiB;
  const partSize = config.partSizeBytes ?? 16 * MiB;

  const isMissing = (err: unknown) =>
    err instanceof S3ServiceException && (err.name === 'NoSuchKey' || err.name === 'NotFound' || err.$metadata.httpStatusCode === 404);

  async function multipart(Key: string, body: Readable, byteSize: number, contentType: string) {
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket, Key, ContentType: contentType }));
    if (!UploadId) throw new Error('S3 did not start the multipart upload');
    try {
      const parts: { ETag: string; PartNumber: number }[] = [];
      let total = 0;
      for await (const part of chunksOf(body, partSize)) {
        total += part.length;
        const PartNumber = parts.length + 1;
        const { ETag } = await client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: part, ContentLength: part.length }));
        parts.push({ ETag: ETag ?? '', PartNumber });
      }
      if (total !== byteSize) throw lengthMismatch(byteSize, total);
      await client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } }));
    } catch (err) {
      await client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => {});
      throw err;
    }
  }

  return {
    name: 's3',
    async put(key, body, { byteSize, contentType }) {
      assertStorageKey(key);
      if (byteSize > threshold) return multipart(key, body, byteSize, contentType);
      // With ContentLength the SDK streams the body as it is; S3 refuses a body of any other length.
      await client.send(new PutObjectCommand({ Bucket, Key: key, Body: body, ContentLength: byteSize, ContentType: contentType }));
    },
    async get(key, range) {
      assertStorageKey(key);
      try {
        const out = await client.send(
          new GetObjectCommand({ Bucket, Key: key, ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
        );
        return (out.Body as Readable | undefined) ?? null;
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
    },
    async head(key) {
      assertStorageKey(key);
      try {
        const out = await client.send(new HeadObjectCommand({ Bucket, Key: key }));
        return { byteSize: out.ContentLength ?? 0 };
      } catch (err) {
        if (isMissing(err)) return null;
        throw err;
      }
    },
    async delete(key) {
      assertStorageKey(key);
      await client.send(new DeleteObjectCommand({ Bucket, Key: key }));
    },
  };
}

/** Regroups a stream's chunks into buffers of `size` bytes (the last one shorter); one buffer is held at a time. */
async function* chunksOf(body: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    let rest = chunk;
    while (pendingBytes + rest.length >= size) {
      const take = size - pendingBytes;
      pending.push(rest.subarray(0, take));
      yield Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      rest = rest.subarray(take);
    }
    if (rest.length) {
      pending.push(rest);
      pendingBytes += rest.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}
