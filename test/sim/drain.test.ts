/**
 * The failover's drain on the virtual clock (test/support/sim-plane.ts): a region being failed over
 * takes no new work, and the drain waits for the work it had accepted, up to the policy's max wait.
 * Work that finishes in time stays where it ran; work still running when the wait ends is named in
 * the drain step, then re-routed by the redirect step's rules with its ended acceptance kept on the
 * record; `workloads_migrated` counts what actually moved. A manual failover of a region that still
 * answers, so its workers can finish (or not) while it drains. The fast policy (10 s x 3) on the
 * default topology with a third of the spec's usage, as test/sim/failover.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { failoverTimings } from '../../lib/app/failover/timings.ts';
import type { FailoverRecord, FailoverStepRecord } from '../../lib/core/failover/types.ts';
import { defaultTopologyJson, inQuietHour, withFastPolicy } from '../fixtures/topologies.ts';
import { SimPlane } from '../support/sim-plane.ts';

const FAILED = 'us-east-1';
const COORDINATOR = 'eu-west-1';

async function start(): Promise<SimPlane> {
  const raw = inQuietHour(withFastPolicy(defaultTopologyJson()));
  const plane = await SimPlane.start(raw);
  await plane.untilAllHealthy();
  return plane;
}

/** A task routed from us-east-1 that the router places there (latency-sensitive: the nearest). */
async function routedToFailed(plane: SimPlane, taskId: string): Promise<string> {
  const routed = await plane.post(FAILED, '/v1/route', {
    task_id: taskId,
    priority: 'high',
    source: { region: FAILED },
    requirements: { latency_sensitive: true, workers: 1, compute_units: 5 },
  });
  expect(routed.status, JSON.stringify(routed.body)).toBe(200);
  expect(routed.body.region).toBe(FAILED);
  return routed.body.handoff.handoff_id;
}

async function accept(plane: SimPlane, id: string, worker: string): Promise<void> {
  const accepted = await plane.post(FAILED, `/v1/handoffs/${id}/accept`, { worker });
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(200);
}

async function failOverManually(plane: SimPlane): Promise<string> {
  const started = await plane.post(COORDINATOR, '/v1/failovers', {
    failed_region: FAILED,
    reason: 'drain drill',
  });
  expect(started.status, JSON.stringify(started.body)).toBe(202);
  return started.body.failover_id;
}

async function ended(plane: SimPlane, id: string): Promise<FailoverRecord> {
  const record = await plane.until(async () => {
    const current = await plane.state(COORDINATOR).getFailover(id);
    expect(['running', 'awaiting_approval']).not.toContain(current?.status ?? 'running');
    return current as FailoverRecord;
  }, 20 * 60_000);
  expect(record.status, `${id} ended ${record.status}: ${JSON.stringify(record.error)}`).toBe('completed');
  return record;
}

function drainSteps(record: FailoverRecord): FailoverStepRecord[] {
  return record.steps.filter((s) => s.action === 'drain_connections');
}

/** Seconds from the drain's first check to its last. */
function drainSeconds(record: FailoverRecord): number {
  const steps = drainSteps(record);
  const first = steps[0] as FailoverStepRecord;
  const last = steps[steps.length - 1] as FailoverStepRecord;
  return (Date.parse(last.ended_at) - Date.parse(first.started_at)) / 1000;
}

describe('draining a region that is failed over', () => {
  // Invariant: the drain waits for accepted work and ends when it has finished, before the max
  // wait; finished work is not moved and not counted as migrated.
  it('waits for accepted work, and ends as soon as it has finished', async () => {
    const plane = await start();
    const maxWait = failoverTimings(plane.topology).drain_max_wait_seconds;
    const running = await routedToFailed(plane, 'drain-running-1');
    const waiting = await routedToFailed(plane, 'drain-pending-1');
    await accept(plane, running, 'worker-a');
    await plane.advance(1_000);

    const id = await failOverManually(plane);
    // Draining: the region refuses new work while its accepted task runs on.
    await plane.until(async () => {
      const record = await plane.state(COORDINATOR).getFailover(id);
      expect(drainSteps(record as FailoverRecord).some((s) => s.outcome === 'waiting')).toBe(true);
    }, 5 * 60_000);
    expect((await plane.post(FAILED, `/v1/handoffs/${waiting}/accept`, { worker: 'late' })).status).toBe(503);
    await plane.advance(20_000);
    const completed = await plane.post(FAILED, `/v1/handoffs/${running}/complete`, {});
    expect(completed.status, JSON.stringify(completed.body)).toBe(200);

    const record = await ended(plane, id);
    const last = drainSteps(record).at(-1) as FailoverStepRecord;
    expect(last.outcome).toBe('succeeded');
    expect(last.detail).toContain('no handoff in flight');
    expect(drainSeconds(record)).toBeGreaterThanOrEqual(20);
    expect(drainSeconds(record)).toBeLessThan(maxWait);
    expect(record.workloads_migrated).toBe(1);

    await plane.advance(2_000);
    const finished = await plane.state(COORDINATOR).getHandoff(running);
    expect(finished).toMatchObject({ status: 'completed', target_region: FAILED, accepted_by: 'worker-a' });
    expect(finished?.interruptions).toBeUndefined();
    const moved = await plane.state(COORDINATOR).getHandoff(waiting);
    expect(moved?.target_region).not.toBe(FAILED);
    expect(moved?.redirected_from).toBe(FAILED);
    plane.expectNoViolations();
  }, 60_000);

  // Invariant: accepted work still running when the max wait ends is never dropped: the drain step
  // counts and names it, the redirect step re-routes it (its acceptance kept on the record, as an
  // interruption) and workloads_migrated counts it with the pending work that moved.
  it('names the work still running when its max wait ends, and the redirect step re-routes it', async () => {
    const plane = await start();
    const maxWait = failoverTimings(plane.topology).drain_max_wait_seconds;
    const running = await routedToFailed(plane, 'drain-running-2');
    const waiting = await routedToFailed(plane, 'drain-pending-2');
    await accept(plane, running, 'worker-b');
    await plane.advance(1_000);
    const acceptedAt = (await plane.state(FAILED).getHandoff(running))?.accepted_at;

    const id = await failOverManually(plane);
    const record = await ended(plane, id);
    expect(drainSeconds(record)).toBeGreaterThanOrEqual(maxWait);
    const last = drainSteps(record).at(-1) as FailoverStepRecord;
    expect(last.outcome).toBe('succeeded');
    expect(last.detail).toContain(`max wait of ${maxWait} s passed with 1 handoff(s) still in flight`);
    expect(last.detail).toContain(`${running} (accepted by worker-b)`);
    const redirect = record.steps.find((s) => s.action === 'redirect_traffic');
    expect(redirect?.detail).toBe(
      `1 pending handoff(s) re-routed and 1 accepted one(s) still running in ${FAILED} (interrupted) (2 in all)` +
        `; MCP: n8n -> ap-south-1 (4 server(s) stay down with ${FAILED})`,
    );
    expect(record.workloads_migrated).toBe(2);
    expect(record.workloads_pending).toBe(0);

    const incomplete = plane.events.filter((e) => e.type === 'failover.drain_incomplete');
    expect(incomplete.map((e) => e.detail)).toEqual([
      {
        failover_id: id,
        region: FAILED,
        max_wait_seconds: maxWait,
        in_flight: [
          {
            handoff_id: running,
            task_id: 'drain-running-2',
            accepted_by: 'worker-b',
            accepted_at: acceptedAt,
          },
        ],
      },
    ]);

    await plane.advance(2_000);
    const moved = await plane.state(COORDINATOR).getHandoff(running);
    expect(moved).toMatchObject({ status: 'pending', redirected_from: FAILED });
    expect(moved?.target_region).not.toBe(FAILED);
    expect(moved?.accepted_by).toBeUndefined();
    expect(moved?.interruptions).toEqual([
      {
        region: FAILED,
        accepted_at: acceptedAt,
        accepted_by: 'worker-b',
        at: expect.any(String),
        reason: `still running in ${FAILED} when the drain of ${id} ended (max wait ${maxWait} s)`,
      },
    ]);
    expect((await plane.state(COORDINATOR).getHandoff(waiting))?.redirected_from).toBe(FAILED);

    // Its new region's workers take it up as any pending work.
    const target = moved?.target_region as string;
    const taken = await plane.post(target, `/v1/handoffs/${running}/accept`, { worker: 'worker-c' });
    expect(taken.status, JSON.stringify(taken.body)).toBe(200);
    expect(taken.body).toMatchObject({ status: 'accepted', accepted_by: 'worker-c' });
    plane.expectNoViolations();
  }, 60_000);

  // Invariant: accepted work whose record reaches a failed region's replica after its failover (late
  // replication) is an orphan like pending work: moved by the same rules, its acceptance kept.
  it('moves accepted work that reaches the failed region after its failover', async () => {
    const plane = await start();
    const id = await failOverManually(plane);
    await ended(plane, id);
    const at = new Date(plane.now() - 600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    await plane.state('ap-south-1').createHandoff({
      handoff_id: 'cross-region-late-accepted-1',
      task_id: 'late-accepted-1',
      source_region: FAILED,
      target_region: FAILED,
      routing_score: 50,
      status: 'accepted',
      created_at: at,
      accepted_at: at,
      accepted_by: 'worker-d',
      task: { task_id: 'late-accepted-1', priority: 'normal', source: { region: FAILED } },
      request_hash: 'late',
      decision: { candidates: [], excluded: [] },
    });
    const moved = await plane.until(async () => {
      const found = await plane.state(COORDINATOR).getHandoff('cross-region-late-accepted-1');
      expect(found?.redirected_from).toBe(FAILED);
      expect(found?.target_region).not.toBe(FAILED);
      return found;
    }, 3 * 60_000);
    expect(moved).toMatchObject({ status: 'pending', redirected_from: FAILED });
    expect(moved?.accepted_by).toBeUndefined();
    expect(moved?.interruptions).toEqual([
      {
        region: FAILED,
        accepted_at: at,
        accepted_by: 'worker-d',
        at: expect.any(String),
        reason: `accepted in ${FAILED}, which ${id} failed over`,
      },
    ]);
    plane.expectNoViolations();
  }, 60_000);
});
