import { describe, expect, it } from 'vitest';
import { mayStartFailover } from '../../lib/core/failover/retry.ts';
import type { FailoverRecord } from '../../lib/core/failover/types.ts';

const T0 = Date.parse('2026-11-26T12:00:00Z');
const COOLDOWN = 600;
/** The detection window: 30 s rounds, 3 failures. */
const DETECTION = 90;

function ended(
  n: number,
  status: FailoverRecord['status'],
  endedAt: number,
  conditions = 'eu:2,ap:3',
): FailoverRecord {
  const at = new Date(endedAt - 60_000).toISOString();
  return {
    failover_id: `failover-us-east-1-e${n}`,
    kind: 'failover',
    failed_region: 'us-east-1',
    trigger: 'automatic',
    reason: 'down',
    status,
    coordinator: 'eu-west-1',
    epoch: n,
    dry_run: false,
    initiated_at: at,
    completed_at: new Date(endedAt).toISOString(),
    workloads_migrated: 0,
    workloads_pending: 0,
    steps: [],
    previous_statuses: [],
    abort_requested: false,
    conditions,
    updated_at: new Date(endedAt).toISOString(),
  };
}

const decide = (records: FailoverRecord[], now: number, conditions = 'eu:2,ap:3') =>
  mayStartFailover({
    records,
    nextId: 'failover-us-east-1-e99',
    now,
    cooldownSeconds: COOLDOWN,
    transientSeconds: DETECTION,
    conditions,
  });

// Invariant: a failover that ended without a change is not started again every epoch; it waits for
// a change it depends on, or for a backoff that doubles with each such failover in a row.
describe('mayStartFailover', () => {
  it('starts the first failover of a region', () => {
    expect(decide([], T0)).toEqual({ start: true });
  });

  it('after one rollback, waits one cooldown while nothing changed', () => {
    const records = [ended(1, 'rolled_back', T0)];
    expect(decide(records, T0 + 599_000).start).toBe(false);
    expect(decide(records, T0 + 600_000).start).toBe(true);
  });

  it('doubles the backoff for each unsuccessful failover in a row', () => {
    const records = [
      ended(1, 'rolled_back', T0 - 3_600_000),
      ended(2, 'cancelled', T0 - 1_000_000),
      ended(3, 'rolled_back', T0),
    ];
    const waiting = decide(records, T0 + 2_000_000);
    expect(waiting.start).toBe(false);
    expect(!waiting.start && waiting.reason).toMatch(
      /^backoff: 3 failover\(s\) in a row ended without a change/,
    );
    expect(decide(records, T0 + 4 * 600_000).start).toBe(true);
  });

  it('starts at once when what it depends on changed (capacity freed, a region back)', () => {
    expect(decide([ended(1, 'rolled_back', T0)], T0 + 1000, 'eu:5,ap:3')).toEqual({ start: true });
  });

  // Invariant: an attempt whose step ran out of retries on errors that judge no region (a target that
  // gave no answer) does not hold a dead region's failover for a cooldown (simulator seed 425978 with
  // its target at 100 % errors for 30 s): the next starts a detection window later, doubling.
  it('after a TransientError, backs off from the detection window, doubling', () => {
    const transient = (n: number, endedAt: number) => ({
      ...ended(n, 'rolled_back', endedAt),
      error: { name: 'TransientError', message: 'eu-west-1 does not answer /coordination/status: HTTP 500' },
    });
    expect(decide([transient(1, T0)], T0 + 89_000)).toMatchObject({ start: false });
    expect(decide([transient(1, T0)], T0 + 90_000)).toEqual({ start: true });
    const twice = [transient(2, T0), transient(1, T0 - 200_000)];
    expect(decide(twice, T0 + 179_000)).toMatchObject({ start: false });
    expect(decide(twice, T0 + 180_000)).toEqual({ start: true });
    // Any other error keeps the cooldown.
    const other = {
      ...ended(1, 'rolled_back', T0),
      error: { name: 'TargetRegionFailure', message: 'no room' },
    };
    expect(decide([other], T0 + 599_000)).toMatchObject({ start: false });
  });

  it('a completed failover only imposes the cooldown', () => {
    const records = [ended(1, 'completed', T0)];
    expect(decide(records, T0 + 1000).start).toBe(false);
    expect(decide(records, T0 + 601_000).start).toBe(true);
  });

  it('never counts the attempt it is deciding about', () => {
    const same = { ...ended(1, 'rolled_back', T0), failover_id: 'failover-us-east-1-e99' };
    expect(decide([same], T0 + 1000)).toEqual({ start: true });
  });
});
