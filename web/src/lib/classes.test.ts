import { describe, expect, it } from 'vitest';
import { canEnterLive, canRegister, myStandingText, seatsText, startsAtFromLocal, toLocalInputValue } from './classes.ts';

describe('startsAtFromLocal', () => {
  it('turns the browser wall-clock time into UTC with the offset the browser sent', () => {
    expect(startsAtFromLocal('2026-12-01T18:00', 0)).toBe('2026-12-01T18:00:00.000Z');
    // UTC+1 (offset -60): 18:00 local is 17:00 UTC.
    expect(startsAtFromLocal('2026-12-01T18:00', -60)).toBe('2026-12-01T17:00:00.000Z');
    // UTC-5 (offset 300), across midnight.
    expect(startsAtFromLocal('2026-12-01T21:30', 300)).toBe('2026-12-02T02:30:00.000Z');
  });

  it('refuses what is not a real date-time', () => {
    expect(startsAtFromLocal('', 0)).toBeNull();
    expect(startsAtFromLocal('tomorrow', 0)).toBeNull();
    expect(startsAtFromLocal('2026-02-31T10:00', 0)).toBeNull();
    expect(startsAtFromLocal('2026-12-01T18:00', Number.NaN)).toBeNull();
  });

  it('round-trips with toLocalInputValue in the local zone', () => {
    const date = new Date(2026, 11, 1, 9, 5);
    expect(startsAtFromLocal(toLocalInputValue(date), date.getTimezoneOffset())).toBe(date.toISOString());
  });
});

describe('registration wording and rules', () => {
  const base = { status: 'scheduled' as const, myRole: null, myRegistration: null, myWaitlistPosition: null };

  it('describes the caller’s standing', () => {
    expect(myStandingText(base)).toBeNull();
    expect(myStandingText({ ...base, myRegistration: 'registered' })).toBe('Registered');
    expect(myStandingText({ ...base, myRegistration: 'waitlisted', myWaitlistPosition: 2 })).toBe('Waitlisted — position 2');
    expect(myStandingText({ ...base, myRole: 'host' })).toBe('You are the host');
  });

  it('counts seats and the waitlist', () => {
    expect(seatsText({ capacity: 1, registeredCount: 1, waitlistCount: 0 })).toBe('1 of 1 seat taken');
    expect(seatsText({ capacity: 30, registeredCount: 30, waitlistCount: 3 })).toBe('30 of 30 seats taken · 3 on the waitlist');
  });

  it('lets only registered learners and staff into a live class', () => {
    expect(canRegister(base)).toBe(true);
    expect(canRegister({ ...base, myRole: 'host' })).toBe(false);
    expect(canRegister({ ...base, status: 'ended' })).toBe(false);
    expect(canEnterLive({ ...base, status: 'live', myRegistration: 'registered' })).toBe(true);
    expect(canEnterLive({ ...base, status: 'live', myRegistration: 'waitlisted' })).toBe(false);
    expect(canEnterLive({ ...base, status: 'scheduled', myRole: 'host' })).toBe(false);
    expect(canEnterLive({ ...base, status: 'live', myRole: 'cohost' })).toBe(true);
  });
});
