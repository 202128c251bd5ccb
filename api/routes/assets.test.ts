import { existsSync } from 'node:fs';
import http from 'node:http';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AssetDto, OwnedAssetEnvelope } from '../../contracts/media.ts';
import { assetDtos } from '../../domain/media/assets.ts';
import { manualClock } from '../../domain/shared/time.ts';
import {
  fetchAsset,
  sampleJpegWithExif,
  samplePdf,
  samplePng,
  sampleMp4,
  sampleWebm,
  uploadAsset,
  uploadRaw,
} from '../../test/assetFactories.ts';
import { withPlatformRole } from '../../test/classroomFactories.ts';
import { call, eventually, ok, registerUsers, type TestUser } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

const clock = manualClock();
let node: RunningNode;
let owner: TestUser;
let other: TestUser;
let dataDir: string;

beforeAll(async () => {
  node = await startNode({ clock });
  [owner, other] = await registerUsers(node.url, 2);
  // The node's own DATA_DIR (test/nodes.ts makes one per node): the spool is DATA_DIR/tmp/uploads.
  dataDir = path.resolve(node.node.deps.media.tempDir, '..', '..');
});
afterAll(async () => {
  await node?.close();
});

const rowOf = (id: string) => dbOf(node).selectFrom('assets').selectAll().where('id', '=', id).executeTakeFirst();
const expectRefused = async (res: { status: number; body: any }, status: number, code: string, message: RegExp) => {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.code).toBe(code);
  expect(res.body.error.message).toMatch(message);
};

describe('uploading images', () => {
  it('stores a PNG re-encoded, with its size, dimensions, hash and a WebP thumbnail, served inline and sandboxed', async () => {
    const png = await samplePng(64, 48);
    const asset = await uploadAsset(node, owner, { name: 'diagram.png', bytes: png, type: 'image/png' });
    expect(asset).toMatchObject({ kind: 'image', mime: 'image/png', name: 'diagram.png', width: 64, height: 48 });
    expect(asset.url).toMatch(new RegExp(`^/api/v1/assets/${asset.id}/content\\?exp=\\d+&sig=[A-Za-z0-9_-]+$`));
    expect(asset.thumbnailUrl).toMatch(new RegExp(`^/api/v1/assets/${asset.id}/thumbnail\\?`));

    const content = await fetchAsset(node, asset.url);
    expect(content.status).toBe(200);
    expect(content.headers.get('content-type')).toBe('image/png');
    expect(content.headers.get('x-content-type-options')).toBe('nosniff');
    expect(content.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    expect(content.headers.get('content-disposition')).toBe('inline; filename="diagram.png"');
    expect(content.headers.get('accept-ranges')).toBe('bytes');
    expect(content.bytes.length).toBe(asset.byteSize);
    expect((await sharp(content.bytes).metadata()).format).toBe('png');

    const thumbnail = await fetchAsset(node, asset.thumbnailUrl!);
    expect(thumbnail.status).toBe(200);
    expect(thumbnail.headers.get('content-type')).toBe('image/webp');
    expect((await sharp(thumbnail.bytes).metadata()).format).toBe('webp');

    const row = await rowOf(asset.id);
    expect(row).toMatchObject({ status: 'ready', owner_id: owner.user.id, storage_key: `${asset.id}/original`, thumbnail_key: `${asset.id}/thumbnail` });
    expect(row!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(row!.ready_at).toBeInstanceOf(Date);
    expect(row!.attached_at).toBeNull();
  });

  it('strips EXIF (camera, GPS) from a JPEG and turns it upright by its orientation first', async () => {
    const jpeg = await sampleJpegWithExif(80, 40);
    expect((await sharp(jpeg).metadata()).exif).toBeDefined();
    const asset = await uploadAsset(node, owner, { name: 'holiday.jpg', bytes: jpeg, type: 'image/jpeg' });
    // Orientation 6 (rotate 90°): the stored image is upright, so its sides swap.
    expect(asset).toMatchObject({ kind: 'image', mime: 'image/jpeg', width: 40, height: 80 });
    const content = await fetchAsset(node, asset.url);
    const meta = await sharp(content.bytes).metadata();
    expect(meta.format).toBe('jpeg');
    expect(meta.exif).toBeUndefined();
    expect(meta.orientation ?? 1).toBe(1);
    expect(content.bytes.includes(Buffer.from('EdulureCam'))).toBe(false);
  });

  it('judges the type from the content: a PNG named and declared as a PDF is stored as an image', async () => {
    const asset = await uploadAsset(node, owner, { name: 'notes.pdf', bytes: await samplePng(), type: 'application/pdf' });
    expect(asset).toMatchObject({ kind: 'image', mime: 'image/png', name: 'notes.pdf' });
  });
});

describe('uploading other kinds', () => {
  it('a PDF, an MP4 and a WebM, with no thumbnail or dimensions', async () => {
    const pdf = await uploadAsset(node, owner, { name: 'syllabus.pdf', bytes: samplePdf(), type: 'application/pdf' });
    expect(pdf).toMatchObject({ kind: 'pdf', mime: 'application/pdf', width: null, height: null, thumbnailUrl: null, byteSize: samplePdf().length });
    const mp4 = await uploadAsset(node, owner, { name: 'lecture.mp4', bytes: sampleMp4(), type: 'video/mp4' });
    expect(mp4).toMatchObject({ kind: 'video', mime: 'video/mp4', byteSize: sampleMp4().length });
    const webm = await uploadAsset(node, owner, { name: 'clip.webm', bytes: sampleWebm(), type: 'application/octet-stream' });
    expect(webm).toMatchObject({ kind: 'video', mime: 'video/webm' });
    const served = await fetchAsset(node, mp4.url);
    expect(served.bytes.equals(sampleMp4())).toBe(true);
    expect(served.headers.get('content-type')).toBe('video/mp4');
    expect(served.headers.get('etag')).toBe(`"${(await rowOf(mp4.id))!.sha256}"`);
  });

  it('plain text as .txt, .md and .csv, served as UTF-8 text', async () => {
    const md = await uploadAsset(node, owner, { name: 'README.md', bytes: Buffer.from('# Week 1\n\nRead *chapter 2*. Ünïcode ✓\n'), type: 'text/markdown' });
    expect(md).toMatchObject({ kind: 'file', mime: 'text/markdown' });
    const csv = await uploadAsset(node, owner, { name: 'grades.csv', bytes: Buffer.from('name,grade\nAda,A\n') });
    expect(csv).toMatchObject({ kind: 'file', mime: 'text/csv' });
    expect((await fetchAsset(node, md.url)).headers.get('content-type')).toBe('text/markdown; charset=utf-8');
  });
});

describe('refused uploads', () => {
  const refuse = async (name: string, bytes: Uint8Array, message: RegExp, type?: string) =>
    expectRefused(await uploadRaw(node, owner, { name, bytes, ...(type ? { type } : {}) }), 400, 'invalid_input', message);

  it('SVG (even named .png), HTML, markup in .txt, an executable, unknown binary, zero bytes', async () => {
    const svg = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>');
    await refuse('logo.svg', svg, /SVG/, 'image/svg+xml');
    await refuse('logo.png', svg, /SVG/, 'image/png');
    await refuse('bare.svg', Buffer.from('<svg onload="alert(1)"></svg>'), /markup/);
    await refuse('page.html', Buffer.from('<!doctype html><html><script>alert(1)</script></html>'), /markup/, 'text/html');
    await refuse('notes.txt', Buffer.from('hello\n<script>alert(1)</script>\n'), /markup/);
    await refuse('page.html', Buffer.from('just words'), /\.html/);
    const exe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(58), Buffer.from([0x80, 0, 0, 0]), Buffer.alloc(64), Buffer.from('PE\0\0'), Buffer.alloc(200)]);
    await refuse('setup.exe', exe, /x-msdownload, which is not accepted/);
    await refuse('blob.bin', Buffer.from([0, 1, 2, 3, 255, 254, 0, 0, 9]), /could not be recognised/);
    await refuse('empty.png', Buffer.alloc(0), /empty/);
  });

  it('a polyglot: a GIF header whose body is an HTML page', async () => {
    const polyglot = Buffer.concat([Buffer.from('GIF89a'), Buffer.from([1, 0, 1, 0, 0, 0, 0]), Buffer.from('<html><script>alert(document.cookie)</script></html>')]);
    await refuse('cat.gif', polyglot, /polyglot/, 'image/gif');
  });

  it('no file part, two files, a JSON body, no sign-in', async () => {
    const form = new FormData();
    form.append('title', 'no file here');
    const noFile = await fetch(`${node.url}/api/v1/assets`, { method: 'POST', headers: { authorization: `Bearer ${owner.accessToken}` }, body: form });
    await expectRefused({ status: noFile.status, body: await noFile.json() }, 400, 'invalid_input', /no file/);

    const png = await samplePng();
    await expectRefused(
      await uploadRaw(node, owner, [{ name: 'a.png', bytes: png }, { name: 'b.png', bytes: png }]),
      400,
      'invalid_input',
      /exactly one file/,
    );
    await expectRefused(await call(node, 'POST', '/assets', owner, { file: 'x' }), 400, 'invalid_input', /multipart\/form-data/);
    expect((await uploadRaw(node, null, { name: 'a.png', bytes: png })).status).toBe(401);
    // Nothing of the refused uploads was kept.
    const rows = await dbOf(node).selectFrom('assets').select(['original_name', 'status']).where('owner_id', '=', owner.user.id).execute();
    expect(rows.every((r) => r.status === 'ready')).toBe(true);
    expect(rows.map((r) => r.original_name)).not.toContain('a.png');
    expect(await readdir(path.join(dataDir, 'tmp', 'uploads'))).toEqual([]);
  });

  it('a name with a path in it is kept as a display name only; the stored key is generated', async () => {
    const asset = await uploadAsset(node, owner, { name: '../../etc/passwd.png', bytes: await samplePng(), type: 'image/png' });
    expect(asset.name).toBe('passwd.png');
    const row = await rowOf(asset.id);
    expect(row!.storage_key).toBe(`${asset.id}/original`);
    expect(existsSync(path.join(dataDir, 'assets', asset.id, 'original'))).toBe(true);
    expect(existsSync(path.join(dataDir, 'etc'))).toBe(false);
    expect(existsSync(path.resolve(dataDir, '..', 'etc', 'passwd.png'))).toBe(false);
    const download = await fetchAsset(node, asset.url);
    expect(download.headers.get('content-disposition')).toBe('inline; filename="passwd.png"');
    const weird = await uploadAsset(node, owner, { name: '..\\..\\\u202Egnp.exe', bytes: await samplePng() });
    expect(weird.name).toBe('gnp.exe');
  });
});

describe('size limits', () => {
  let small: RunningNode;
  beforeAll(async () => {
    small = await startNode({ env: { ASSET_MAX_BYTES: '20000', ASSET_IMAGE_MAX_BYTES: '4000' } });
  });
  afterAll(async () => {
    await small?.close();
  });

  it('over the limit for its kind → 413 payload_too_large, and nothing is kept', async () => {
    const [user] = await registerUsers(small.url, 1);
    const noisy = await sharp(Buffer.from(Array.from({ length: 48 * 48 * 3 }, (_, i) => (i * 7919) % 256)), { raw: { width: 48, height: 48, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    expect(noisy.length).toBeGreaterThan(4000);
    const image = await uploadRaw(small, user, { name: 'big.png', bytes: noisy });
    await expectRefused(image, 413, 'payload_too_large', /image is larger than 3\.9 KB/);
    // The same number of bytes as a PDF is within the general limit.
    await uploadAsset(small, user, { name: 'fine.pdf', bytes: samplePdf('%' + 'x'.repeat(noisy.length) + '\n') });
    const huge = await uploadRaw(small, user, { name: 'huge.pdf', bytes: samplePdf('%' + 'x'.repeat(30_000) + '\n') });
    await expectRefused(huge, 413, 'payload_too_large', /larger than/);
    const declaredHuge = await uploadRaw(small, user, { name: 'huge.mp4', bytes: sampleMp4(200_000) });
    await expectRefused(declaredHuge, 413, 'payload_too_large', /larger than 19\.5 KB/);
    const rows = await dbOf(small).selectFrom('assets').select(['original_name']).where('owner_id', '=', user.user.id).execute();
    expect(rows.map((r) => r.original_name)).toEqual(['fine.pdf']);
  });
});

describe('signed URLs', () => {
  let asset: AssetDto;
  beforeAll(async () => {
    asset = await uploadAsset(node, owner, { name: 'talk.mp4', bytes: sampleMp4(1000), type: 'video/mp4' });
  });

  it('work without sign-in until they expire on the domain clock', async () => {
    expect((await fetchAsset(node, asset.url)).status).toBe(200);
    const expiresAt = new Date(asset.urlExpiresAt).getTime();
    expect(expiresAt - clock.now().getTime()).toBeGreaterThanOrEqual(3600_000);
    const before = clock.now();
    try {
      clock.set(new Date(expiresAt + 1000));
      const expired = await fetchAsset(node, asset.url);
      expect(expired.status).toBe(403);
      expect(JSON.parse(expired.bytes.toString()).error).toEqual({ code: 'forbidden', message: expect.stringMatching(/expired/) });
    } finally {
      clock.set(before);
    }
  });

  it('refuse any change: signature, expiry, asset, variant, the download flag', async () => {
    const url = new URL(asset.url, node.url);
    const sig = url.searchParams.get('sig')!;
    const exp = url.searchParams.get('exp')!;
    const flipped = (sig[0] === 'A' ? 'B' : 'A') + sig.slice(1);
    const other = await uploadAsset(node, owner, { name: 'other.pdf', bytes: samplePdf() });
    const attempts = [
      `/api/v1/assets/${asset.id}/content?exp=${exp}&sig=${flipped}`,
      `/api/v1/assets/${asset.id}/content?exp=${Number(exp) + 3600}&sig=${sig}`,
      `/api/v1/assets/${other.id}/content?exp=${exp}&sig=${sig}`,
      `/api/v1/assets/${asset.id}/thumbnail?exp=${exp}&sig=${sig}`,
      `/api/v1/assets/${asset.id}/content?exp=${exp}&sig=${sig}&download=1`,
      `/api/v1/assets/${asset.id}/content?exp=${exp}`,
      `/api/v1/assets/${asset.id}/content`,
      `/api/v1/assets/${asset.id}/content?exp=${exp}&sig=${sig}=`,
    ];
    for (const attempt of attempts) {
      const res = await fetchAsset(node, attempt);
      expect(res.status, attempt).toBe(403);
      expect(JSON.parse(res.bytes.toString()).error.code).toBe('forbidden');
    }
  });

  it('download URLs are attachments with a safe file name', async () => {
    const named = await uploadAsset(node, owner, { name: 'Résumé; final\u202E.pdf', bytes: samplePdf() });
    expect(named.name).toBe('Résumé; final.pdf');
    const dto = (await assetDtos(node.node.deps, dbOf(node), [named.id], { download: true })).get(named.id)!;
    expect(dto.url).toMatch(/&download=1$/);
    const res = await fetchAsset(node, dto.url);
    expect(res.status).toBe(200);
    // An ASCII fallback for old clients, the exact name (RFC 5987) for the rest; the type stays the sniffed one.
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="R_sum_; final.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%3B%20final.pdf`);
    expect(res.headers.get('content-type')).toBe('application/pdf');
  });
});

describe('byte ranges (video seeking)', () => {
  let asset: AssetDto;
  let bytes: Buffer;
  beforeAll(async () => {
    bytes = sampleMp4(5000);
    asset = await uploadAsset(node, owner, { name: 'seek.mp4', bytes });
  });

  it('206 with Content-Range for a, a-b and -n; 416 past the end; malformed ranges get the whole file', async () => {
    const size = bytes.length;
    const part = await fetchAsset(node, asset.url, { range: 'bytes=100-199' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${size}`);
    expect(part.headers.get('content-length')).toBe('100');
    expect(part.bytes.equals(bytes.subarray(100, 200))).toBe(true);

    const tail = await fetchAsset(node, asset.url, { range: 'bytes=-10' });
    expect(tail.status).toBe(206);
    expect(tail.bytes.equals(bytes.subarray(size - 10))).toBe(true);

    const open = await fetchAsset(node, asset.url, { range: `bytes=${size - 3}-` });
    expect(open.headers.get('content-range')).toBe(`bytes ${size - 3}-${size - 1}/${size}`);
    expect(open.bytes.equals(bytes.subarray(size - 3))).toBe(true);

    const beyondEnd = await fetchAsset(node, asset.url, { range: `bytes=0-${size + 1000}` });
    expect(beyondEnd.status).toBe(206);
    expect(beyondEnd.bytes.equals(bytes)).toBe(true);

    const unsatisfiable = await fetchAsset(node, asset.url, { range: `bytes=${size}-` });
    expect(unsatisfiable.status).toBe(416);
    expect(unsatisfiable.headers.get('content-range')).toBe(`bytes */${size}`);

    for (const ignored of ['bytes=5-2', 'items=0-5', 'bytes=0-1,5-6', 'nonsense']) {
      const whole = await fetchAsset(node, asset.url, { range: ignored });
      expect(whole.status, ignored).toBe(200);
      expect(whole.bytes.equals(bytes)).toBe(true);
    }
    const head = await fetch(node.url + asset.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(size));
  });
});

describe('reading and deleting an asset record', () => {
  it('the owner and platform admins see it; anyone else (and anonymous) gets not_found or unauthenticated', async () => {
    const asset = await uploadAsset(node, owner, { name: 'mine.pdf', bytes: samplePdf() });
    const mine = await ok(call<OwnedAssetEnvelope>(node, 'GET', `/assets/${asset.id}`, owner));
    expect(mine.asset).toMatchObject({ id: asset.id, kind: 'pdf', attached: false });
    const res = await call(node, 'GET', `/assets/${asset.id}`, other);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('not_found');
    expect((await call(node, 'GET', `/assets/${asset.id}`, null)).status).toBe(401);
    const [someone] = await registerUsers(node.url, 1);
    const admin = await withPlatformRole(node, someone, 'admin');
    expect((await ok(call<OwnedAssetEnvelope>(node, 'GET', `/assets/${asset.id}`, admin))).asset.id).toBe(asset.id);
    expect((await call(node, 'GET', `/assets/not-a-uuid`, owner)).status).toBe(400);
  });

  it('the owner deletes an unattached asset with its bytes; others cannot; an attached one is a conflict', async () => {
    const asset = await uploadAsset(node, owner, { name: 'gone.png', bytes: await samplePng() });
    expect((await call(node, 'DELETE', `/assets/${asset.id}`, other)).status).toBe(404);
    expect((await call(node, 'DELETE', `/assets/${asset.id}`, owner)).status).toBe(204);
    expect(await rowOf(asset.id)).toBeUndefined();
    expect(existsSync(path.join(dataDir, 'assets', asset.id))).toBe(false);
    expect((await fetchAsset(node, asset.url)).status).toBe(404);
    expect((await call(node, 'GET', `/assets/${asset.id}`, owner)).status).toBe(404);

    const used = await uploadAsset(node, owner, { name: 'used.png', bytes: await samplePng() });
    await dbOf(node).updateTable('assets').set({ attached_at: new Date() }).where('id', '=', used.id).execute();
    const conflict = await call(node, 'DELETE', `/assets/${used.id}`, owner);
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.message).toMatch(/in use/);
  });
});

describe('an upload the client abandons midway', () => {
  it('leaves no asset (ready or pending) and no spooled file', async () => {
    const [quitter] = await registerUsers(node.url, 1);
    const boundary = '----edulure-abort-test';
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="long.mp4"\r\nContent-Type: video/mp4\r\n\r\n`,
    );
    const declaredFile = 2_000_000;
    const req = http.request(`${node.url}/api/v1/assets`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${quitter.accessToken}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(head.length + declaredFile + boundary.length + 8),
      },
    });
    req.on('error', () => {});
    req.write(head);
    // Past the sniffing window, so the pending row exists and the spool file is being written.
    req.write(sampleMp4(200_000));
    const pendingRows = () => dbOf(node).selectFrom('assets').select(['id', 'status']).where('owner_id', '=', quitter.user.id).execute();
    await eventually(async () => (await pendingRows()).some((r) => r.status === 'pending'), 5000, 'a pending row');
    expect((await readdir(path.join(dataDir, 'tmp', 'uploads'))).length).toBe(1);
    req.destroy();
    await eventually(async () => (await pendingRows()).length === 0, 5000, 'the pending row removed');
    await eventually(async () => (await readdir(path.join(dataDir, 'tmp', 'uploads'))).length === 0, 5000, 'the spool file removed');
    const [row] = await pendingRows();
    expect(row).toBeUndefined();
  });
});

describe('the upload route and non-file bodies', () => {
  it('a JSON body over the JSON limit → 413, declared or chunked; multipart elsewhere stays refused', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(1024 * 1024 + 1024) });
    for (const [method, url] of [['POST', '/api/v1/assets'], ['DELETE', `/api/v1/assets/${crypto.randomUUID()}`]] as const) {
      const declared = await fetch(node.url + url, {
        method,
        headers: { authorization: `Bearer ${owner.accessToken}`, 'content-type': 'application/json' },
        body: big,
      });
      expect(declared.status, `${method} ${url}`).toBe(413);
      const bytes = new TextEncoder().encode(big);
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.subarray(i, i + 64 * 1024));
          controller.close();
        },
      });
      const chunked = await fetch(node.url + url, {
        method,
        headers: { authorization: `Bearer ${owner.accessToken}`, 'content-type': 'application/json' },
        body: stream,
        duplex: 'half',
      } as RequestInit);
      expect(chunked.status, `${method} ${url} chunked`).toBe(413);
    }
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(await samplePng())]), 'a.png');
    const elsewhere = await fetch(`${node.url}/api/v1/assets/${crypto.randomUUID()}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${owner.accessToken}` },
      body: form,
    });
    expect(elsewhere.status).toBe(400);
  });
});
