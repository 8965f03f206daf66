/**
 * The quiet tail of a schedule ends once the control plane has settled (lib/sim/run.ts
 * SETTLED_ROUNDS): every region serving in every replica, no failover running, no link cut, nobody
 * down or crashed, for five probe intervals in a row. What it saves is only rounds that repeat
 * themselves; what it must not do is end a run whose end state is still wrong.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { SETTLED_ROUNDS, simulate } from '../../lib/sim/run.ts';
import type { Schedule } from '../../lib/sim/schedule.ts';

const DEFAULT = validateTopology(
  JSON.parse(readFileSync(new URL('../../topology/default.json', import.meta.url), 'utf8')),
);
const INTERVAL_MS = DEFAULT.failover_policies.health_check.interval_seconds * 1000;

function schedule(actions: Schedule['actions'], activeMs = 5 * 60_000, quietMs = 15 * 60_000): Schedule {
  return {
    seed: 11,
    topology: DEFAULT.name,
    duration_ms: activeMs + quietMs,
    quiet_from_ms: activeMs,
    actions: [...actions, { at: activeMs, action: { kind: 'heal' } }],
  };
}

describe('the quiet tail', () => {
  // A run with nothing wrong ends SETTLED_ROUNDS intervals into its quiet tail, with its end
  // invariants judged there.
  it('ends once everything has served for five intervals in a row', async () => {
    const run = schedule([]);
    const result = await simulate(DEFAULT, run);
    expect(result.violations).toEqual([]);
    expect(result.simulated_ms).toBeGreaterThanOrEqual(run.quiet_from_ms + SETTLED_ROUNDS * INTERVAL_MS);
    expect(result.simulated_ms).toBeLessThan(run.quiet_from_ms + (SETTLED_ROUNDS + 1) * INTERVAL_MS);
    expect(result.log.at(-1)?.what).toMatch(/^settled: every region serving for 150 s/);
  });

  // A region failed over in the active part is not serving: the tail goes on until the failback
  // (at heal + 2 min) has brought it back, then settles.
  it('does not end while a region is failed; the failback runs first', async () => {
    const run = schedule([
      { at: 60_000, action: { kind: 'down', region: 'us-east-1' } },
      { at: 5 * 60_000 + 2 * 60_000, action: { kind: 'failback' } },
    ]);
    const result = await simulate(DEFAULT, run);
    expect(result.violations).toEqual([]);
    expect(result.failovers).toBeGreaterThanOrEqual(2);
    expect(result.log.some((l) => l.what.startsWith('failback of us-east-1 started'))).toBe(true);
    expect(result.simulated_ms).toBeGreaterThan(
      run.quiet_from_ms + 2 * 60_000 + SETTLED_ROUNDS * INTERVAL_MS,
    );
    expect(result.simulated_ms).toBeLessThan(run.duration_ms);
  });

  // The option keeps the whole tail (replays and the tests that measure it).
  it('runs the whole tail with fullQuietTail', async () => {
    const run = schedule([]);
    const result = await simulate(DEFAULT, run, { fullQuietTail: true });
    expect(result.simulated_ms).toBe(run.duration_ms);
  });
});
