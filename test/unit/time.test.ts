/**
 * isoTime keeps the last instant it formatted: whatever the order of the instants asked, it answers
 * what Date's toISOString answers, and an invalid time throws without spoiling the next answer.
 */
import { describe, expect, it } from 'vitest';
import { isoTime } from '../../lib/core/time.ts';

describe('isoTime', () => {
  it('answers as toISOString for repeated, alternating and fractional instants', () => {
    const instants = [0, 0, 1_780_000_000_000, 1_780_000_000_000, 0, 1_780_000_000_001.7, -1, 3_600_000];
    for (const ms of instants) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
  });

  it('throws RangeError on a time that is no date, and answers the next one right', () => {
    expect(isoTime(5)).toBe('1970-01-01T00:00:00.005Z');
    expect(() => isoTime(Number.NaN)).toThrow(RangeError);
    expect(() => isoTime(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(isoTime(5)).toBe('1970-01-01T00:00:00.005Z');
    expect(isoTime(6)).toBe('1970-01-01T00:00:00.006Z');
  });
});
