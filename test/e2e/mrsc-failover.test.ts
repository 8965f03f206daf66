/**
 * Failover on the shipped topology/us-mrsc.json, whose three regions are in one MRSC region set
 * (us-east-1, us-east-2, us-west-2): region statuses, failovers and handoffs live in the strongly
 * consistent table `cortex-critical` (lib/adapters/local/mrsc.ts locally). A region cut off from both others can
 * neither read nor write that table: its /health answers 503 STATE_UNAVAILABLE (DNS pulls it) and
 * it routes nothing, while the majority fails it over with records every region reads at once.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it, vi } from 'vitest';
import { StateUnavailableError } from '../../lib/core/errors.ts';
import { formatBanner, type LocalControlPlane } from '../../lib/local/control-plane.ts';
import { call, untilAllHealthy, usePlane, withFastPolicy } from '../support/plane.ts';

const SPEED = 15;
const INTERVAL_MS = 10_000;
const REAL_INTERVAL_MS = INTERVAL_MS / SPEED;

const logged: string[] = [];
const plane = usePlane('cortex-mrsc-failover-', SPEED);

async function start(): Promise<LocalControlPlane> {
  // The shipped example topology (topology/us-mrsc.json) with the fast policy.
  const raw = JSON.parse(await readFile(new URL('../../topology/us-mrsc.json', import.meta.url), 'utf8'));
  const cp = await plane.start(withFastPolicy(raw), { log: (line) => void logged.push(line) });
  await untilAllHealthy(cp, 8 * REAL_INTERVAL_MS);
  return cp;
}

describe('failover with the MRSC table on the local control plane', () => {
  it('pulls a cut-off region (its strong state unavailable) and fails it over from the majority', async () => {
    const cp = await start();
    expect(formatBanner(cp)).toMatch(/mrsc\s+cortex-critical {2}\(statuses, failovers, handoffs/);
    const state = (region: string) => cp.runtime.region(region).deps.state;
    const injected = await call(`${cp.gatewayUrl}/v1/sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ region: 'us-east-1', kind: 'partition' }),
    });
    expect(injected.status).toBe(201);

    // The cut-off side: no majority of cortex-critical, so /health is 503 and nothing is routed.
    const health = await call(`${cp.regions['us-east-1']?.url}/health`);
    expect(health.status).toBe(503);
    expect(health.body.error).toMatchObject({ code: 'STATE_UNAVAILABLE', region: 'us-east-1' });
    const routed = await call(`${cp.regions['us-east-1']?.url}/v1/route`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task_id: 'task-cut-off', priority: 'high', source: { region: 'us-east-1' } }),
    });
    expect(routed.status).toBe(503);
    await expect(state('us-east-1').listRegionStatuses()).rejects.toBeInstanceOf(StateUnavailableError);

    // The majority fails it over; every region of the majority reads the one record at once.
    const record = await vi.waitFor(
      async () => {
        const [failover] = await state('us-east-2').listFailovers('us-east-1');
        expect(failover?.status).toBe('completed');
        return failover;
      },
      { timeout: 50 * REAL_INTERVAL_MS, interval: 50 },
    );
    expect(record).toMatchObject({ failed_region: 'us-east-1', target_region: 'us-east-2' });
    expect(await state('us-west-2').getFailover(record?.failover_id ?? '')).toEqual(record);
    expect((await state('us-west-2').getRegionStatus('us-east-1'))?.status).toBe('failed');
    const sync = record?.steps.find((s) => s.action === 'sync_critical_state');
    expect(sync?.detail).toContain('synchronous data is in the MRSC table cortex-critical');
    expect(logged.some((line) => /cortex-critical is unavailable from us-east-1/.test(line))).toBe(true);

    // Healed, the region reads the majority's decision: it was failed over while cut off.
    await call(`${cp.gatewayUrl}/v1/sim/faults`, { method: 'DELETE' });
    expect((await state('us-east-1').getRegionStatus('us-east-1'))?.status).toBe('failed');
  });

  it('fails a region taken down over to the next by priority, every record in the MRSC table', async () => {
    const cp = await start();
    const state = (region: string) => cp.runtime.region(region).deps.state;
    const injected = await call(`${cp.gatewayUrl}/v1/sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ region: 'us-east-1', kind: 'down' }),
    });
    expect(injected.status).toBe(201);
    const record = await vi.waitFor(
      async () => {
        const [failover] = await state('us-west-2').listFailovers('us-east-1');
        expect(failover?.status).toBe('completed');
        return failover;
      },
      { timeout: 50 * REAL_INTERVAL_MS, interval: 50 },
    );
    expect(record).toMatchObject({
      failed_region: 'us-east-1',
      target_region: 'us-east-2',
      trigger: 'automatic',
    });
    // One failover: the two survivors read the same record and statuses, with no replication to wait for.
    for (const region of ['us-east-2', 'us-west-2']) {
      expect((await state(region).listFailovers()).map((f) => f.failover_id)).toEqual([record?.failover_id]);
      expect((await state(region).getRegionStatus('us-east-2'))?.role).toBe('primary');
    }
    const routed = await call(`${cp.gatewayUrl}/v1/route`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task_id: 'task-after', priority: 'high', source: { region: 'us-east-1' } }),
    });
    expect(routed.status).toBe(200);
    expect(routed.body.region).not.toBe('us-east-1');
  });
});
