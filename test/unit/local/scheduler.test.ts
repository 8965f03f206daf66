import { describe, expect, it } from 'vitest';
import { startRoundScheduler } from '../../../lib/local/scheduler.ts';
import { ManualScheduler } from '../../support/manual-time.ts';

/** Lets the runs that the last timers started settle (their promise chains and `finally`). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** Moves manual time on in 10 ms steps, settling the runs after each. */
async function advance(clock: ManualScheduler, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 10) {
    clock.advance(10);
    await settle();
  }
}

describe('the round scheduler', () => {
  // The schedule is logic over time: on manual time the starts are exact, so a busy machine's late
  // timers cannot move them (on the scaled clock they fired late and early by tens of simulated ms).
  it('runs each job every interval, staggered, skips down members, logs failures and never overlaps a job', async () => {
    const clock = new ManualScheduler();
    const startedAt = clock.now();
    const starts: Record<string, number[]> = { a: [], b: [], c: [] };
    let running = 0;
    let overlapped = false;
    const lines: string[] = [];
    const scheduler = startRoundScheduler({
      clock,
      intervalMs: 1_000,
      isDown: (member) => member === 'c',
      log: (line) => lines.push(line),
      jobs: [
        {
          member: 'a',
          name: 'slow round',
          run: async () => {
            starts.a?.push(clock.now());
            running++;
            if (running > 1) overlapped = true;
            // Longer than the interval: the next run waits for this one.
            await new Promise<void>((resolve) => clock.setTimer(1_500, resolve));
            running--;
          },
        },
        {
          member: 'b',
          name: 'failing round',
          run: async () => {
            starts.b?.push(clock.now());
            throw new Error('boom');
          },
        },
        { member: 'c', name: 'round', run: async () => starts.c?.push(clock.now()) },
      ],
    });
    await settle();
    await advance(clock, 3_500);
    // The sleeping run of a finishes on manual time too: stop waits for it.
    const stopping = scheduler.stop();
    await advance(clock, 1_500);
    await stopping;
    const stats = Object.fromEntries(scheduler.stats().map((s) => [s.member, s]));

    expect(overlapped).toBe(false);
    // Timers fire on the first 10 ms step at or past their due time. a is due at the start, then as
    // soon as its 1.5 s run ends (the next step), never inside it.
    expect(starts.a?.map((t) => t - startedAt)).toEqual([10, 1_520, 3_030]);
    // b is due a third of an interval after the start, then every interval.
    expect(starts.b?.map((t) => t - startedAt)).toEqual([340, 1_340, 2_340, 3_340]);
    expect(starts.c).toEqual([]);
    expect(stats.c?.skipped).toBeGreaterThan(0);
    expect(stats.b).toMatchObject({ runs: 4, failures: 4, last_error: 'boom' });
    expect(lines[0]).toBe('scheduler: failing round of b failed: boom');

    // Stopped: time moves on and nothing runs.
    await advance(clock, 3_000);
    expect(starts.b).toHaveLength(4);
    expect(starts.a).toHaveLength(3);
  });
});
