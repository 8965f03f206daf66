/**
 * The scaled clock of the local plane, on fake timers: its real time (performance.now and
 * setTimeout) moves only when the test moves it, so what is asserted is the scaling itself, exact,
 * and not how fast a busy machine ran the test.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSimClock } from '../../../lib/local/clock.ts';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('the simulated clock', () => {
  // Invariant: simulated time is real time elapsed times the speed, from the start given.
  it('runs simulated time speed times faster than real time', () => {
    const clock = createSimClock({ speed: 100, start: 0 });
    expect(clock.now()).toBe(0);
    vi.advanceTimersByTime(50);
    expect(clock.now()).toBe(5_000);
    vi.advanceTimersByTime(1);
    expect(clock.now()).toBe(5_100);
  });

  // Invariant: a timer of d simulated ms fires after d / speed real ms, not before; sleeps count simulated ms.
  it('fires a timer after delay / speed real ms and sleeps in simulated ms', async () => {
    const clock = createSimClock({ speed: 200 });
    const started = clock.now();
    const slept = clock.sleep(2_000);
    await vi.advanceTimersByTimeAsync(10);
    await slept;
    expect(clock.now() - started).toBe(2_000);
    let fired = false;
    clock.setTimer(4_000, () => {
      fired = true;
    });
    vi.advanceTimersByTime(19);
    expect(fired).toBe(false);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(true);
    expect(clock.toRealMs(4_000)).toBe(20);
  });

  // Invariant: nothing fires after it is cancelled, aborted or the clock closed.
  it('cancels timers and rejects sleeps when closed or aborted', async () => {
    const clock = createSimClock({ speed: 10 });
    let fired = false;
    clock.setTimer(10, () => {
      fired = true;
    });
    const aborted = new AbortController();
    const sleeping = clock.sleep(60_000, aborted.signal);
    aborted.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
    const pending = clock.sleep(60_000);
    clock.close();
    await expect(pending).rejects.toThrow(/closed/);
    vi.advanceTimersByTime(60_000);
    expect(fired).toBe(false);
    let late = false;
    clock.setTimer(0, () => {
      late = true;
    });
    vi.advanceTimersByTime(1);
    expect(late).toBe(false);
  });

  // Invariant: a speed that would make every timeout meaningless is refused at creation.
  it('refuses a speed that is not a positive number', () => {
    expect(() => createSimClock({ speed: 0 })).toThrow(/speed/);
    expect(() => createSimClock({ speed: Number.NaN })).toThrow(/speed/);
    expect(() => createSimClock({ speed: -2 })).toThrow(/speed/);
  });
});
