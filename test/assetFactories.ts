import sharp from 'sharp';
import type { AuthResult } from '../contracts/auth.ts';
import type { AssetDto, AssetEnvelope } from '../contracts/media.ts';
import type { ApiResponse } from './factories.ts';
import type { RunningNode } from './nodes.ts';

/*
 * Uploading through the real API (multipart, as a browser sends it) and small sample files that the type sniffer
 * recognises. `uploadAsset` is the one to use from other features' tests: it fails the test unless the upload is stored.
 */

export interface UploadInput {
  /** The file name the client sends (only ever displayed). */
  name: string;
  bytes: Uint8Array;
  /** The part's declared Content-Type; the server ignores it and sniffs the content. */
  type?: string;
  /** The multipart field name (any works; `file` by convention). */
  field?: string;
}

/** POST /api/v1/assets with one file part; the response as it came. */
export async function uploadRaw(
  node: RunningNode | string,
  user: Pick<AuthResult, 'accessToken'> | null | undefined,
  files: UploadInput | UploadInput[],
): Promise<ApiResponse<any>> {
  const form = new FormData();
  for (const file of Array.isArray(files) ? files : [files]) {
    form.append(file.field ?? 'file', new Blob([new Uint8Array(file.bytes)], { type: file.type ?? 'application/octet-stream' }), file.name);
  }
  const headers: Record<string, string> = {};
  if (user?.accessToken) headers.authorization = `Bearer ${user.accessToken}`;
  const res = await fetch(`${typeof node === 'string' ? node : node.url}/api/v1/assets`, { method: 'POST', headers, body: form });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body, headers: res.headers };
}

/** Uploads a file as `user` and returns the stored asset (ready to attach); anything but 201 fails the test. */
export async function uploadAsset(
  node: RunningNode | string,
  user: Pick<AuthResult, 'accessToken'>,
  file: UploadInput,
): Promise<AssetDto> {
  const res = await uploadRaw(node, user, file);
  if (res.status !== 201) throw new Error(`upload of ${file.name} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return (res.body as AssetEnvelope).asset;
}

/** Fetches a signed asset URL (relative to the node) as bytes. */
export async function fetchAsset(node: RunningNode, url: string, headers: Record<string, string> = {}) {
  const res = await fetch(node.url + url, { headers });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** A PNG of `width`×`height` pixels. */
export function samplePng(width = 64, height = 48): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 80, b: 40 } } })
    .png()
    .toBuffer();
}

/** A JPEG carrying EXIF (camera make, GPS position, orientation 6 = rotate 90°) — what an upload must strip. */
export function sampleJpegWithExif(width = 80, height = 40): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 20, g: 120, b: 220 } } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .withExif({ IFD0: { Make: 'EdulureCam', Model: 'Secret Model 9' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1' } })
    .toBuffer();
}

/** A minimal PDF (file-type needs only its header). */
export function samplePdf(extra = ''): Buffer {
  return Buffer.from(`%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n${extra}trailer\n<< /Root 1 0 R >>\n%%EOF\n`);
}

const box = (type: string, payload: Buffer) => {
  const b = Buffer.alloc(8 + payload.length);
  b.writeUInt32BE(8 + payload.length);
  b.write(type, 4, 'latin1');
  payload.copy(b, 8);
  return b;
};

/** An MP4 container header (ftyp isom) followed by `payloadBytes` of media data: enough for the sniffer. */
export function sampleMp4(payloadBytes = 4096): Buffer {
  const ftyp = box('ftyp', Buffer.concat([Buffer.from('isom', 'latin1'), Buffer.alloc(4), Buffer.from('isommp41', 'latin1')]));
  const data = Buffer.alloc(payloadBytes);
  for (let i = 0; i < payloadBytes; i++) data[i] = (i * 31 + 7) % 251;
  return Buffer.concat([ftyp, box('mdat', data)]);
}

/** A WebM (EBML header with DocType webm) followed by filler. */
export function sampleWebm(payloadBytes = 1024): Buffer {
  const header = Buffer.from('1a45dfa39f4286810142f7810142f2810442f381084282847765626d42878104428581021853806701', 'hex');
  return Buffer.concat([header, Buffer.alloc(payloadBytes, 1)]);
}
