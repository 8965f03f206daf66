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
 * Each metric, its unit and its dimensions. `region` is the region the figure is about; `pair` names
 * a directed link `<from>-><to>` (latency is measured from this region to a peer, replication lag
 * from a source into this region's replica).
 */
export const METRICS = {
  /** 100 while a region serves as this observer's probe round sees it, 0 while it does not. */
  RegionAvailability: { unit: 'Percent', dimensions: ['region'] },
  /** One probe round trip from `region` to a peer, per sample: p50/p95/p99 are CloudWatch statistics. */
  CrossRegionLatency: { unit: 'Milliseconds', dimensions: ['region', 'pair'] },
  /** How far `region`'s replica trails the pair's source, per monitor round. */
  ReplicationLag: { unit: 'Seconds', dimensions: ['region', 'pair'] },
  /** A completed failover coordinated by `region`: from initiation to completion. */
  FailoverTime: { unit: 'Seconds', dimensions: ['region'] },
  /** A region's busiest resource (workers, tokens, compute), as its peers' probes read it. */
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

/** The `pair` dimension of a directed link. */
export function pairDimension(from: string, to: string): string {
  return `${from}->${to}`;
}

/**
 * A probe round: each topology region's availability (0 when a majority of its observers declares
 * it failed, and for the observer's own region also when it is not serving: draining, fenced,
 * failed) and each probed peer's utilization (`1 - available_capacity`, in percent).
 */
export function probeRoundMetrics(topology: Topology, round: ProbeRoundReport): MetricPoint[] {
  const failed = new Set(round.assessment.failed.map((f) => f.region));
  const points: MetricPoint[] = topology.regions.map(({ region_id: region }) => ({
    name: 'RegionAvailability',
    value: failed.has(region) || (region === round.observer && !isServing(round.status)) ? 0 : 100,
    dimensions: { region },
  }));
  for (const view of round.views) {
    if (view.available_capacity === undefined) continue;
    points.push({
      name: 'RegionalUtilization',
      value: round1((1 - view.available_capacity) * 100),
      dimensions: { region: view.target },
    });
  }
  return points;
}

/** A latency sampler run: every successful sample of every pair (failures are not a latency). */
export function latencySamplerMetrics(report: SamplerReport): MetricPoint[] {
  return report.pairs.flatMap((pair) =>
    pair.samples.map((ms) => ({
      name: 'CrossRegionLatency' as const,
      value: ms,
      dimensions: { region: report.region, pair: pairDimension(report.region, pair.to) },
    })),
  );
}

/** A replication monitor round: the lag of each link into this region's replica that it could measure. */
export function replicationRoundMetrics(round: ReplicationRoundReport): MetricPoint[] {
  return round.links.flatMap((link) =>
    link.lag_seconds === null
      ? []
      : [
          {
            name: 'ReplicationLag' as const,
            value: link.lag_seconds,
            dimensions: { region: round.observer, pair: pairDimension(link.source, round.observer) },
          },
        ],
  );
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
