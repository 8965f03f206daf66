/**
 * Failover timing on the local control plane, in simulated seconds (DESIGN principle 8): a region is
 * taken down and we record when the majority's failover started, when the failed region's status
 * flipped (the data-plane "DNS flip" Route 53 follows), when the DNS answer changed, and when the
 * failover completed. Run at a modest speed: local work is multiplied by the speed too.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FailoverRecord } from '../lib/core/failover/types.ts';
import { startLocalControlPlane } from '../lib/local/control-plane.ts';
import { defaultTopologyJson } from '../test/fixtures/topologies.ts';

export interface FailoverTiming {
  readonly policy: string;
  readonly detection_window_s: number;
  /** Fault -> failover record created (the majority agreed). */
  readonly detected_s: number;
  /** Fault -> the failed region's status is `failed` (update_dns_routing). */
  readonly status_flip_s: number;
  /** Fault -> `api.cortex.local` answers another region. */
  readonly dns_flip_s: number;
  /** Failover started -> status flipped: the orchestration's share. */
  readonly orchestration_s: number;
  /** Drain wait the workflow was told to do (in-flight handoffs). */
  readonly drain_s: number;
  readonly completed_s: number;
  readonly target: string | undefined;
}

async function until<T>(what: string, deadlineMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * `usage`: `spec` keeps the topology's usage snapshot as shipped (no survivor has 50 % free: the
 * failover spreads the work); `quiet` uses a third of it (a single target qualifies).
 */
export async function measureFailover(
  intervalSeconds: number,
  speed: number,
  usage: 'spec' | 'quiet' = 'quiet',
): Promise<FailoverTiming & { readonly usage: string; readonly mode?: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'cortex-bench-failover-'));
  const raw = defaultTopologyJson();
  raw.failover_policies.health_check.interval_seconds = intervalSeconds;
  raw.failover_policies.health_check.timeout_seconds = Math.min(10, intervalSeconds - 2);
  raw.deployment.traffic_distribution.health_check_interval_seconds = intervalSeconds;
  // A quiet hour, so a target with the required 50 % free capacity exists (see README).
  for (const pool of Object.values<{ current_usage: Record<string, number> }>(
    usage === 'quiet' ? raw.global_resource_pool.regional_allocation : {},
  )) {
    for (const key of Object.keys(pool.current_usage)) {
      pool.current_usage[key] = Math.floor((pool.current_usage[key] ?? 0) / 3);
    }
  }
  const topologyPath = join(dir, 'topology.json');
  await writeFile(topologyPath, JSON.stringify(raw));
  const plane = await startLocalControlPlane({
    port: 0,
    dataDir: join(dir, 'data'),
    fresh: true,
    topologyPath,
    speed,
    replicationLagMs: 500,
    log: () => {},
  });
  try {
    const interval = intervalSeconds * 1000;
    const realMs = (simMs: number) => simMs / speed;
    const state = plane.runtime.region('eu-west-1').deps.state;
    // Let every observer see every region healthy for a few rounds first.
    await until('healthy views', realMs(10 * interval), async () => {
      const views = await state.listTargetHealth();
      return views.filter((v) => v.verdict === 'healthy').length >= 9 ? true : undefined;
    });
    const t0 = plane.clock.now();
    plane.network.inject({ region: 'us-east-1', kind: 'down' });
    const record = await until<FailoverRecord>(
      'the failover to complete',
      realMs(40 * interval),
      async () => {
        const done = (await state.listFailovers('us-east-1')).find((f) => f.status !== 'running');
        return done;
      },
    );
    const dnsChange = await until('the DNS answer to change', realMs(20 * interval), async () =>
      plane.dns.answerChanges().find((c) => c.at >= t0 && c.region !== 'us-east-1'),
    );
    const at = (iso: string | undefined) => (iso ? Date.parse(iso) : Number.NaN);
    const step = (action: string) => record.steps.find((s) => s.action === action);
    const seconds = (ms: number) => Math.round(ms / 100) / 10;
    const flip = at(step('update_dns_routing')?.ended_at);
    const drain = step('drain_connections');
    return {
      policy: `${intervalSeconds} s x ${raw.failover_policies.health_check.failure_threshold}`,
      detection_window_s: intervalSeconds * raw.failover_policies.health_check.failure_threshold,
      detected_s: seconds(at(record.initiated_at) - t0),
      status_flip_s: seconds(flip - t0),
      dns_flip_s: seconds(dnsChange.at - t0),
      orchestration_s: seconds(flip - at(record.initiated_at)),
      drain_s: drain ? seconds(at(drain.ended_at) - at(drain.started_at)) : 0,
      completed_s: seconds(at(record.completed_at) - t0),
      target: record.target_region,
      usage,
      ...(record.mode === undefined ? {} : { mode: record.mode }),
    };
  } finally {
    await plane.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
