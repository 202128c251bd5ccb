import { describe, expect, it } from 'vitest';
import { AppError } from '../shared/errors.ts';
import { parseRange } from './delivery.ts';
import { classifyUpload, displayName } from './fileTypes.ts';
import { createUrlSigner, deriveUrlSecrets } from './signing.ts';

describe('parseRange', () => {
  const size = 1000;
  it.each([
    [undefined, { kind: 'whole' }],
    ['bytes=0-99', { kind: 'partial', range: { start: 0, end: 99 } }],
    ['bytes=990-', { kind: 'partial', range: { start: 990, end: 999 } }],
    ['bytes=-10', { kind: 'partial', range: { start: 990, end: 999 } }],
    ['bytes=-5000', { kind: 'partial', range: { start: 0, end: 999 } }],
    ['bytes=500-5000', { kind: 'partial', range: { start: 500, end: 999 } }],
    ['bytes=1000-', { kind: 'unsatisfiable' }],
    ['bytes=-0', { kind: 'unsatisfiable' }],
    ['bytes=9-3', { kind: 'whole' }],
    ['bytes=0-1,4-5', { kind: 'whole' }],
    ['pages=1-2', { kind: 'whole' }],
    ['bytes=-', { kind: 'whole' }],
  ] as const)('%s', (header, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });
});

describe('URL signing', () => {
  it('verifies its own signatures, with any secret of the ring, and nothing else', () => {
    const [current, previous] = deriveUrlSecrets(['a'.repeat(40), 'b'.repeat(40)]);
    const signer = createUrlSigner([current!, previous!]);
    const sig = signer.sign('m');
    expect(signer.verify('m', sig)).toBe(true);
    expect(signer.verify('n', sig)).toBe(false);
    expect(signer.verify('m', sig + 'A')).toBe(false);
    expect(signer.verify('m', sig.slice(0, -1))).toBe(false);
    expect(signer.verify('m', '')).toBe(false);
    // After rotation, URLs signed with the old first key still verify.
    expect(createUrlSigner([previous!]).verify('m', createUrlSigner([previous!, current!]).sign('m'))).toBe(true);
    expect(createUrlSigner([previous!]).verify('m', sig)).toBe(false);
    // Derived, never the shared secret itself.
    expect(current!.equals(Buffer.from('a'.repeat(40)))).toBe(false);
  });
});

describe('upload names and types', () => {
  it.each([
    ['../../etc/passwd.png', 'passwd.png'],
    ['C:\\Users\\me\\cv.pdf', 'cv.pdf'],
    ['..', 'file'],
    ['.hidden', 'hidden'],
    ['a\u0000b\u202Ec.txt', 'abc.txt'],
    [undefined, 'file'],
    ['é'.repeat(300), 'é'.repeat(255)],
  ])('display name of %j is %j', (raw, expected) => {
    expect(displayName(raw)).toBe(expected);
  });

  const refused = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(AppError);
      return (err as AppError).message;
    }
    throw new Error('not refused');
  };

  it('maps sniffed types to kinds and refuses the rest', () => {
    expect(classifyUpload('image/png', Buffer.alloc(8), 'x.jpg')).toEqual({ kind: 'image', mime: 'image/png' });
    expect(classifyUpload('audio/x-m4a', Buffer.alloc(8), 'x')).toEqual({ kind: 'audio', mime: 'audio/mp4' });
    expect(classifyUpload('application/epub+zip', Buffer.from('<html>'), 'b.epub')).toEqual({ kind: 'epub', mime: 'application/epub+zip' });
    expect(classifyUpload(undefined, Buffer.from('a,b\n1,2\n'), 'data.CSV')).toEqual({ kind: 'file', mime: 'text/csv' });
    expect(classifyUpload(undefined, Buffer.from('notes'), 'README')).toEqual({ kind: 'file', mime: 'text/plain' });
    expect(refused(() => classifyUpload('application/xml', Buffer.alloc(0), 'x.svg'))).toMatch(/SVG/);
    expect(refused(() => classifyUpload('image/tiff', Buffer.alloc(0), 'x.tif'))).toMatch(/tiff, which is not accepted/);
    expect(refused(() => classifyUpload('application/pdf', Buffer.from('%PDF-1.4 <script>'), 'x.pdf'))).toMatch(/polyglot/);
    expect(refused(() => classifyUpload(undefined, Buffer.from('<!DOCTYPE html>'), 'x.txt'))).toMatch(/markup/);
    expect(refused(() => classifyUpload(undefined, Buffer.from('alert(1)'), 'x.js'))).toMatch(/ends in \.js/);
    expect(refused(() => classifyUpload(undefined, Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x42, 0x43, 0x44, 0x45]), 'x.txt'))).toMatch(/could not be recognised/);
  });
});
