// Slugs and cursors: the communities' own helpers (CommunityPolicy is tested in domain/access/community.test.ts).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { slugify } from './communities.ts';
import { decodeCursor, encodeCursor, likeContains } from './cursor.ts';

describe('slugify', () => {
  it.each([
    ['Rust & Go: Systems!', 'rust-go-systems'],
    ['  Crème Brûlée  ', 'creme-brulee'],
    ['日本語', 'community'],
    ['a'.repeat(80), 'a'.repeat(48)],
    // Cut at 48 right after a dash: no trailing dash.
    [`${'abcdefg-'.repeat(6)}zz`, 'abcdefg-'.repeat(6).slice(0, 47)],
  ])('%s → %s', (name, slug) => expect(slugify(name)).toBe(slug));
});

describe('cursors', () => {
  const Key = z.tuple([z.string(), z.uuid()]);
  it('round-trips keys opaquely and rejects anything else as invalid_input', () => {
    const key: [string, string] = ['café', crypto.randomUUID()];
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(Key, cursor)).toEqual(key);
    expect(decodeCursor(Key, undefined)).toBeUndefined();
    for (const bad of ['%%%', encodeCursor(['x']), encodeCursor(['x', 'y'])]) {
      expect(() => decodeCursor(Key, bad)).toThrow(expect.objectContaining({ code: 'invalid_input' }));
    }
  });

  it('escapes LIKE wildcards', () => {
    expect(likeContains('100%_a\\b')).toBe('%100\\%\\_a\\\\b%');
  });
});
