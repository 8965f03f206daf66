/**
 * A DR drill on the real local control plane (HTTP, dynalite, replication, the runbooks in
 * aws-local-stepfunctions): data_corruption, the scenario the simulator cannot run (it has no
 * replication drills). The other scenarios' logic runs on the virtual clock in
 * test/sim/dr-drill.test.ts; this one proves the wiring `cortex dr drill` uses.
 */
import { describe, expect, it } from 'vitest';
import { drillOnLocalPlane } from '../../lib/cli/dr.ts';

describe('cortex dr drill on the local plane', () => {
  it('data_corruption: the corrupted copy is detected and repaired, every acknowledged write intact', async () => {
    const report = await drillOnLocalPlane('data_corruption', { speed: 10 });
    expect(report.verdict.misses).toEqual([]);
    expect(report.time_to_detect_seconds).not.toBeNull();
    expect(report.writes.acknowledged).toBeGreaterThan(0);
    expect(report.writes.lost).toBe(0);
    expect(report.survivors).toHaveLength(3);
  }, 180_000);
});
