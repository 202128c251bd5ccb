import { describe, expect, it } from 'vitest';
import type { AttendanceReportDto } from '../../contracts/classrooms.ts';
import { attendanceCsv, attendanceFigures, attendedMs, classLengthMs, classWindow, type AttendanceInterval } from './attendance.ts';

const START = Date.parse('2026-12-01T18:00:00Z');
/** Minutes after the start of the class, as a Date. */
const at = (minutes: number) => new Date(START + minutes * 60_000);
const stay = (from: number, to: number | null): AttendanceInterval => ({ joinedAt: at(from), leftAt: to === null ? null : at(to) });
const window60 = { start: at(0), end: at(60) };
const GRACE = 30_000;
const minutes = (ms: number) => ms / 60_000;

describe('attended time', () => {
  it('counts presence inside the class only', () => {
    expect(minutes(attendedMs([stay(-10, 20)], window60, GRACE))).toBe(20);
    expect(minutes(attendedMs([stay(50, 75)], window60, GRACE))).toBe(10);
    expect(minutes(attendedMs([stay(-20, -5), stay(70, 80)], window60, GRACE))).toBe(0);
    expect(attendedMs([], window60, GRACE)).toBe(0);
  });

  it('treats a reconnect within the grace as continuous presence, the gap included', () => {
    const blip = [stay(0, 20), { joinedAt: new Date(at(20).getTime() + 29_000), leftAt: at(40) }];
    expect(minutes(attendedMs(blip, window60, GRACE))).toBe(40);
    const exactlyGrace = [stay(0, 20), { joinedAt: new Date(at(20).getTime() + GRACE), leftAt: at(40) }];
    expect(minutes(attendedMs(exactlyGrace, window60, GRACE))).toBe(40);
  });

  it('counts a gap beyond the grace as absence', () => {
    const away = [stay(0, 20), { joinedAt: new Date(at(20).getTime() + 31_000), leftAt: at(40) }];
    expect(attendedMs(away, window60, GRACE)).toBe(40 * 60_000 - 31_000);
    expect(minutes(attendedMs([stay(0, 10), stay(30, 40)], window60, GRACE))).toBe(20);
  });

  it('bridges a blip across the start of the class', () => {
    const early = [{ joinedAt: at(-5), leftAt: new Date(START - 10_000) }, { joinedAt: new Date(START + 10_000), leftAt: at(30) }];
    expect(minutes(attendedMs(early, window60, GRACE))).toBe(30);
  });

  it('runs an open interval to the end of the window and never counts overlaps twice', () => {
    expect(minutes(attendedMs([stay(15, null)], window60, GRACE))).toBe(45);
    expect(minutes(attendedMs([stay(0, 30), stay(10, 20), stay(25, 45)], window60, GRACE))).toBe(45);
    expect(minutes(attendedMs([stay(25, 45), stay(0, 30)], window60, GRACE))).toBe(45);
  });

  it('is zero for an empty window', () => {
    expect(attendedMs([stay(0, 10)], { start: at(0), end: at(0) }, GRACE)).toBe(0);
  });
});

describe('the class window and length', () => {
  const scheduled = { started_at: null, ended_at: null, duration_minutes: 90 };
  it('has no window before the class starts; runs to now while live, to the end once ended', () => {
    expect(classWindow(scheduled, at(5))).toBeNull();
    expect(classWindow({ started_at: at(0), ended_at: null }, at(25))).toEqual({ start: at(0), end: at(25) });
    expect(classWindow({ started_at: at(0), ended_at: at(50) }, at(500))).toEqual({ start: at(0), end: at(50) });
  });

  it('takes percentages of the scheduled length until the class ends, then of the actual one', () => {
    expect(minutes(classLengthMs(scheduled))).toBe(90);
    expect(minutes(classLengthMs({ ...scheduled, started_at: at(0) }))).toBe(90);
    expect(minutes(classLengthMs({ ...scheduled, started_at: at(0), ended_at: at(40) }))).toBe(40);
  });

  it('marks attended at the threshold share, not below', () => {
    expect(attendanceFigures(30 * 60_000, 60 * 60_000, 50)).toEqual({ minutes: 30, percent: 50, attended: true });
    expect(attendanceFigures(30 * 60_000 - 1000, 60 * 60_000, 50)).toEqual({ minutes: 29.98, percent: 49.9, attended: false });
    expect(attendanceFigures(90 * 60_000, 60 * 60_000, 50).percent).toBe(100);
    expect(attendanceFigures(0, 0, 50)).toEqual({ minutes: 0, percent: 0, attended: false });
  });
});

describe('the CSV report', () => {
  const report: AttendanceReportDto = {
    classroomId: crypto.randomUUID(),
    title: 'Algebra',
    status: 'ended',
    startedAt: at(0).toISOString(),
    endedAt: at(60).toISOString(),
    classMinutes: 60,
    thresholdPercent: 50,
    rows: [
      {
        user: { id: crypto.randomUUID(), displayName: 'Ada, "the host"' },
        role: 'host',
        minutesAttended: 60,
        percent: 100,
        attended: true,
        intervals: [{ joinedAt: at(-5).toISOString(), leftAt: at(60).toISOString() }],
      },
      {
        user: { id: crypto.randomUUID(), displayName: '=HYPERLINK("x")' },
        role: 'learner',
        minutesAttended: 0,
        percent: 0,
        attended: false,
        intervals: [],
      },
    ],
  };

  it('has a header row and one row per person, quoting names and defusing formulas', () => {
    const lines = attendanceCsv(report).trimEnd().split('\r\n');
    expect(lines).toEqual([
      'name,role,minutes,percent,attended,first_join,last_leave',
      `"Ada, ""the host""",host,60,100,yes,${at(-5).toISOString()},${at(60).toISOString()}`,
      `"'=HYPERLINK(""x"")",learner,0,0,no,,`,
    ]);
  });
});
