/**
 * A crash of the coordinator in the middle of a failover, on the shipped default topology, on the
 * virtual clock (test/support/sim-plane.ts): the workflow's executions die with the process while the
 * record says `running`; the restarted process must end it (completed, or rolled back) with one
 * primary, and an abort must always end it. The stores keep what was written: the record is the
 * durable progress. The same on real processes (`kill -9` of the local control plane, dynalite on
 * disk) is test/e2e/kill-9.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { FailoverRecord } from '../../lib/core/failover/types.ts';
import { isServing } from '../../lib/core/state/records.ts';
import { SimPlane, shippedTopology } from '../support/sim-plane.ts';

const INTERVAL_MS = 30_000;

/** us-east-1 down; eu-west-1 coordinates its failover and crashes once a step is recorded. */
async function crashMidFailover(): Promise<{ plane: SimPlane; id: string }> {
  const plane = await SimPlane.start(shippedTopology());
  await plane.untilAllHealthy();
  await plane.fault({ kind: 'down', region: 'us-east-1' });
  const running = await plane.until(
    async () => {
      const [record] = await plane.state('eu-west-1').listFailovers('us-east-1');
      expect(record?.status).toBe('running');
      expect(record?.steps.length).toBeGreaterThan(0);
      return record as FailoverRecord;
    },
    20 * INTERVAL_MS,
    100,
  );
  expect(running.coordinator).toBe('eu-west-1');
  // Down for two minutes: its executions die now; it resumes what it coordinates when it is back.
  await plane.fault({ kind: 'crash', region: 'eu-west-1', downMs: 120_000 });
  await plane.advance(10_000);
  expect((await plane.state('ap-south-1').getFailover(running.failover_id))?.status).toBe('running');
  return { plane, id: running.failover_id };
}

describe('a crash of the coordinator in the middle of a failover', () => {
  // Invariant: a crash never strands a failover; the restarted coordinator (or the one that takes
  // over a stranded failover) resumes it from its record, and it ends with one primary.
  it('resumes after the restart and ends completed, with one primary', async () => {
    const { plane, id } = await crashMidFailover();
    const done = await plane.until(async () => {
      const record = await plane.state('eu-west-1').getFailover(id);
      expect(['completed', 'rolled_back']).toContain(record?.status);
      return record as FailoverRecord;
    }, 20 * INTERVAL_MS);
    expect(done.status).toBe('completed');
    await plane.advance(5_000);
    for (const replica of ['eu-west-1', 'ap-south-1']) {
      const statuses = await plane.state(replica).listRegionStatuses();
      const primaries = statuses.filter((s) => s.role === 'primary' && isServing(s.status));
      expect(primaries.map((s) => s.region_id)).toEqual(['eu-west-1']);
      expect(statuses.find((s) => s.region_id === 'us-east-1')?.status).toBe('failed');
    }
    expect(
      plane.world.log.some((l) => l.what === `eu-west-1 resumed ${id}` || l.what.includes(`took over ${id}`)),
    ).toBe(true);
    plane.expectNoViolations();
  });

  // Invariant: an abort always ends a failover, even one whose execution died.
  it('an abort asked while nothing ran it ends it after the restart', async () => {
    const { plane, id } = await crashMidFailover();
    // Asked at another region's API: the request is recorded and replicates; nothing runs it yet.
    const aborted = await plane.post('ap-south-1', `/v1/failovers/${id}/abort`, { reason: 'crash drill' });
    expect(aborted.status, JSON.stringify(aborted.body)).toBe(200);
    const done = await plane.until(async () => {
      const record = await plane.state('eu-west-1').getFailover(id);
      expect(['rolled_back', 'cancelled']).toContain(record?.status);
      return record as FailoverRecord;
    }, 20 * INTERVAL_MS);
    expect(done.error?.name).toBe('OperatorAbort');
    const statuses = await plane.state('eu-west-1').listRegionStatuses();
    expect(statuses.filter((s) => s.role === 'primary' && isServing(s.status)).length).toBeLessThanOrEqual(1);
    plane.expectNoViolations();
  });
});
