import { describe, expect, it } from 'vitest';
import { describeUserAgent, formatTimestamp } from './devices.ts';

describe('describeUserAgent', () => {
  it.each([
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36', 'Chrome on Windows'],
    ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15', 'Safari on macOS'],
    ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox on Linux'],
    ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0 Mobile/15E148 Safari/604.1', 'Chrome on iOS'],
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0', 'Edge on Windows'],
    ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0 Safari/537.36', 'Headless Chrome on Linux'],
    ['curl/8.5.0', 'curl'],
  ])('%s → %s', (ua, expected) => {
    expect(describeUserAgent(ua)).toBe(expected);
  });

  it('falls back for missing or unknown agents', () => {
    expect(describeUserAgent(null)).toBe('Unknown device');
    expect(describeUserAgent('SomethingElse/1.0')).toBe('Unknown device');
  });
});

describe('formatTimestamp', () => {
  it('formats in UTC so server and browser render the same text', () => {
    expect(formatTimestamp('2025-03-04T05:06:07.000Z')).toBe('4 Mar 2025, 05:06 UTC');
  });
  it('returns unparseable input unchanged', () => {
    expect(formatTimestamp('yesterday')).toBe('yesterday');
  });
});
