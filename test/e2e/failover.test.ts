/**
 * Failover end to end on the local control plane, the wiring of every part: faults injected over
 * HTTP, the probe rounds run by the scheduler in simulated time against dynalite, the failover
 * workflow run by aws-local-stepfunctions, DNS answered by the local DNS server from Route 53-like
 * health checks, the gateway following DNS. The fast policy (10 s x 3) at SPEED simulated ms per real
 * ms. The decisions themselves (partitions, flapping, lag, load) are tested on the virtual clock in
 * test/sim/failover.test.ts and test/sim/safety-under-load.test.ts.
 *
 * SPEED is bounded by the work each simulated interval costs (about 250 ms of CPU for three regions
 * and a witness against dynalite) and by the CPU a busy machine leaves the plane: latencies (scaled
 * by the speed) breach the 5 s p99 threshold, and probes their 10 s timeout, when the event loop
 * stalls for that long divided by SPEED. At 10 a busy machine's half-second stall failed a healthy
 * region; at 5 it takes a second.
 */
import { describe, expect, it, vi } from 'vitest';
import type { FailoverRecord } from '../../lib/core/failover/types.ts';
import type { LocalControlPlane } from '../../lib/local/control-plane.ts';
import { resolve } from '../../lib/local/dns.ts';
import { defaultTopologyJson, inQuietHour } from '../fixtures/topologies.ts';
import { post, untilAllHealthy, usePlane, withFastPolicy } from '../support/plane.ts';

const SPEED = 5;
const INTERVAL_MS = 10_000;
/** Real ms per simulated interval. */
const REAL_INTERVAL_MS = INTERVAL_MS / SPEED;

const REGIONS = ['us-east-1', 'eu-west-1', 'ap-south-1'] as const;

/**
 * How long a wait on the plane may take, in real time: thirty simulated intervals. Each wait is for a
 * state the plane reaches in a few intervals; a busy machine stretches that, and the deadline only
 * turns a plane that never gets there into a failure naming what it waited for.
 */
const PATIENCE_MS = 30 * REAL_INTERVAL_MS;
const TEST_TIMEOUT_MS = 5 * PATIENCE_MS;

const plane = usePlane('cortex-failover-', SPEED);
const running = plane.running;

/** A fresh control plane on ephemeral ports with the fast policy: probes and DNS checks every 10 s, 3 failures. */
async function start(options: { replicationLagMs?: number } = {}): Promise<LocalControlPlane> {
  const raw = inQuietHour(withFastPolicy(defaultTopologyJson()));
  const cp = await plane.start(
    raw,
    options.replicationLagMs === undefined ? {} : { replicationLagMs: options.replicationLagMs },
  );
  // Every observer sees every region healthy before anything is broken.
  await untilAllHealthy(cp, PATIENCE_MS);
  return cp;
}

function state(region: string) {
  return running().runtime.region(region).deps.state;
}

function waitFor<T>(check: () => Promise<T> | T, timeoutMs: number): Promise<T> {
  return vi.waitFor(check, { timeout: timeoutMs, interval: 20 });
}

function injectFault(fault: Record<string, unknown>) {
  return post(`${running().gatewayUrl}/v1/sim/faults`, fault);
}

/** The region `api.cortex.local` resolves to, from its A and TXT records (they must agree). */
async function dnsAnswer(): Promise<string> {
  const cp = running();
  const server = { address: cp.dns.address, port: cp.dns.port };
  const [a, txt] = await Promise.all([
    resolve(server, cp.dns.name, 'A'),
    resolve(server, cp.dns.name, 'TXT'),
  ]);
  const byAddress = Object.entries(cp.regions).find(([, r]) => r.address === a.addresses[0])?.[0];
  expect(txt.texts).toEqual([byAddress]);
  return byAddress ?? '';
}

/** Every failover record any replica holds, one entry per id (the newest copy). */
async function allFailovers(): Promise<FailoverRecord[]> {
  const byId = new Map<string, FailoverRecord>();
  for (const region of REGIONS) {
    for (const record of await state(region).listFailovers()) {
      const seen = byId.get(record.failover_id);
      if (!seen || record.updated_at > seen.updated_at) byId.set(record.failover_id, record);
    }
  }
  return [...byId.values()];
}

/**
 * Waits until `region`'s replica holds a finished failover of `failed` and checks it completed (a
 * rollback fails here with the record's own error, not with a timeout).
 */
async function settledFailover(region: string, failed: string, timeoutMs: number): Promise<FailoverRecord> {
  const record = await waitFor(async () => {
    await running().runtime.replication.flush({ all: true });
    const [failover] = await state(region).listFailovers(failed);
    expect(['running', 'awaiting_approval']).not.toContain(failover?.status ?? 'running');
    return failover as FailoverRecord;
  }, timeoutMs);
  expect(record.status, `${record.failover_id} ended ${record.status}: ${JSON.stringify(record.error)}`).toBe(
    'completed',
  );
  return record;
}

const TASK = (id: string) => ({ task_id: id, priority: 'high', source: { region: 'us-east-1' } });

describe('failover on the local control plane', () => {
  it(
    'fails a region taken down over to the next region by priority, flips its DNS answer and routes around it',
    async () => {
      const cp = await start();
      expect(await dnsAnswer()).toBe('us-east-1');

      const injected = await injectFault({ region: 'us-east-1', kind: 'down' });
      expect(injected.status).toBe(201);

      const record = await settledFailover('eu-west-1', 'us-east-1', PATIENCE_MS);
      expect(record).toMatchObject({
        failover_id: 'failover-us-east-1-e0',
        failed_region: 'us-east-1',
        target_region: 'eu-west-1',
        coordinator: 'eu-west-1',
        trigger: 'automatic',
      });
      expect((await allFailovers()).map((f) => f.failover_id)).toEqual(['failover-us-east-1-e0']);
      expect((await state('eu-west-1').getRegionStatus('us-east-1'))?.status).toBe('failed');

      await waitFor(async () => expect(await dnsAnswer()).toBe('eu-west-1'), PATIENCE_MS);
      expect(cp.layout().gateway.region).toBe('eu-west-1');

      // New routes avoid it: at a surviving region's endpoint, and through the gateway (which follows DNS).
      for (const [id, url] of [
        ['task-after-failover-1', cp.regions['ap-south-1']?.url],
        ['task-after-failover-2', cp.gatewayUrl],
      ] as const) {
        const routed = await waitFor(async () => {
          const answer = await post(`${url}/v1/route`, TASK(id));
          expect(answer.status).toBe(200);
          expect(answer.body.excluded.map((e: { region: string }) => e.region)).toContain('us-east-1');
          return answer;
        }, PATIENCE_MS);
        expect(routed.body.region).not.toBe('us-east-1');
      }

      // Its MCP servers moved with it where their rules allow: n8n (cross-region) to the survivor that
      // runs one; postgres (failover: none) stays down with its region, and discovery says why.
      const redirect = record.steps.find((s) => s.action === 'redirect_traffic');
      expect(redirect?.detail).toMatch(/MCP: n8n -> ap-south-1 \(4 server\(s\) stay down with us-east-1\)/);
      const euUrl = cp.regions['eu-west-1']?.url;
      const workflows = await fetch(`${euUrl}/v1/mcp/discover?capability=workflows&region=us-east-1`);
      expect(await workflows.json()).toMatchObject({
        basis: 'failover of us-east-1',
        server: { region: 'ap-south-1', server: 'n8n' },
      });
      const sql = await fetch(`${euUrl}/v1/mcp/discover?capability=sql&region=us-east-1`);
      expect(sql.status).toBe(422);
      expect(((await sql.json()) as { error: { message: string } }).error.message).toMatch(
        /postgres of us-east-1 cannot serve .* does not fail over \(failover: none\)/,
      );
    },
    TEST_TIMEOUT_MS,
  );
});
