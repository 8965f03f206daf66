/**
 * The Express minute driver's ASL (lib/infra/express-minute-driver.ts: jobs whose round may outlast
 * their interval) executed locally, its round functions being
 * the real minute step (runMinuteRound) on a simulated clock: it runs the policy's rounds at their
 * interval, each job in its own branch, waiting in its Wait states (no function waits), and a job
 * whose round fails ends its own minute while the others run on.
 */
import { createRequire } from 'node:module';
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { type MinuteCursor, runMinuteRound } from '../../lib/app/minute-rounds.ts';
import { MINUTE_BUDGET_SECONDS, minuteDefinition } from '../../lib/infra/express-minute-driver.ts';

const T0 = Date.parse('2026-12-03T07:00:00.000Z');

// asl-validator ships no types; this is its documented call shape.
const validateAsl = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => {
  isValid: boolean;
  errorsText: (separator?: string) => string;
};

interface RoundPayload {
  readonly minute: { readonly started_at: string; readonly budget_ms: number; readonly cursor: MinuteCursor };
}

/** A round function as the handlers are: one round per invocation, the next step in its answer. */
function roundFunction(
  clock: { t: number; now(): number },
  intervalMs: number,
  starts: number[],
  round: () => Promise<void> = async () => {},
) {
  return async (input: { readonly Payload: RoundPayload }) => {
    const { minute } = input.Payload;
    expect(minute.budget_ms).toBe(MINUTE_BUDGET_SECONDS * 1000);
    const report = await runMinuteRound(
      {
        planned: Math.floor(60_000 / intervalMs),
        intervalMs,
        clock,
        deadline: T0 + minute.budget_ms,
        roundNeeds: { ms: 3_000, said: '3 s' },
      },
      minute.cursor.started === 0 ? undefined : minute.cursor,
      async () => {
        starts.push(clock.t - T0);
        await round();
        clock.t += 400;
      },
    );
    // The Wait state ends at next_at: the simulated clock is there when the next round starts.
    if (report.step.more) clock.t = Date.parse(report.step.next_at);
    return { Payload: { ...report, minute: report.step } };
  };
}

async function runMinute(
  handlers: Record<string, (input: never) => Promise<unknown>>,
  ids: readonly string[],
) {
  const machine = new StateMachine(
    minuteDefinition(ids.map((id) => ({ id }))) as unknown as StateMachineDefinition,
  );
  const run = machine.run(
    {},
    {
      overrides: {
        taskResourceLocalHandlers: handlers as never,
        waitTimeOverrides: Object.fromEntries(ids.map((id) => [`${id}Wait`, 0])),
      },
    },
  );
  return run.result;
}

describe('the minute driver', () => {
  it('is valid ASL in JSONPath, for one job and for several', () => {
    for (const ids of [['Probe'], ['Probe', 'Monitor']]) {
      const result = validateAsl(minuteDefinition(ids.map((id) => ({ id }))));
      expect(result.errorsText('\n')).toBe('');
      expect(result.isValid).toBe(true);
    }
  });

  it('runs each job’s rounds at its interval in its own branch', async () => {
    const probeClock = { t: T0, now: () => probeClock.t };
    const monitorClock = { t: T0, now: () => monitorClock.t };
    const probe: number[] = [];
    const monitor: number[] = [];
    const output = await runMinute(
      {
        ProbeRound: roundFunction(probeClock, 30_000, probe),
        MonitorRound: roundFunction(monitorClock, 5_000, monitor),
      },
      ['Probe', 'Monitor'],
    );
    expect(probe).toEqual([0, 30_000]);
    expect(monitor).toEqual(Array.from({ length: 12 }, (_, i) => i * 5_000));
    expect(output).toEqual([
      expect.objectContaining({ cursor: { started: 2 }, more: false }),
      expect.objectContaining({ cursor: { started: 12 }, more: false }),
    ]);
  });

  it('a job whose every round failed fails the execution, after the other job’s minute ran', async () => {
    const probeClock = { t: T0, now: () => probeClock.t };
    const monitorClock = { t: T0, now: () => monitorClock.t };
    const monitor: number[] = [];
    const failing = roundFunction(probeClock, 30_000, [], async () => {
      throw new Error('state unreachable');
    });
    await expect(
      runMinute({ ProbeRound: failing, MonitorRound: roundFunction(monitorClock, 5_000, monitor) }, [
        'Probe',
        'Monitor',
      ]),
    ).rejects.toThrow(/A round failed/);
    expect(monitor).toHaveLength(12);
  });
});
