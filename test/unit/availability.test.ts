import { describe, expect, it } from 'vitest';
import {
  type AvailabilitySample,
  availabilityOver,
  type MinuteState,
  minuteBucket,
  minuteState,
} from '../../lib/core/health/availability.ts';

const T0 = Date.parse('2026-11-26T12:00:00Z');
const MIN = 60_000;
const US = 'us-east-1';
const EU = 'eu-west-1';

/** One sample of observer us-east-1 at minute `i` after T0. */
const at = (i: number, regions: Record<string, MinuteState>): AvailabilitySample => ({
  observer: US,
  minute: T0 + i * MIN,
  regions,
});

describe('minute states', () => {
  it('a region is up only when it serves and a majority reaches it', () => {
    expect(minuteState(true, true)).toBe('up');
    expect(minuteState(true, false)).toBe('unreachable');
    expect(minuteState(false, true)).toBe('not_serving');
    expect(minuteState(false, false)).toBe('not_serving');
  });

  it('buckets a time to the start of its minute', () => {
    expect(minuteBucket(T0 + 59_999)).toBe(T0);
    expect(minuteBucket(T0 + MIN)).toBe(T0 + MIN);
  });
});

describe('availability over a window', () => {
  it('a full hour up is 100 % and meets a 99.9 % target', () => {
    const samples = Array.from({ length: 60 }, (_, i) => at(i, { [US]: 'up' }));
    // now is inside minute 59: the window is minutes 0..59.
    const w = availabilityOver(samples, US, T0 + 59 * MIN + 20_000, 60, 99.9);
    expect(w).toEqual({
      window_minutes: 60,
      minutes_measured: 60,
      minutes_up: 60,
      minutes_not_measured: 0,
      percent: 100,
      sla: 99.9,
      meets_sla: true,
    });
  });

  it('one minute down in sixty is 59/60 = 98.333 %, below the target', () => {
    const samples = Array.from({ length: 60 }, (_, i) => at(i, { [US]: i === 30 ? 'unreachable' : 'up' }));
    const w = availabilityOver(samples, US, T0 + 59 * MIN, 60, 99.9);
    expect(w.minutes_up).toBe(59);
    expect(w.percent).toBe(98.333);
    expect(w.meets_sla).toBe(false);
  });

  it('minutes without a sample are not measured, never counted as up', () => {
    // 45 minutes sampled: 40 up, 3 unreachable, 2 not serving; 15 minutes with no sample.
    const states: MinuteState[] = [
      ...Array<MinuteState>(40).fill('up'),
      ...Array<MinuteState>(3).fill('unreachable'),
      ...Array<MinuteState>(2).fill('not_serving'),
    ];
    const samples = states.map((s, i) => at(i, { [US]: s }));
    const w = availabilityOver(samples, US, T0 + 59 * MIN, 60, 99.99);
    expect(w.minutes_measured).toBe(45);
    expect(w.minutes_not_measured).toBe(15);
    expect(w.minutes_up).toBe(40);
    // 40 / 45 = 88.888...: floored, so a figure never rounds up onto its target.
    expect(w.percent).toBe(88.888);
  });

  it('nothing measured is null, neither meeting nor missing the target', () => {
    const w = availabilityOver([at(0, { [EU]: 'up' })], US, T0, 60, 99.9);
    expect(w).toMatchObject({
      minutes_measured: 0,
      minutes_not_measured: 60,
      percent: null,
      meets_sla: null,
    });
  });

  it('counts only the window: the minute of now and the ones before it', () => {
    const samples = [
      at(-60, { [US]: 'unreachable' }), // 61 minutes before minute 0's window end: outside
      at(-59, { [US]: 'up' }), // the first minute of the window ending at minute 0
      at(0, { [US]: 'up' }),
      at(1, { [US]: 'unreachable' }), // after now: outside
    ];
    const w = availabilityOver(samples, US, T0 + 30_000, 60, 99);
    expect([w.minutes_measured, w.minutes_up, w.percent]).toEqual([2, 2, 100]);
  });

  it('a repeated sample of one minute counts once, the later one winning', () => {
    const samples = [at(0, { [US]: 'up' }), at(0, { [US]: 'unreachable' })];
    const w = availabilityOver(samples, US, T0, 60, 99);
    expect([w.minutes_measured, w.minutes_up, w.percent]).toEqual([1, 0, 0]);
  });

  it('a day of 1,440 minutes with 72 down is 95 %', () => {
    const samples = Array.from({ length: 1440 }, (_, i) => at(i, { [US]: i < 72 ? 'not_serving' : 'up' }));
    const w = availabilityOver(samples, US, T0 + 1439 * MIN, 1440, 99.99);
    expect([w.minutes_measured, w.minutes_up, w.percent, w.meets_sla]).toEqual([1440, 1368, 95, false]);
  });

  it('refuses a window that is not a positive whole number of minutes', () => {
    expect(() => availabilityOver([], US, T0, 0, 99)).toThrow(RangeError);
    expect(() => availabilityOver([], US, T0, 1.5, 99)).toThrow(RangeError);
  });
});
