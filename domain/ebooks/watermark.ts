import { createHmac, hkdfSync } from 'node:crypto';
import { readerText } from '../../contracts/ebooks.ts';
import { db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';

/*
 * Per-reader watermarks on served chapters.
 *
 * Visible: a last paragraph naming the reader and the date. Invisible: the reader's code — the first 32 bits of
 * HMAC(key, ebook id, user id) — written as zero-width characters (U+2060 opens, U+200B / U+200C are the bits 0 / 1,
 * U+200D closes) right after a space between two words: in the first gap of every paragraph, list item, heading and
 * quote, and again every few words, so a single copied paragraph still carries it. They survive copy and paste of the
 * plain text; offsets ignore them (contracts/ebooks.ts, `readerText`).
 *
 * `identifyLeak` reads every code out of a leaked text and matches the most frequent one against everyone who could
 * have been served the ebook (its readers, including refunded ones, its owner, its community's owners and admins,
 * platform admins). The code is keyed, so nobody can forge another reader's mark; the key is the same on every node.
 */

const OPEN = '\u2060';
const ZERO = '\u200B';
const ONE = '\u200C';
const CLOSE = '\u200D';
const CODE_BITS = 32;
/** Words between two marks inside one block. */
const MARK_EVERY_WORDS = 12;
const MARK = new RegExp(`${OPEN}([${ZERO}${ONE}]{${CODE_BITS}})${CLOSE}`, 'g');
const BLOCK_START = /^<(p|li|h[1-6]|blockquote|td|th|dd|dt)\b/i;
/** Where no mark goes: code keeps its exact text. */
const SKIPPED = /^<\/?(pre|code)\b/i;

const KEY_LABEL = 'edulure ebook watermark v1';
const keys = new WeakMap<Deps, Buffer>();

/**
 * The watermark key, the same on every node of a deployment and never sent anywhere: the media URL signer's signature
 * of a fixed label. Its secrets are ASSET_URL_SECRET or the JWT key ring, which every node shares (see
 * domain/media/signing.ts); the label keeps this key apart from every URL signature. Rotating the signing secret
 * changes every reader's code, so leaks served before a rotation are no longer recognised.
 */
export function watermarkKey(deps: Deps): Buffer {
  const cached = keys.get(deps);
  if (cached) return cached;
  const key = Buffer.from(hkdfSync('sha256', deps.media.signer.sign(KEY_LABEL), 'edulure', KEY_LABEL, 32));
  keys.set(deps, key);
  return key;
}

/** The reader's code for one ebook: 32 bits of HMAC, as 8 hex characters. */
export function readerCode(key: Buffer, ebookId: string, userId: string): string {
  return createHmac('sha256', key).update(`${ebookId}:${userId}`).digest().subarray(0, CODE_BITS / 8).toString('hex');
}

/** The invisible mark of a code. */
export function encodeMark(code: string): string {
  const bits = BigInt(`0x${code}`).toString(2).padStart(CODE_BITS, '0');
  return OPEN + [...bits].map((b) => (b === '1' ? ONE : ZERO)).join('') + CLOSE;
}

/** Every code marked in `text`, most frequent first. */
export function extractCodes(text: string): { code: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const match of text.matchAll(MARK)) {
    const bits = [...match[1]!].map((c) => (c === ONE ? '1' : '0')).join('');
    const code = BigInt(`0b${bits}`).toString(16).padStart(CODE_BITS / 4, '0');
    counts.set(code, (counts.get(code) ?? 0) + 1);
  }
  return [...counts].map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count);
}

/**
 * Spreads the mark of `code` through the text of sanitized chapter HTML (never inside tags or code). Any U+2060 the
 * source carried is dropped first, so nobody can plant a mark in a chapter body.
 */
export function markHtml(html: string, code: string): string {
  const mark = encodeMark(code);
  let skipDepth = 0;
  let wordsSinceMark = 0;
  return html.replaceAll(OPEN, '').replace(/<[^>]*>|[^<]+/g, (token) => {
    if (token.startsWith('<')) {
      if (SKIPPED.test(token)) skipDepth += token[1] === '/' ? -1 : 1;
      if (BLOCK_START.test(token)) wordsSinceMark = MARK_EVERY_WORDS;
      return token;
    }
    if (skipDepth > 0) return token;
    return token.replace(/(\S)( +)(?=\S)/g, (gap: string, before: string, spaces: string) => {
      if (wordsSinceMark < MARK_EVERY_WORDS) {
        wordsSinceMark += 1;
        return gap;
      }
      wordsSinceMark = 0;
      return before + spaces + mark;
    });
  });
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00A0' };

/** The text content of HTML, as `element.textContent` gives it: tags dropped, entities decoded. */
export function textContentOf(html: string): string {
  return html.replace(/<[^>]*>/g, '').replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (entity: string, name: string) => {
    if (name[0] === '#') {
      const codePoint = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
      return Number.isFinite(codePoint) && codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : entity;
    }
    return NAMED_ENTITIES[name.toLowerCase()] ?? entity;
  });
}

/** The length offsets are measured against: the reader text of rendered chapter HTML (before any watermark). */
export function readerTextLength(html: string): number {
  return readerText(textContentOf(html)).length;
}

/**
 * Who leaked `leakedText` (copied from a served chapter of `ebookId`): the person whose code it carries most often,
 * among everyone who could have been served the ebook; null when it carries no known code.
 */
export async function identifyLeak(deps: Deps, ebookId: string, leakedText: string): Promise<{ userId: string } | null> {
  const found = extractCodes(leakedText);
  if (!found.length) return null;
  const q = db(deps.orm.em.fork());
  const candidates = await q
    .selectFrom('entitlements')
    .select('user_id')
    .where('resource_type', '=', 'ebook')
    .where('resource_id', '=', ebookId)
    .union(q.selectFrom('ebooks').select('owner_id as user_id').where('id', '=', ebookId))
    .union(
      q
        .selectFrom('ebooks as e')
        .innerJoin('community_members as cm', 'cm.community_id', 'e.community_id')
        .select('cm.user_id')
        .where('e.id', '=', ebookId)
        .where('cm.role', 'in', ['owner', 'admin']),
    )
    .union(q.selectFrom('users').select('id as user_id').where('role', '=', 'admin'))
    .execute();
  const key = watermarkKey(deps);
  const byCode = new Map(candidates.map((c) => [readerCode(key, ebookId, c.user_id), c.user_id]));
  for (const { code } of found) {
    const userId = byCode.get(code);
    if (userId) return { userId };
  }
  return null;
}
