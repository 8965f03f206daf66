/**
 * The background jobs' handlers publish the spec's key metrics as CloudWatch embedded metric format
 * through the Lambda root's publisher (lib/runtime/metrics.ts): namespace `Cortex`, dimensions
 * `region` (and `pair` for latency and lag), one EMF record per dimension set, every sample a value.
 * The handlers run through their middy chains on the local runtime's deps, with a probe that reaches
 * every peer at 42 ms and reports a quarter of its capacity free.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createComplianceAuditHandler } from '../../functions/compliance-audit/handler.ts';
import { createFailoverHandler } from '../../functions/failover/handler.ts';
import { createHealthProbeHandler } from '../../functions/health-probe/handler.ts';
import { createLatencySamplerHandler } from '../../functions/latency-sampler/handler.ts';
import { createReplicationMonitorHandler } from '../../functions/replication-monitor/handler.ts';
import { LATENCY_LINK_MESSAGE } from '../../lib/app/metrics.ts';
import type { FailoverRecord } from '../../lib/core/failover/types.ts';
import type { ProbeObservation } from '../../lib/core/health/types.ts';
import type { ProbePort } from '../../lib/ports.ts';
import { type LocalRuntime, startLocalRuntime } from '../../lib/runtime/local.ts';
import { emfPublisher } from '../../lib/runtime/metrics.ts';
import { loadTopologyFile } from '../../lib/topology/load.ts';
import { lambdaContext } from '../support/events.ts';
import { ManualScheduler } from '../support/manual-time.ts';

const US = 'us-east-1';

interface EmfRecord {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: string; readonly Unit: string }[];
    }[];
  };
  readonly [key: string]: unknown;
}

/** Every EMF record written to stdout while `run` runs. */
async function emitted(run: () => Promise<unknown>): Promise<EmfRecord[]> {
  const lines: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    await run();
  } finally {
    write.mockRestore();
  }
  return lines
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as EmfRecord);
}

/** The records of metric `name`, as { dimensions, value } (value: a number or the list of samples). */
function values(records: readonly EmfRecord[], name: string) {
  return records
    .filter((r) => r._aws.CloudWatchMetrics.some((m) => m.Metrics.some((x) => x.Name === name)))
    .map((r) => {
      const [directive] = r._aws.CloudWatchMetrics;
      const dimensions = Object.fromEntries((directive?.Dimensions[0] ?? []).map((d) => [d, r[d]]));
      return { dimensions, value: r[name] };
    });
}

const reachable: ProbePort = {
  async probe(observer, target, endpoint): Promise<ProbeObservation> {
    return {
      observer,
      target,
      endpoint,
      ok: true,
      status: 200,
      latency_ms: 42,
      at: scheduler.now(),
      reported_status: 'healthy',
      available_capacity: 0.25,
    };
  },
};

let scheduler: ManualScheduler;
let runtime: LocalRuntime;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cortex-metrics-'));
  scheduler = new ManualScheduler();
  runtime = await startLocalRuntime({
    topology: loadTopologyFile(),
    dataDir,
    fresh: true,
    inMemory: true,
    replicationLagMs: 0,
    scheduler,
    probe: reachable,
    log: () => undefined,
  });
});

afterAll(async () => {
  await runtime?.close();
  await rm(dataDir, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("metric emission from the jobs' handlers", () => {
  it("a probe round, delivered by its queue, publishes the lowest availability and the busiest peer's utilization it sees", async () => {
    const deps = runtime.region(US).deps;
    const handler = createHealthProbeHandler(deps, { log: () => {}, metrics: emfPublisher() });
    const minute = {
      started_at: new Date(scheduler.now()).toISOString(),
      budget_ms: 75_000,
      cursor: { started: 0 },
    };
    // The round as the minute driver's queue delivers it: one SQS record whose body is the payload.
    const message = {
      Records: [{ eventSource: 'aws:sqs', messageId: 'round0', body: JSON.stringify({ minute }) }],
    };
    const records = await emitted(() => handler(message, lambdaContext));
    for (const record of records) {
      expect(record._aws.CloudWatchMetrics[0]?.Namespace).toBe('Cortex');
      // Only the catalog's dimensions: Powertools' default `service` dimension is dropped.
      expect(record._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['region']]);
      expect(record.service).toBeUndefined();
    }
    // One figure each, of the observer: what its alarm compares (every region serving: 100).
    expect(values(records, 'RegionAvailability')).toEqual([{ dimensions: { region: US }, value: 100 }]);
    expect(values(records, 'RegionalUtilization')).toEqual([{ dimensions: { region: US }, value: 75 }]);
    const units = records.flatMap((r) => r._aws.CloudWatchMetrics[0]?.Metrics ?? []);
    expect(new Set(units.map((u) => `${u.Name}:${u.Unit}`))).toEqual(
      new Set(['RegionAvailability:Percent', 'RegionalUtilization:Percent']),
    );
  });

  it("a latency sampler run publishes the worst link against its target, and logs each link's percentiles for the dashboard", async () => {
    const deps = runtime.region(US).deps;
    if (!deps.latency) throw new Error('no latency store');
    const lines: string[] = [];
    const handler = createLatencySamplerHandler(
      { ...deps, latency: deps.latency },
      { log: (line) => lines.push(line), metrics: emfPublisher() },
    );
    const records = await emitted(() => handler({ samples: 3 }, lambdaContext));
    const peers = runtime.topology.regions.map((r) => r.region_id).filter((r) => r !== US);
    // 42 ms on every link: 42 % of the strictest target (p50, 100 ms); no metric a link.
    expect(values(records, 'LatencyOverTarget')).toEqual([{ dimensions: { region: US }, value: 42 }]);
    expect(records.map((r) => r._aws.CloudWatchMetrics[0]?.Metrics)).toEqual([
      [{ Name: 'LatencyOverTarget', Unit: 'Percent' }],
    ]);
    const links = lines.map((l) => JSON.parse(l)).filter((l) => l.message === LATENCY_LINK_MESSAGE);
    expect(links).toEqual(
      peers.map((peer) => ({
        level: 'info',
        message: LATENCY_LINK_MESSAGE,
        region: US,
        peer,
        p50_ms: 42,
        p95_ms: 42,
        p99_ms: 42,
      })),
    );
  });

  it('a replication monitor round publishes the longest lag of the links into this replica', async () => {
    const monitor = (region: string, metrics?: ReturnType<typeof emfPublisher>) =>
      createReplicationMonitorHandler(runtime.region(region).deps, {
        log: () => {},
        sleep: async () => {},
        ...(metrics ? { metrics } : {}),
      });
    // The peers beat first, and their marks reach this replica: then each link has a lag to measure.
    for (const region of runtime.topology.regions.map((r) => r.region_id)) {
      if (region !== US) await monitor(region)({ rounds: 1 }, lambdaContext);
    }
    scheduler.advance(1_000);
    await runtime.replication.flush();
    const handler = monitor(US, emfPublisher());
    const records = await emitted(() => handler({ rounds: 1 }, lambdaContext));
    const lags = values(records, 'ReplicationLag');
    expect(lags).toHaveLength(1);
    expect(lags[0]?.dimensions).toEqual({ region: US });
    expect(typeof lags[0]?.value).toBe('number');
    expect(lags[0]?.value as number).toBeGreaterThanOrEqual(0);
  });

  it('the daily audit publishes its residency violations and success rate', async () => {
    const deps = runtime.region(US).deps;
    const handler = createComplianceAuditHandler(deps, { log: () => {}, metrics: emfPublisher() });
    let report: Awaited<ReturnType<typeof handler>> | undefined;
    const records = await emitted(async () => {
      report = await handler({}, lambdaContext);
    });
    expect(values(records, 'ResidencyViolations')).toEqual([
      { dimensions: { region: US }, value: report?.violations_by_type.data_residency ?? 0 },
    ]);
    expect(values(records, 'AuditSuccessRate')).toEqual([
      { dimensions: { region: US }, value: report?.compliance_score },
    ]);
    expect(records[0]?._aws.CloudWatchMetrics[0]?.Metrics).toEqual([
      { Name: 'ResidencyViolations', Unit: 'Count' },
      { Name: 'AuditSuccessRate', Unit: 'Percent' },
    ]);
  });

  it('the failover step that completes a failover publishes its time; a replay publishes nothing', async () => {
    const deps = runtime.region(US).deps;
    const now = deps.clock.now();
    const record: FailoverRecord = {
      failover_id: 'failover-ap-south-1-metrics',
      kind: 'failover',
      failed_region: 'ap-south-1',
      target_region: US,
      trigger: 'manual',
      reason: 'metrics test',
      status: 'running',
      coordinator: US,
      epoch: 1,
      dry_run: false,
      initiated_at: new Date(now - 123_000).toISOString(),
      updated_at: new Date(now - 123_000).toISOString(),
      workloads_migrated: 0,
      workloads_pending: 0,
      steps: [],
      previous_statuses: [],
      abort_requested: false,
    };
    await deps.state.createFailover(record);
    const handler = createFailoverHandler(deps, { metrics: emfPublisher() });
    const event = { action: 'complete', failover_id: record.failover_id };
    const records = await emitted(() => handler(event, lambdaContext));
    expect(values(records, 'FailoverTime')).toEqual([{ dimensions: { region: US }, value: 123 }]);
    expect(records[0]?._aws.CloudWatchMetrics[0]?.Metrics).toEqual([
      { Name: 'FailoverTime', Unit: 'Seconds' },
    ]);
    // Step Functions retried the step after it succeeded: the failover is counted once.
    const retried = await emitted(() =>
      expect(handler(event, lambdaContext)).rejects.toThrow(/already completed/),
    );
    expect(retried).toEqual([]);
  });

  it('a publisher that cannot publish reports it and the job still answers', async () => {
    const warnings: string[] = [];
    const publisher = emfPublisher({
      warn: (message, error) => warnings.push(`${message}: ${String(error)}`),
    });
    // A metric name CloudWatch refuses (empty) makes Powertools throw.
    publisher.publish([{ name: '' as never, value: 1, dimensions: { region: US } }]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^metrics not published: /);
  });
});
