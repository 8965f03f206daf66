/**
 * The latency sampler against the local control plane's simulated endpoints: each region-to-region
 * call is delayed by the topology's matrix figure (simulateLatency), so the sampler must recover
 * the matrix: each sample is the pair's figure plus the real time of its HTTP round trip, never less,
 * and never more than the call really took. Also: the SLA events fire on crossing and recovery only,
 * and `GET /v1/latency` answers the matrix with its sources and rejects bad queries.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type LatencySamplerDeps, runLatencySampler } from '../../lib/app/latency/sampler.ts';
import type { ProbeObservation } from '../../lib/core/health/types.ts';
import type { LatencyEntry } from '../../lib/core/latency/stats.ts';
import type { Topology } from '../../lib/core/topology/types.ts';
import { validateTopology } from '../../lib/core/topology/validate.ts';
import { type LocalControlPlane, startLocalControlPlane } from '../../lib/local/control-plane.ts';
import type { ControlPlaneEvent, LatencyPort, ProbePort } from '../../lib/ports.ts';
import { defaultTopologyJson } from '../fixtures/topologies.ts';
import { cli } from '../support/cli.ts';

/**
 * The recovery test's plane runs fast enough that the link delay it sleeps (200 simulated ms at
 * most) passes in a fraction of a real millisecond, so nearly all of a call's real time is the HTTP
 * round trip the sample adds to the matrix figure.
 */
const RECOVERY_SPEED = 1_000;

async function startPlane(dataDir: string, speed: number): Promise<LocalControlPlane> {
  return startLocalControlPlane({
    port: 0,
    dataDir,
    fresh: true,
    speed,
    simulateLatency: true,
    latencySampler: false,
    probeRounds: false,
    complianceAudits: false,
    log: () => {},
  });
}

/** The region's probe, recording how long each call really took (monotonic ms), in call order per target. */
function timedProbe(probe: ProbePort): { probe: ProbePort; realMs: Map<string, number[]> } {
  const realMs = new Map<string, number[]>();
  return {
    realMs,
    probe: {
      probe: async (observer, target, endpoint, timeoutMs) => {
        const started = performance.now();
        const seen = await probe.probe(observer, target, endpoint, timeoutMs);
        realMs.set(target, [...(realMs.get(target) ?? []), performance.now() - started]);
        return seen;
      },
    },
  };
}

describe('latency sampler recovers the matrix', () => {
  let plane: LocalControlPlane;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cortex-latency-recovery-'));
    plane = await startPlane(dataDir, RECOVERY_SPEED);
  });

  afterAll(async () => {
    await plane?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  // The sampler must measure each pair's own link: a sample never reads below the pair's matrix
  // figure (the simulated delay is counted at its simulated value), and what it reads above it is
  // real time spent inside that very call (the HTTP round trip), so it never exceeds the call's own
  // duration. A busy machine lengthens both sides alike; a delay counted twice, scaled by the speed
  // or taken from another pair reads more than the call took.
  it('reads each pair at its matrix figure plus no more than the real time of the call', async () => {
    const { topology } = plane.runtime;
    const runs = await Promise.all(
      plane.runtime.regions.map(async (region) => {
        const { latency, probe } = region.deps;
        if (!latency) throw new Error('no latency store');
        const timed = timedProbe(probe);
        const report = await runLatencySampler({ ...region.deps, latency, probe: timed.probe });
        return { report, realMs: timed.realMs };
      }),
    );
    for (const { report, realMs } of runs) {
      expect(report.requests).toBe(2 * 3);
      for (const pair of report.pairs) {
        const expected = topology.latency.matrix[report.region]?.[pair.to] as number;
        const calls = realMs.get(pair.to) ?? [];
        expect(pair.failures).toBe(0);
        expect(pair.samples).toHaveLength(3);
        expect(calls).toHaveLength(3);
        pair.samples.forEach((sample, i) => {
          const where = `${report.region}->${pair.to} sample ${i}: ${sample} ms, call took ${calls[i]} ms`;
          expect(sample, where).toBeGreaterThanOrEqual(expected);
          // 0.1: the sample is rounded to a tenth of a millisecond.
          expect(sample - expected, where).toBeLessThanOrEqual((calls[i] as number) + 0.1);
        });
        expect(pair.entry?.ewma_ms).toBeGreaterThanOrEqual(expected);
        expect(pair.entry?.ewma_ms).toBeLessThanOrEqual(Math.max(...pair.samples));
      }
    }
  });
});

describe('latency sampler on simulated endpoints', () => {
  let plane: LocalControlPlane;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cortex-latency-'));
    // At speed 1 the samples stay fresh (180 simulated s) however long a busy machine takes.
    plane = await startPlane(dataDir, 1);
    await Promise.all(
      plane.runtime.regions.map((region) => {
        const { latency } = region.deps;
        if (!latency) throw new Error('no latency store');
        return runLatencySampler({ ...region.deps, latency });
      }),
    );
  });

  afterAll(async () => {
    await plane?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('GET /v1/latency answers every pair with the figure routing uses, its source and statistics', async () => {
    type LatencyBody = {
      regions: string[];
      sampling: { interval_seconds: number; samples_per_run: number; fresh_for_seconds: number };
      matrix: Record<string, Record<string, number>>;
      pairs: {
        from: string;
        to: string;
        ms: number;
        source: string;
        static_ms: number;
        measured?: { p50_ms: number; sample_count: number };
        sla: { p50_target_ms: number; verdict?: { ok: boolean } };
      }[];
    };
    // The gateway's region reads its own replica: the other regions' rows reach it by replication,
    // which a busy machine delays, so the read is repeated until every row has arrived.
    const read = async () => {
      const response = await fetch(`${plane.gatewayUrl}/v1/latency`);
      expect(response.status).toBe(200);
      const body = (await response.json()) as LatencyBody;
      expect(body.pairs.filter((p) => p.from !== p.to && p.measured?.sample_count === 3)).toHaveLength(6);
      return body;
    };
    const body = await vi.waitFor(read, { timeout: 20_000, interval: 50 });
    expect(body.regions).toEqual(['us-east-1', 'eu-west-1', 'ap-south-1']);
    expect(body.sampling).toEqual({ interval_seconds: 60, samples_per_run: 3, fresh_for_seconds: 180 });
    expect(body.pairs).toHaveLength(9);
    const euToUs = body.pairs.find((p) => p.from === 'eu-west-1' && p.to === 'us-east-1');
    expect(euToUs).toMatchObject({ source: 'measured', static_ms: 80, sla: { p50_target_ms: 100 } });
    expect(euToUs?.measured?.sample_count).toBe(3);
    expect(body.matrix['eu-west-1']?.['us-east-1']).toBe(euToUs?.ms);
    const self = body.pairs.find((p) => p.from === 'us-east-1' && p.to === 'us-east-1');
    expect(self).toMatchObject({ ms: 1, source: 'static' });
    const far = body.pairs.find((p) => p.from === 'us-east-1' && p.to === 'ap-south-1');
    expect(far?.sla.verdict?.ok).toBe(false);
  });

  it('GET /v1/latency filters by from and to, and rejects unknown regions and fields with 400', async () => {
    const one = await fetch(`${plane.gatewayUrl}/v1/latency?from=us-east-1&to=eu-west-1`);
    expect(((await one.json()) as { pairs: unknown[] }).pairs).toHaveLength(1);
    const bad = await fetch(`${plane.gatewayUrl}/v1/latency?from=mars-1`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { code: 'VALIDATION_FAILED', details: [{ field: 'from' }] },
    });
    const unknown = await fetch(`${plane.gatewayUrl}/v1/latency?window=5`);
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(await unknown.json())).toContain('window');
  });
});

describe('cortex latency', () => {
  let plane: LocalControlPlane;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cortex-latency-cli-'));
    plane = await startPlane(dataDir, 1);
    const us = plane.runtime.region('us-east-1').deps;
    if (!us.latency) throw new Error('no latency store');
    await runLatencySampler({ ...us, latency: us.latency }, { samples: 1 });
  });

  afterAll(async () => {
    await plane?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("prints the matrix with measured cells and the mesh tunnels' fallback figures, and each pair with its SLA verdict", async () => {
    const { out, run } = cli();
    expect(await run('latency', '--endpoint', plane.gatewayUrl)).toBe(0);
    const text = out.join('\n');
    expect(text).toMatch(/FROM \\ TO\s+us-east-1\s+eu-west-1\s+ap-south-1/);
    expect(text).toMatch(/eu-west-1\s+80 \(tunnel\)/);
    expect(text).toMatch(/us-east-1\s+ap-south-1\s+\d+(\.\d)? ms\s+measured.*p50 \d+(\.\d)? > 100/);
    expect(text).toMatch(/eu-west-1\s+us-east-1\s+80 ms\s+tunnel \(direct\)\s+-/);
  });

  it('exits 1 naming the field for an unknown region, and prints JSON with --json', async () => {
    const bad = cli();
    expect(await bad.run('latency', '--endpoint', plane.gatewayUrl, '--from', 'mars-1')).toBe(1);
    expect(bad.err.join('\n')).toContain('from');
    const json = cli();
    expect(await json.run('latency', '--endpoint', plane.gatewayUrl, '--json', '--to', 'eu-west-1')).toBe(0);
    expect(JSON.parse(json.out.join('\n')).pairs).toHaveLength(3);
  });
});

describe('latency SLA events', () => {
  function memoryLatency(): LatencyPort & { readonly entries: Map<string, LatencyEntry> } {
    const entries = new Map<string, LatencyEntry>();
    return {
      entries,
      listLatency: async () => [...entries.values()],
      putLatency: async (entry) => {
        entries.set(`${entry.from}->${entry.to}`, entry);
      },
    };
  }

  function deps(topology: Topology, latencyOf: () => number) {
    const events: ControlPlaneEvent[] = [];
    let now = Date.UTC(2026, 10, 26, 12);
    const latency = memoryLatency();
    const sampler: LatencySamplerDeps = {
      regionId: 'us-east-1',
      topology,
      state: {} as LatencySamplerDeps['state'],
      clock: { now: () => now },
      latency,
      events: { publish: async (batch) => void events.push(...batch) },
      probe: {
        probe: async (observer, target, endpoint): Promise<ProbeObservation> => ({
          observer,
          target,
          endpoint,
          ok: true,
          status: 200,
          latency_ms: target === 'eu-west-1' ? latencyOf() : 10,
          at: now,
        }),
      },
    };
    return { sampler, events, tick: () => (now += 60_000) };
  }

  it('emits latency.sla_violated when a pair crosses its SLA and latency.sla_recovered when it is back', async () => {
    let ms = 50;
    const topology = validateTopology(defaultTopologyJson());
    const { sampler, events, tick } = deps(topology, () => ms);
    await runLatencySampler(sampler);
    expect(events).toEqual([]);
    ms = 900;
    tick();
    await runLatencySampler(sampler);
    tick();
    await runLatencySampler(sampler);
    expect(events.map((e) => e.type)).toEqual(['latency.sla_violated']);
    expect(events[0]?.detail).toMatchObject({ from: 'us-east-1', to: 'eu-west-1' });
    ms = 40;
    // The window is 30 samples: the slow ones must leave it before p99 is back under 500 ms.
    for (let run = 0; run < 10; run++) {
      tick();
      await runLatencySampler(sampler);
    }
    expect(events.map((e) => e.type)).toEqual(['latency.sla_violated', 'latency.sla_recovered']);
  });

  it('a pair SLA decides for its pair', async () => {
    const topology = validateTopology({
      ...defaultTopologyJson(),
      latency: {
        ...defaultTopologyJson().latency,
        pair_slas: {
          'us-east-1->eu-west-1': { p50_target_ms: 1000, p95_target_ms: 1000, p99_target_ms: 1000 },
        },
      },
    });
    const { sampler, events } = deps(topology, () => 900);
    await runLatencySampler(sampler, { samples: 2 });
    expect(events).toEqual([]);
  });
});
