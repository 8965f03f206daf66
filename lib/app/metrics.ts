/**
 * The spec's key metrics (Monitoring and Metrics) as plain data points, read from what the use cases
 * report. Where they go is the composition root's choice (embedded metric format on Lambda,
 * lib/runtime/metrics.ts; nowhere on the local plane), so no use case or handler knows a metrics
 * library, and the alarms (lib/infra/monitoring.ts) name the same metrics from this one catalog.
 */
import type { ComplianceAuditReport } from '../core/compliance/types.ts';
import { isServing } from '../core/state/records.ts';
import type { Topology } from '../core/topology/types.ts';
import type { FailoverActionResult } from './failover/step-context.ts';
import type { SamplerReport } from './latency/sampler.ts';
import type { ProbeRoundReport } from './probe-round.ts';
import type { ReplicationRoundReport } from './replication/monitor.ts';

/** One CloudWatch namespace for every Cortex metric. */
export const METRIC_NAMESPACE = 'Cortex';

/** The CloudWatch units the catalog uses (names as CloudWatch and Powertools spell them). */
export type MetricUnitName = 'Percent' | 'Milliseconds' | 'Seconds' | 'Count';

/**
 * Each metric, its unit and its dimensions. `region` is the region that publishes the figure (the
 * observer, for what a round sees of every region); `pair` names a directed link `<from>-><to>`
 * (latency is measured from this region to a peer). Each metric and dimension set is a custom metric
 * CloudWatch bills by the hour: a per-region or per-link series is published only where an alarm
 * at its own threshold or the dashboard needs it; what a round sees of several regions or links is
 * folded into the one value an alarm compares (the lowest availability, the busiest peer, the longest
 * lag, the worst link's percentile against its target), which crosses the threshold whenever any
 * region's or link's own figure does. Each link's own percentiles are in the sampler's log line
 * (`LATENCY_LINK_MESSAGE`), which the dashboard reads with Logs Insights: no metric for a graph.
 */
export const METRICS = {
  /**
   * The lowest availability of any region as this observer's probe round sees them: 100 while every
   * region serves, 0 while one does not (a majority declares it failed, or it is the observer's own
   * region and not serving).
   */
  RegionAvailability: { unit: 'Percent', dimensions: ['region'] },
  /**
   * The worst link from `region`, per sampler run: the highest of each link's p50, p95 and p99 over
   * its window (the latency matrix's own figures) as a percentage of the monitoring target for that
   * percentile. Over 100 whenever one link's percentile is over its target.
   */
  LatencyOverTarget: { unit: 'Percent', dimensions: ['region'] },
  /** How far `region`'s replica trails the furthest behind of its sources, per monitor round. */
  ReplicationLag: { unit: 'Seconds', dimensions: ['region'] },
  /** A completed failover coordinated by `region`: from initiation to completion. */
  FailoverTime: { unit: 'Seconds', dimensions: ['region'] },
  /** The busiest resource (workers, tokens, compute) of the busiest peer this region's probe reads. */
  RegionalUtilization: { unit: 'Percent', dimensions: ['region'] },
  /** Data-residency violations a compliance audit of `region` found. */
  ResidencyViolations: { unit: 'Count', dimensions: ['region'] },
  /** The share of a compliance audit's checks that passed. */
  AuditSuccessRate: { unit: 'Percent', dimensions: ['region'] },
} as const satisfies Record<string, { unit: MetricUnitName; dimensions: readonly ('region' | 'pair')[] }>;

export type MetricName = keyof typeof METRICS;

export interface MetricDimensions {
  readonly region: string;
  readonly pair?: string;
}

export interface MetricPoint {
  readonly name: MetricName;
  readonly value: number;
  readonly dimensions: MetricDimensions;
}

/** Where metric points go; publishing never throws into the caller (a lost figure is not an outage). */
export interface MetricsPublisher {
  publish(points: readonly MetricPoint[]): void;
}

/**
 * The `message` of the latency sampler's line for one link (`region`, `peer`, `p50_ms`, `p95_ms`,
 * `p99_ms` over the link's window), one a link each run: the dashboard's latency graphs query it.
 */
export const LATENCY_LINK_MESSAGE = 'latency link';

/**
 * A probe round, from its observer: the lowest availability of the topology's regions (a region is
 * 0 when a majority of its observers declares it failed, and the observer's own region also when it
 * is not serving: draining, fenced, failed) and the highest utilization of the peers it read
 * (`1 - available_capacity`, in percent). Each region's own figures are in the round's log line.
 */
export function probeRoundMetrics(topology: Topology, round: ProbeRoundReport): MetricPoint[] {
  const failed = new Set(round.assessment.failed.map((f) => f.region));
  const dimensions = { region: round.observer };
  const down = topology.regions.some(
    ({ region_id: region }) => failed.has(region) || (region === round.observer && !isServing(round.status)),
  );
  const points: MetricPoint[] = [{ name: 'RegionAvailability', value: down ? 0 : 100, dimensions }];
  const used = round.views.flatMap((view) =>
    view.available_capacity === undefined ? [] : [(1 - view.available_capacity) * 100],
  );
  if (used.length > 0)
    points.push({ name: 'RegionalUtilization', value: round1(Math.max(...used)), dimensions });
  return points;
}

/**
 * A latency sampler run: the worst link's percentile against its target (`LatencyOverTarget`, when
 * some link has an entry). Each link's own figures are its log line's (LATENCY_LINK_MESSAGE).
 */
export function latencySamplerMetrics(topology: Topology, report: SamplerReport): MetricPoint[] {
  const targets = topology.monitoring.performance.cross_region_latency;
  const shares = report.pairs.flatMap(({ entry }) =>
    entry
      ? [
          entry.p50_ms / targets.p50_target,
          entry.p95_ms / targets.p95_target,
          entry.p99_ms / targets.p99_target,
        ]
      : [],
  );
  if (shares.length === 0) return [];
  const worst = round1(Math.max(...shares) * 100);
  return [{ name: 'LatencyOverTarget', value: worst, dimensions: { region: report.region } }];
}

/**
 * A replication monitor round: the longest lag of the links into this region's replica that it
 * could measure (nothing when it measured none). Each link's own lag is in the round's log line.
 */
export function replicationRoundMetrics(round: ReplicationRoundReport): MetricPoint[] {
  const lags = round.links.flatMap((link) => (link.lag_seconds === null ? [] : [link.lag_seconds]));
  if (lags.length === 0) return [];
  return [{ name: 'ReplicationLag', value: Math.max(...lags), dimensions: { region: round.observer } }];
}

/** The background job that publishes a metric (its function's name in the stacks). */
export type MetricPublisherJob =
  | 'health-probe'
  | 'latency-sampler'
  | 'replication-monitor'
  | 'failover'
  | 'compliance-audit';

/** One custom metric (a metric and dimension set) and the job whose runs publish it. */
export interface MetricSeries {
  readonly name: MetricName;
  readonly dimensions: MetricDimensions;
  readonly publisher: MetricPublisherJob;
}

/**
 * Every custom metric region `regionId`'s functions publish, as the functions above make them: what
 * CloudWatch bills (lib/core/cost) and what the alarms can name (lib/infra/monitoring.ts).
 */
export function metricSeries(regionId: string): MetricSeries[] {
  const region = { region: regionId };
  return [
    { name: 'RegionAvailability', dimensions: region, publisher: 'health-probe' },
    { name: 'RegionalUtilization', dimensions: region, publisher: 'health-probe' },
    { name: 'LatencyOverTarget', dimensions: region, publisher: 'latency-sampler' },
    { name: 'ReplicationLag', dimensions: region, publisher: 'replication-monitor' },
    { name: 'FailoverTime', dimensions: region, publisher: 'failover' },
    { name: 'ResidencyViolations', dimensions: region, publisher: 'compliance-audit' },
    { name: 'AuditSuccessRate', dimensions: region, publisher: 'compliance-audit' },
  ];
}

/** A failover step: only the step that completes a failover carries its time. */
export function failoverStepMetrics(regionId: string, result: FailoverActionResult): MetricPoint[] {
  if (result.action !== 'complete' || result.status !== 'completed') return [];
  if (result.replayed || result.failover_seconds === undefined) return [];
  return [{ name: 'FailoverTime', value: result.failover_seconds, dimensions: { region: regionId } }];
}

/** A compliance audit: its residency violations and the share of its checks that passed. */
export function auditMetrics(report: ComplianceAuditReport): MetricPoint[] {
  const region = report.region;
  return [
    {
      name: 'ResidencyViolations',
      value: report.violations_by_type.data_residency ?? 0,
      dimensions: { region },
    },
    { name: 'AuditSuccessRate', value: report.compliance_score, dimensions: { region } },
  ];
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
