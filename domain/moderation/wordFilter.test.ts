import { describe, expect, it } from 'vitest';
import { countLinks, matchedWords } from './wordFilter.ts';

describe('word filter', () => {
  it('matches whole words only, ignoring case and accents', () => {
    expect(matchedWords('That is CRAP.', ['crap'])).toEqual(['crap']);
    expect(matchedWords('scrappy and crapulent', ['crap'])).toEqual([]);
    expect(matchedWords('Quelle fâcherie', ['facherie'])).toEqual(['facherie']);
    expect(matchedWords('cafe', ['Café'])).toEqual(['Café']);
    expect(matchedWords('buy cheap   pills now', ['cheap pills'])).toEqual(['cheap pills']);
    expect(matchedWords('crap2 x', ['crap'])).toEqual([]);
    expect(matchedWords('(crap)', ['crap'])).toEqual(['crap']);
    expect(matchedWords('a.b', ['a.b'])).toEqual(['a.b']);
    expect(matchedWords('aXb', ['a.b'])).toEqual([]);
  });

  it('counts links', () => {
    expect(countLinks('see https://a.example/x and http://b.example, or www.c.example')).toBe(3);
    expect(countLinks('no links here, just example.com mentioned')).toBe(0);
  });
});
