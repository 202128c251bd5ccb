import { describe, expect, it } from 'vitest';
import type { CaseDto } from '$contracts/moderation.ts';
import { isNewer, matchesFilter, mergeCases, statusesFor, visibleCases } from './caseQueue.ts';

const COMMUNITY = '00000000-0000-4000-8000-000000000001';
const id = (n: number) => `00000000-0000-4000-8000-2000000000${String(n).padStart(2, '0')}`;
const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute)).toISOString();

function kase(n: number, extra: Partial<CaseDto> = {}): CaseDto {
  return {
    id: id(n),
    communityId: COMMUNITY,
    target: {
      type: 'message',
      id: id(90 + n),
      author: { id: id(80), displayName: 'Author' },
      body: 'text',
      channelId: null,
      postId: null,
      hidden: false,
      deleted: false,
      createdAt: at(0),
    },
    status: 'open',
    reportCount: 1,
    reasons: { spam: 1 },
    claimedBy: null,
    claimedAt: null,
    resolution: null,
    createdAt: at(n),
    updatedAt: at(n),
    ...extra,
  };
}

describe('case queue merging', () => {
  it('keeps the newest copy of each case by updatedAt, whichever arrives first', () => {
    const all = new Map<string, CaseDto>();
    const claimed = kase(1, { status: 'claimed', updatedAt: at(5) });
    expect(mergeCases(all, [claimed])).toBe(true);
    // A list read before the claim must not undo it.
    expect(mergeCases(all, [kase(1)])).toBe(false);
    expect(all.get(id(1))?.status).toBe('claimed');
    expect(mergeCases(all, [kase(1, { status: 'resolved', updatedAt: at(6) })])).toBe(true);
    expect(all.get(id(1))?.status).toBe('resolved');
  });

  it('takes a copy with the same updatedAt (the event of a change we already read changes nothing visible)', () => {
    expect(isNewer(kase(1, { reportCount: 2 }), kase(1))).toBe(true);
    expect(isNewer(kase(1, { updatedAt: at(0) }), kase(1))).toBe(false);
    expect(isNewer(kase(1), undefined)).toBe(true);
  });

  it('filters by status and lists the newest cases first', () => {
    const cases = [kase(1), kase(2, { status: 'claimed' }), kase(3, { status: 'resolved' }), kase(4, { status: 'dismissed' })];
    expect(visibleCases(cases, 'active').map((k) => k.id)).toEqual([id(2), id(1)]);
    expect(visibleCases(cases, 'resolved').map((k) => k.id)).toEqual([id(3)]);
    expect(visibleCases(cases, 'all').map((k) => k.id)).toEqual([id(4), id(3), id(2), id(1)]);
    expect(matchesFilter(kase(1, { status: 'claimed' }), 'open')).toBe(false);
  });

  it('asks the API for both open and claimed cases for "needs action"', () => {
    expect(statusesFor('active')).toEqual(['open', 'claimed']);
    expect(statusesFor('all')).toEqual([undefined]);
    expect(statusesFor('dismissed')).toEqual(['dismissed']);
  });
});
