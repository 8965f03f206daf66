/**
 * A minute's rounds one per invocation (the minute driver waits between them) decide as the rounds of
 * one invocation did: the same count, an interval apart from each round's start, none started that
 * would not end before the deadline, and a minute whose every round failed fails.
 */
import { describe, expect, it } from 'vitest';
import { type MinuteCursor, runMinuteRound, runMinuteRounds } from '../../lib/app/minute-rounds.ts';

const T0 = Date.parse('2026-12-03T07:00:00.000Z');

function clockAt(t: number) {
  const clock = { t, now: () => clock.t };
  return clock;
}

const options = (clock: { now: () => number }, deadline = T0 + 75_000) => ({
  planned: 2,
  intervalMs: 30_000,
  clock,
  deadline,
  roundNeeds: { ms: 13_000, said: '10 s timeout' },
});

/** Drives the rounds as the Express state machine does: invoke, then wait until next_at. */
async function driveMinute(clock: { t: number; now: () => number }, roundMs: number, deadline?: number) {
  const starts: number[] = [];
  let cursor: MinuteCursor | undefined;
  let stopped: string | undefined;
  for (;;) {
    const step = await runMinuteRound(options(clock, deadline), cursor, async () => {
      starts.push(clock.t - T0);
      clock.t += roundMs;
      return 'ok';
    });
    stopped = step.stopped_early;
    cursor = step.step.cursor;
    if (!step.step.more) break;
    clock.t = Math.max(clock.t, Date.parse(step.step.next_at));
  }
  return { starts, cursor, stopped };
}

describe('a minute one round per invocation', () => {
  it('starts the planned rounds an interval apart from each round’s start, on whole seconds', async () => {
    const { starts, cursor, stopped } = await driveMinute(clockAt(T0), 1_200);
    expect(starts).toEqual([0, 30_000]);
    expect(cursor).toEqual({ started: 2 });
    expect(stopped).toBeUndefined();
  });

  it('starts the next round at once when a round overran its interval', async () => {
    const { starts } = await driveMinute(clockAt(T0), 31_000);
    expect(starts).toEqual([0, 31_000]);
  });

  it('stops early when the next round would not end before the deadline, saying why', async () => {
    const { starts, stopped } = await driveMinute(clockAt(T0), 1_000, T0 + 40_000);
    expect(starts).toEqual([0]);
    expect(stopped).toBe('39000 ms left, round 2 needs 29000 ms wait + 10 s timeout');
  });

  it('runs as many rounds, as far apart, as the rounds of one invocation', async () => {
    const sleeping = clockAt(T0);
    const starts: number[] = [];
    await runMinuteRounds(
      {
        planned: 2,
        intervalMs: 30_000,
        clock: sleeping,
        sleep: async (ms) => {
          sleeping.t += ms;
        },
        remainingMs: () => T0 + 75_000 - sleeping.t,
        roundNeeds: { ms: 13_000, said: '10 s timeout' },
      },
      async () => {
        starts.push(sleeping.t - T0);
        sleeping.t += 1_000;
      },
    );
    expect((await driveMinute(clockAt(T0), 1_000)).starts).toEqual(starts);
  });

  it('reports a failed round and carries on; the minute fails when every round failed', async () => {
    const clock = clockAt(T0);
    const first = await runMinuteRound(options(clock), undefined, async () => {
      throw new Error('state unreachable');
    });
    expect(first.rounds).toEqual([{ error: 'state unreachable' }]);
    expect(first.step).toMatchObject({ cursor: { started: 1, failed: 1 }, more: true });
    clock.t = Date.parse(first.step.next_at);
    await expect(
      runMinuteRound(options(clock), first.step.cursor, async () => {
        throw new Error('still unreachable');
      }),
    ).rejects.toThrow('still unreachable');
    const recovered = await runMinuteRound(options(clock), first.step.cursor, async () => 'ok');
    expect(recovered.step).toMatchObject({ cursor: { started: 2, failed: 1 }, more: false });
  });
});
