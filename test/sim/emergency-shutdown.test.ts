/**
 * An operator's emergency shutdown on the virtual clock (test/support/sim-plane.ts), with the
 * simulator's invariants checked after every event: the region gets no new task from the moment of
 * the shutdown, its pending work moves at once, its accepted work may finish until the drain ends and
 * is moved after it, and no probe starts an automatic failover of it, even when it stops answering.
 * A restore brings it back at a higher epoch. The fast policy (10 s x 3) on the default topology with
 * a third of the spec's usage, as test/sim/drain.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { restoreRegion, shutdownRegion } from '../../lib/app/ops/emergency-shutdown.ts';
import { ConflictError } from '../../lib/core/errors.ts';
import type { DailyReport } from '../../lib/core/ops/daily-report.ts';
import type { IncidentRecord } from '../../lib/core/ops/shutdown.ts';
import type { OpsPort } from '../../lib/ports.ts';
import { defaultTopologyJson, inQuietHour, withFastPolicy } from '../fixtures/topologies.ts';
import { SimPlane } from '../support/sim-plane.ts';

const SHUT = 'us-east-1';
const OPERATOR_AT = 'eu-west-1';

/** The incident store as a map: what the use case needs of it here. */
function memoryOps(): OpsPort {
  const incidents = new Map<string, IncidentRecord>();
  const reports = new Map<string, DailyReport>();
  return {
    createIncident: async (record) => {
      const current = incidents.get(record.incident_id);
      if (current) throw new ConflictError('INCIDENT_EXISTS', record.incident_id, current);
      incidents.set(record.incident_id, record);
    },
    getIncident: async (id) => incidents.get(id),
    listIncidents: async () => [...incidents.values()].reverse(),
    replaceIncident: async (record, expected) => {
      const current = incidents.get(record.incident_id);
      if (current?.status !== expected)
        throw new ConflictError('INCIDENT_CHANGED', record.incident_id, current);
      incidents.set(record.incident_id, record);
    },
    putReport: async (report) => void reports.set(report.report_id, report),
    getReport: async (id) => reports.get(id),
    listReports: async () => [...reports.values()].reverse(),
  };
}

async function start(): Promise<SimPlane> {
  const plane = await SimPlane.start(inQuietHour(withFastPolicy(defaultTopologyJson())));
  await plane.untilAllHealthy();
  return plane;
}

/** A task routed from us-east-1 that the router places there (latency-sensitive: the nearest). */
async function routedThere(plane: SimPlane, taskId: string): Promise<string> {
  const routed = await plane.post(SHUT, '/v1/route', {
    task_id: taskId,
    source: { region: SHUT },
    requirements: { latency_sensitive: true, workers: 1, compute_units: 5 },
  });
  expect(routed.status, JSON.stringify(routed.body)).toBe(200);
  expect(routed.body.region).toBe(SHUT);
  return routed.body.handoff.handoff_id;
}

describe('an emergency shutdown', () => {
  it('takes no new task, moves pending work at once and accepted work after the drain, and never fails it over', async () => {
    const plane = await start();
    const ops = memoryOps();
    const running = await routedThere(plane, 'task-running');
    const waiting = await routedThere(plane, 'task-waiting');
    const accepted = await plane.post(SHUT, `/v1/handoffs/${running}/accept`, { worker: 'worker-1' });
    expect(accepted.status).toBe(200);
    // The incident counts the work as the operator's region's replica holds it: let it arrive.
    await plane.advance(2_000);

    const shut = await shutdownRegion({ ...plane.world.deps(OPERATOR_AT), ops }, SHUT, {
      reason: 'drill',
      confirm: SHUT,
      drain_timeout_seconds: 120,
    });
    expect(shut.incident.work_at_shutdown).toEqual({ pending: 1, accepted: 1 });

    // From the write on, the region that wrote it sends no new task there.
    const elsewhere = await plane.post(OPERATOR_AT, '/v1/route', {
      task_id: 'task-new',
      source: { region: SHUT },
      requirements: { latency_sensitive: true },
    });
    expect(elsewhere.body.region).not.toBe(SHUT);
    // The region itself refuses new work once the write has replicated to it.
    await plane.advance(2_000);
    expect((await plane.post(SHUT, `/v1/handoffs/${waiting}/accept`, { worker: 'late' })).status).toBe(503);

    // Pending work moves within a few rounds; the accepted task may run on until the drain ends.
    await plane.until(async () => {
      const handoff = await plane.state(OPERATOR_AT).getHandoff(waiting);
      expect(handoff?.target_region).not.toBe(SHUT);
    }, 60_000);
    expect((await plane.state(SHUT).getHandoff(running))?.status).toBe('accepted');
    expect((await plane.state(SHUT).getHandoff(running))?.target_region).toBe(SHUT);

    // It stops answering: the observers see it gone, and still no failover of it starts.
    await plane.fault({ kind: 'down', region: SHUT });
    await plane.advance(10 * plane.intervalMs);
    for (const region of plane.regionIds.filter((r) => r !== SHUT)) {
      expect(await plane.state(region).listFailovers(SHUT)).toEqual([]);
    }

    // After the drain, the accepted task is moved with its ended acceptance kept.
    await plane.until(async () => {
      const handoff = await plane.state(OPERATOR_AT).getHandoff(running);
      expect(handoff?.target_region).not.toBe(SHUT);
      expect(handoff?.interruptions?.[0]?.region).toBe(SHUT);
    }, 5 * 60_000);

    // Back up and restored: serving again at a higher epoch.
    await plane.fault({ kind: 'up', region: SHUT });
    await plane.advance(3 * plane.intervalMs);
    const restored = await restoreRegion({ ...plane.world.deps(OPERATOR_AT), ops }, SHUT, { confirm: SHUT });
    expect(restored.status).toMatchObject({ status: 'healthy', epoch: shut.status.epoch + 1 });
    await plane.untilAllHealthy();
    await plane.until(async () => {
      const again = await plane.post(SHUT, '/v1/route', {
        task_id: `task-after-restore-${plane.now()}`,
        source: { region: SHUT },
        requirements: { latency_sensitive: true },
      });
      expect(again.body.region, JSON.stringify(again.body)).toBe(SHUT);
    }, 10 * plane.intervalMs);
    plane.expectNoViolations();
  });

  it('is never undone by a fenced region unfencing: a shutdown written at its fence epoch holds', async () => {
    const raw = inQuietHour(withFastPolicy(defaultTopologyJson()));
    // No failover races the operator here: the shutdown is the only decision about the cut-off region.
    raw.failover_policies.automatic_failover.enabled = false;
    // Replication slower than the probes: the cut-off region reaches a majority again long before
    // the shutdown's write reaches its replica, so only what its peers report can hold it.
    const plane = await SimPlane.start(raw, { lagMs: 45_000 });
    await plane.untilAllHealthy(30 * plane.intervalMs);
    await plane.isolate(SHUT);
    // Cut off, it fences itself (epoch 1 in its own replica, which the others do not get yet).
    await plane.until(async () => {
      expect((await plane.state(SHUT).getRegionStatus(SHUT))?.status).toBe('fenced');
    }, 10 * plane.intervalMs);
    const fencedAt = (await plane.state(SHUT).getRegionStatus(SHUT))?.epoch;
    // Meanwhile the operator shuts it down from a region that never saw the fence: the same epoch.
    const shut = await shutdownRegion({ ...plane.world.deps(OPERATOR_AT), ops: memoryOps() }, SHUT, {
      reason: 'compliance order',
      confirm: SHUT,
    });
    expect(shut.status.epoch).toBe(fencedAt);
    await plane.fault({ kind: 'heal' });
    for (let round = 0; round < 12; round++) {
      await plane.advance(plane.intervalMs);
      for (const region of plane.regionIds) {
        const status = await plane.state(region).getRegionStatus(SHUT);
        expect(status?.status, `${region} after round ${round}`).not.toBe('healthy');
      }
    }
    for (const region of plane.regionIds) {
      expect((await plane.state(region).getRegionStatus(SHUT))?.status).toBe('shutdown');
    }
    expect((await plane.get(SHUT, '/health')).status).toBe(503);
    plane.expectNoViolations();
  });

  // Invariant: one primary at a time across a shutdown. us-east-1 is primary when the operator shuts
  // it down (a shut-down primary holds the role no more); a failover promotes ap-south-1 meanwhile.
  // Restored with the role it had, us-east-1 would serve as a second primary: it comes back active.
  it('restores a shut-down primary as its topology role when another region was promoted meanwhile', async () => {
    const plane = await start();
    const { state } = plane.world.deps(OPERATOR_AT);
    const promote = async (region: string) => {
      const current = await state.getRegionStatus(region);
      await state.putRegionStatus(
        {
          region_id: region,
          status: 'healthy',
          role: 'primary',
          epoch: (current?.epoch ?? 0) + 1,
          reason: 'scripted promotion',
          updated_at: new Date(plane.now()).toISOString(),
          updated_by: `failover-scripted@${OPERATOR_AT}`,
        },
        current?.epoch,
      );
    };
    await promote(SHUT);
    const ops = memoryOps();
    await shutdownRegion({ ...plane.world.deps(OPERATOR_AT), ops }, SHUT, { reason: 'drill', confirm: SHUT });
    await promote('ap-south-1');
    await plane.advance(2_000);
    const restored = await restoreRegion({ ...plane.world.deps(OPERATOR_AT), ops }, SHUT, { confirm: SHUT });
    expect(restored.status).toMatchObject({ status: 'healthy', role: 'active' });
    await plane.advance(2_000);
    for (const region of plane.regionIds) {
      const primaries = (await plane.state(region).listRegionStatuses()).filter((s) => s.role === 'primary');
      expect(primaries.map((s) => s.region_id)).toEqual(['ap-south-1']);
    }
    plane.expectNoViolations();
  });
});
