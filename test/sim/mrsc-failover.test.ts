/**
 * Failover on the shipped topology/us-mrsc.json, on the virtual clock (test/support/sim-plane.ts):
 * its three regions are in one MRSC region set (us-east-1, us-east-2, us-west-2), so region statuses,
 * failovers and handoffs live in the strongly consistent table, one copy read by every region through
 * its quorum guard. A region cut off from both others can neither read nor write that table: its
 * /health answers 503 STATE_UNAVAILABLE and it routes nothing, while the majority fails it over with
 * records every region reads at once. The local control plane's own MRSC stand-in (dynalite behind a
 * quorum guard) is wired end to end in test/e2e/mrsc-failover.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { StateUnavailableError } from '../../lib/core/errors.ts';
import type { FailoverRecord } from '../../lib/core/failover/types.ts';
import { withFastPolicy } from '../fixtures/topologies.ts';
import { SimPlane } from '../support/sim-plane.ts';

const INTERVAL_MS = 10_000;

async function start(): Promise<SimPlane> {
  // The shipped example topology with the fast policy.
  const raw = JSON.parse(readFileSync(new URL('../../topology/us-mrsc.json', import.meta.url), 'utf8'));
  withFastPolicy(raw);
  const plane = await SimPlane.start(raw);
  await plane.untilAllHealthy();
  return plane;
}

/** A region's state port as its own use cases have it: through its quorum guard. */
const own = (plane: SimPlane, region: string) => plane.world.deps(region).state;

describe('failover with the MRSC table', () => {
  // Invariants: a region without a majority of the MRSC table serves nothing (its strong state is
  // unavailable); the majority fails it over with one record that every region reads at once.
  it('pulls a cut-off region (its strong state unavailable) and fails it over from the majority', async () => {
    const plane = await start();
    await plane.isolate('us-east-1');

    const health = await plane.get('us-east-1', '/health');
    expect(health.status).toBe(503);
    expect(health.body.error).toMatchObject({ code: 'STATE_UNAVAILABLE', region: 'us-east-1' });
    const routed = await plane.post('us-east-1', '/v1/route', {
      task_id: 'task-cut-off',
      priority: 'high',
      source: { region: 'us-east-1' },
    });
    expect(routed.status).toBe(503);
    await expect(own(plane, 'us-east-1').listRegionStatuses()).rejects.toBeInstanceOf(StateUnavailableError);

    const record = await plane.until(async () => {
      const [failover] = await own(plane, 'us-east-2').listFailovers('us-east-1');
      expect(failover?.status).toBe('completed');
      return failover as FailoverRecord;
    }, 50 * INTERVAL_MS);
    expect(record).toMatchObject({ failed_region: 'us-east-1', target_region: 'us-east-2' });
    // Read at once in the other region of the majority: one copy, no replication to wait for.
    expect(await own(plane, 'us-west-2').getFailover(record.failover_id)).toEqual(record);
    expect((await own(plane, 'us-west-2').getRegionStatus('us-east-1'))?.status).toBe('failed');
    const sync = record.steps.find((s) => s.action === 'sync_critical_state');
    expect(sync?.detail).toContain('synchronous data is in the MRSC table');

    // Healed, the region reads the majority's decision: it was failed over while cut off.
    await plane.fault({ kind: 'heal' });
    expect((await own(plane, 'us-east-1').getRegionStatus('us-east-1'))?.status).toBe('failed');
    plane.expectNoViolations();
  });

  it('fails a region taken down over to the next by priority, every record in the MRSC table', async () => {
    const plane = await start();
    await plane.fault({ kind: 'down', region: 'us-east-1' });
    const record = await plane.until(async () => {
      const [failover] = await own(plane, 'us-west-2').listFailovers('us-east-1');
      expect(failover?.status).toBe('completed');
      return failover as FailoverRecord;
    }, 50 * INTERVAL_MS);
    expect(record).toMatchObject({
      failed_region: 'us-east-1',
      target_region: 'us-east-2',
      trigger: 'automatic',
    });
    // One failover: the two survivors read the same record and statuses, with no replication to wait for.
    for (const region of ['us-east-2', 'us-west-2']) {
      expect((await own(plane, region).listFailovers()).map((f) => f.failover_id)).toEqual([
        record.failover_id,
      ]);
      expect((await own(plane, region).getRegionStatus('us-east-2'))?.role).toBe('primary');
    }
    const routed = await plane.post('us-west-2', '/v1/route', {
      task_id: 'task-after',
      priority: 'high',
      source: { region: 'us-east-1' },
    });
    expect(routed.status, JSON.stringify(routed.body)).toBe(200);
    expect(routed.body.region).not.toBe('us-east-1');
    plane.expectNoViolations();
  });
});
