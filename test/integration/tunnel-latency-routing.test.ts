/**
 * Routing on the mesh tunnels' latency, through the router's HTTP API on the local runtime
 * (`topology/default.json` with the us-east-1 to eu-west-1 tunnel down). Invariant: a pair without
 * a fresh measured figure is routed on the declared latency of the path its traffic takes now (here
 * the detour through ap-south-1), never on the static matrix while a tunnel path exists, and each
 * candidate says which source it used; a fresh measurement still wins.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { type LocalRuntime, startLocalRuntime } from '../../lib/runtime/local.ts';
import { defaultTopologyJson, inQuietHour } from '../fixtures/topologies.ts';
import { ManualScheduler } from '../support/manual-time.ts';
import { callRegion } from '../support/regional-call.ts';

const US = 'us-east-1';
let runtime: LocalRuntime;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cortex-tunnel-routing-'));
  const raw = inQuietHour(defaultTopologyJson());
  const tunnel = raw.cross_region_networking.vpn_mesh.tunnels.find(
    (t: { tunnel_id: string }) => t.tunnel_id === 'us-east-1-to-eu-west-1',
  );
  tunnel.status = 'down';
  runtime = await startLocalRuntime({
    topology: validateTopology(raw),
    dataDir,
    fresh: true,
    inMemory: true,
    scheduler: new ManualScheduler(),
  });
});

afterAll(async () => {
  await runtime.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function candidates(taskId: string) {
  const answer = await callRegion(runtime.region(US).deps, 'POST', '/v1/route', {
    task_id: taskId,
    source: { region: US },
    requirements: { latency_sensitive: true, max_latency_ms: 600 },
  });
  expect(answer.status).toBe(200);
  return new Map(
    (answer.body.candidates as { region: string; latency_ms: number; latency_source: string }[]).map((c) => [
      c.region,
      c,
    ]),
  );
}

describe('routing without measured latency', () => {
  it('takes the tunnel path latency before the static matrix and says so', async () => {
    const seen = await candidates('tunnel-1');
    // us-east-1 to eu-west-1 through ap-south-1: 200 + 150 ms, where the static matrix says 80.
    expect(seen.get('eu-west-1')).toMatchObject({ latency_ms: 350, latency_source: 'tunnel' });
    expect(seen.get('ap-south-1')).toMatchObject({ latency_ms: 200, latency_source: 'tunnel' });
    expect(seen.get(US)).toMatchObject({ latency_ms: 1, latency_source: 'matrix' });
    const matrix = await callRegion(runtime.region(US).deps, 'GET', `/v1/latency?from=${US}&to=eu-west-1`);
    expect(matrix.body.pairs[0]).toMatchObject({
      ms: 350,
      source: 'tunnel',
      via: 'ap-south-1',
      static_ms: 80,
    });
  });

  it('a fresh measured figure still wins over the tunnel', async () => {
    const latency = runtime.region(US).deps.latency;
    if (!latency) throw new Error('the local runtime keeps a latency matrix');
    const now = runtime.region(US).deps.clock.now();
    await latency.putLatency({
      from: US,
      to: 'eu-west-1',
      last_ms: 90,
      ewma_ms: 90,
      p50_ms: 90,
      p95_ms: 90,
      p99_ms: 90,
      window: [90],
      sample_count: 1,
      failure_count: 0,
      measured_at: now,
      sla_violated: false,
    });
    const seen = await candidates('tunnel-2');
    expect(seen.get('eu-west-1')).toMatchObject({ latency_ms: 90, latency_source: 'measured' });
    expect(seen.get('ap-south-1')?.latency_source).toBe('tunnel');
  });
});
