import { describe, expect, it } from 'vitest';
import { allowedApiCall, forwardedQuery } from './apiPassThrough.ts';
import { parseWords } from './moderation.ts';

const ID = '00000000-0000-4000-8000-000000000001';

describe('the browser pass-through', () => {
  it('lets the feed, people and moderation calls through', () => {
    expect(allowedApiCall('GET', `communities/${ID}/feed`)).toBe(true);
    expect(allowedApiCall('POST', `posts/${ID}/poll/vote`)).toBe(true);
    expect(allowedApiCall('DELETE', `users/${ID}/mute`)).toBe(true);
    expect(allowedApiCall('GET', `users/${ID}/relationship`)).toBe(true);
    expect(allowedApiCall('POST', 'reports')).toBe(true);
    expect(allowedApiCall('POST', `moderation/cases/${ID}/actions`)).toBe(true);
    expect(allowedApiCall('DELETE', `communities/${ID}/bans/${ID}`)).toBe(true);
  });

  it('refuses everything else: other resources, other methods, odd ids and path tricks', () => {
    expect(allowedApiCall('POST', 'auth/logout')).toBe(false);
    expect(allowedApiCall('DELETE', `communities/${ID}`)).toBe(false);
    expect(allowedApiCall('PATCH', `communities/${ID}/members/${ID}`)).toBe(false);
    expect(allowedApiCall('DELETE', 'reports')).toBe(false);
    expect(allowedApiCall('GET', 'posts/not-a-uuid')).toBe(false);
    expect(allowedApiCall('GET', `posts/${ID}/../../auth/me`)).toBe(false);
    expect(allowedApiCall('POST', `users/${ID}/suspend`)).toBe(false);
  });

  it('forwards only paging and status parameters', () => {
    expect(forwardedQuery(new URLSearchParams('cursor=abc&limit=20&status=open&token=x'))).toBe('?cursor=abc&limit=20&status=open');
    expect(forwardedQuery(new URLSearchParams('q=1'))).toBe('');
  });
});

describe('the word list field', () => {
  it('splits on lines and commas, trims, and drops blanks and repeats (case-insensitively)', () => {
    expect(parseWords('spam\n  Scam , ,spam\nSCAM\n\nbuy now')).toEqual(['spam', 'Scam', 'buy now']);
  });
});

describe('the pass-through for teaching', () => {
  it('lets uploads and an upload read-back through, and nothing else of assets', () => {
    expect(allowedApiCall('POST', 'assets')).toBe(true);
    expect(allowedApiCall('GET', `assets/${ID}`)).toBe(true);
    expect(allowedApiCall('DELETE', `assets/${ID}`)).toBe(false);
    expect(allowedApiCall('GET', `assets/${ID}/content`)).toBe(false);
    expect(allowedApiCall('PUT', 'assets')).toBe(false);
    expect(allowedApiCall('POST', `assets/${ID}`)).toBe(false);
  });

  it('keeps authoring calls on the server side (form actions), out of the browser pass-through', () => {
    expect(allowedApiCall('PUT', `courses/${ID}/outline`)).toBe(false);
    expect(allowedApiCall('POST', `courses/${ID}/publish`)).toBe(false);
    expect(allowedApiCall('POST', `submissions/${ID}/grade`)).toBe(false);
  });
});
