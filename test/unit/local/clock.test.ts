import { describe, expect, it } from 'vitest';
import { createSimClock } from '../../../lib/local/clock.ts';

describe('the simulated clock', () => {
  it('runs simulated time speed times faster than real time', async () => {
    const clock = createSimClock({ speed: 100, start: 0 });
    const before = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const real = performance.now() - before;
    expect(clock.now()).toBeGreaterThanOrEqual(real * 100 * 0.9);
    expect(clock.now()).toBeLessThan((real + 30) * 100);
  });

  it('fires a timer after delay / speed real ms and sleeps in simulated ms', async () => {
    const clock = createSimClock({ speed: 200 });
    const started = clock.now();
    await clock.sleep(2_000);
    expect(clock.now() - started).toBeGreaterThanOrEqual(1_990);
    const real = performance.now();
    await new Promise<void>((resolve) => clock.setTimer(4_000, resolve));
    // 20 ms scaled, 4 s unscaled: half the unscaled time tells them apart even on a busy machine.
    expect(performance.now() - real).toBeLessThan(2_000);
  });

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
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fired).toBe(false);
  });

  it('refuses a speed that is not a positive number', () => {
    expect(() => createSimClock({ speed: 0 })).toThrow(/speed/);
    expect(() => createSimClock({ speed: Number.NaN })).toThrow(/speed/);
    expect(() => createSimClock({ speed: -2 })).toThrow(/speed/);
  });
});
