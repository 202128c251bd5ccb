import type { AssetKind } from '../../contracts/media.ts';
import { AppError } from '../shared/errors.ts';

/*
 * What may be uploaded, judged from the bytes (file-type's magic numbers), never from the name or the declared
 * Content-Type. Anything not listed here is refused. A file whose name claims another type than its content is kept
 * as what its content is (a PNG named "notes.pdf" is an image). Markup is never accepted in any guise: SVG (it can
 * carry script), HTML, XML, and plain text that looks like markup; content is also served with nosniff and a sandbox
 * CSP, so a polyglot that slipped through (a PDF with HTML inside) still never runs as a page.
 *
 * The `file` kind is a small allow-list: ZIP archives and UTF-8 plain text named .txt, .md/.markdown or .csv.
 */

/** Sniffed media type → what we store and serve it as. */
const BINARY_TYPES: Record<string, { kind: AssetKind; mime: string }> = {
  'image/png': { kind: 'image', mime: 'image/png' },
  // Animated PNG: re-encoded as a still PNG (its first frame).
  'image/apng': { kind: 'image', mime: 'image/png' },
  'image/jpeg': { kind: 'image', mime: 'image/jpeg' },
  'image/webp': { kind: 'image', mime: 'image/webp' },
  'image/gif': { kind: 'image', mime: 'image/gif' },
  'video/mp4': { kind: 'video', mime: 'video/mp4' },
  'video/webm': { kind: 'video', mime: 'video/webm' },
  'audio/mpeg': { kind: 'audio', mime: 'audio/mpeg' },
  'audio/x-m4a': { kind: 'audio', mime: 'audio/mp4' },
  'audio/mp4': { kind: 'audio', mime: 'audio/mp4' },
  'audio/ogg': { kind: 'audio', mime: 'audio/ogg' },
  'audio/ogg; codecs=opus': { kind: 'audio', mime: 'audio/ogg' },
  'audio/wav': { kind: 'audio', mime: 'audio/wav' },
  'application/pdf': { kind: 'pdf', mime: 'application/pdf' },
  'application/epub+zip': { kind: 'epub', mime: 'application/epub+zip' },
  'application/zip': { kind: 'file', mime: 'application/zip' },
};

const TEXT_TYPES: Record<string, string> = {
  '': 'text/plain',
  txt: 'text/plain',
  text: 'text/plain',
  md: 'text/markdown',
  markdown: 'text/markdown',
  csv: 'text/csv',
};

/** The formats accepted, for messages. */
export const ACCEPTED_FORMATS = 'PNG, JPEG, WebP, GIF, MP4, WebM, MP3, M4A, Ogg, WAV, PDF, EPUB, ZIP, and UTF-8 .txt/.md/.csv text';

export interface Classified {
  kind: AssetKind;
  mime: string;
}

/** A type's plain name for a message: `image/svg+xml` → "svg+xml". */
const shortName = (mime: string) => mime.split('/')[1]?.split(';')[0] ?? mime;

/** Tags that make text a web page or a script in disguise. */
const MARKUP = /<\s*(!doctype|html|head|body|script|svg|iframe|object|embed|\?xml|meta|link|style|img|a\s|form|math)\b/i;

/**
 * A page or script inside a media file's first bytes: a polyglot made to be read as HTML. Archives (ZIP, EPUB) are
 * left out: their entries may legitimately be (X)HTML, and they are only ever served as downloads or read by us.
 */
const POLYGLOT = /<\s*(script|html|!doctype\s+html|svg|iframe|body)\b/i;

/**
 * Decides the kind and served type from the sniffed type (`detected`, from file-type; undefined when it knows none),
 * the first bytes and the file name. Throws `invalid_input` naming the problem.
 */
export function classifyUpload(detected: string | undefined, head: Buffer, name: string): Classified {
  if (detected) {
    const known = BINARY_TYPES[detected];
    if (known) {
      if (known.kind !== 'epub' && known.kind !== 'file' && POLYGLOT.test(head.toString('latin1'))) {
        throw new AppError('invalid_input', `The file is ${shortName(known.mime)} but also carries HTML or script (a polyglot), so it is refused.`);
      }
      return known;
    }
    if (detected === 'application/xml') {
      throw new AppError('invalid_input', 'XML and SVG files are not accepted (they can carry script). Export the image as PNG or WebP.');
    }
    throw new AppError('invalid_input', `This file's content is ${shortName(detected)}, which is not accepted. Accepted: ${ACCEPTED_FORMATS}.`);
  }
  if (!looksLikeText(head)) {
    throw new AppError('invalid_input', `The file's type could not be recognised from its content. Accepted: ${ACCEPTED_FORMATS}.`);
  }
  if (MARKUP.test(head.toString('utf8'))) {
    throw new AppError('invalid_input', 'HTML, SVG and other markup are not accepted. Upload text as .txt, .md or .csv without markup.');
  }
  const extension = extensionOf(name);
  const mime = TEXT_TYPES[extension];
  if (!mime) {
    throw new AppError('invalid_input', `The file is plain text, but its name ends in .${extension}. Text is accepted as .txt, .md or .csv.`);
  }
  return { kind: 'file', mime };
}

/** UTF-8 without NULs or control characters (other than tab, newlines, form feed); a BOM is fine. */
export function looksLikeText(head: Buffer): boolean {
  // The head may end in the middle of a character: decode leniently at the end, strictly before it.
  const cut = Math.max(0, head.length - 4);
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, cut), { stream: true });
  } catch {
    return false;
  }
  for (const byte of head) {
    if (byte === 0 || byte === 0x7f || (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c)) return false;
  }
  return true;
}

/**
 * Checks the rest of a text upload as it streams (the head alone decided it was text): UTF-8 throughout, no NULs and
 * no markup.
 */
export function textChecker(): { push(chunk: Buffer): void; end(): void } {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let tail = '';
  const refuse = () => new AppError('invalid_input', 'The file is not plain UTF-8 text throughout; only text files (.txt, .md, .csv) are accepted as files.');
  const check = (text: string) => {
    if (text.includes('\u0000')) throw refuse();
    // Markup split across two chunks is caught by looking at the end of the previous chunk too.
    if (MARKUP.test(tail + text)) {
      throw new AppError('invalid_input', 'HTML, SVG and other markup are not accepted. Upload text as .txt, .md or .csv without markup.');
    }
    tail = text.slice(-32);
  };
  return {
    push(chunk) {
      try {
        check(decoder.decode(chunk, { stream: true }));
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw refuse();
      }
    },
    end() {
      try {
        check(decoder.decode());
      } catch (err) {
        if (err instanceof AppError) throw err;
        throw refuse();
      }
    },
  };
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot + 1).toLowerCase();
}

/**
 * The name shown for an upload: the last segment of whatever path a client sent, without control or bidi characters,
 * at most 255 characters. Only ever displayed and put in Content-Disposition — storage keys are generated.
 */
export function displayName(raw: string | undefined): string {
  const base = (raw ?? '').normalize('NFC').split(/[/\\]/).pop() ?? '';
  const cleaned = base
    // Control characters (C0, C1) and bidirectional overrides, which can disguise an extension ("gnp.exe").
    .replace(/[\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, '')
    .trim()
    .replace(/^\.+/, '');
  const chars = Array.from(cleaned);
  return (chars.length > 255 ? chars.slice(0, 255).join('') : cleaned) || 'file';
}
