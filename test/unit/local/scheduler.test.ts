import { describe, expect, it, vi } from 'vitest';
import { createSimClock } from '../../../lib/local/clock.ts';
import { startRoundScheduler } from '../../../lib/local/scheduler.ts';

describe('the round scheduler', () => {
  it('runs each job every interval, staggered, skips down members, logs failures and never overlaps a job', async () => {
    const clock = createSimClock({ speed: 20 });
    const starts: Record<string, number[]> = { a: [], b: [], c: [] };
    let running = 0;
    let overlapped = false;
    const lines: string[] = [];
    const startedAt = clock.now();
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
            await clock.sleep(1_500);
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
    // A deadline for a schedule that stalls, not a speed: late timers on a busy machine only delay
    // the fourth run (the spacing asserted below is on the scaled clock).
    await vi.waitFor(() => expect(starts.b?.length).toBeGreaterThanOrEqual(4), {
      timeout: 20_000,
      interval: 5,
    });
    await scheduler.stop();
    const stats = Object.fromEntries(scheduler.stats().map((s) => [s.member, s]));

    expect(overlapped).toBe(false);
    const gaps = (starts.a ?? []).slice(1).map((t, i) => t - (starts.a?.[i] ?? 0));
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(1_450);
    // b is due a third of an interval after the start, and no job starts before it is due. Measured
    // from the start, not from a's first run: on a busy machine a's timer fires late, as late as b's.
    // (A timer may fire a real millisecond early against the clock: 20 simulated ms at speed 20.)
    expect(starts.a?.[0]).toBeGreaterThanOrEqual(startedAt - 20);
    expect(starts.b?.[0]).toBeGreaterThanOrEqual(startedAt + 1_000 / 3 - 20);
    expect(starts.c).toEqual([]);
    expect(stats.c?.skipped).toBeGreaterThan(0);
    expect(stats.b).toMatchObject({ failures: stats.b?.runs, last_error: 'boom' });
    expect(lines[0]).toBe('scheduler: failing round of b failed: boom');

    const after = starts.b?.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(starts.b?.length).toBe(after);
    clock.close();
  });
});
