/**
 * The daily operations report (`cortex ops daily`, the daily job, `GET /v1/ops/reports`): the
 * spec's checks, each read through the use case that already answers it (regions and their health,
 * replication lag, the latency matrix, the resource pool, the compliance audits), judged by
 * lib/core/ops/daily-report.ts and stored as one record. A check whose reading fails says so; the
 * report is still written.
 *
 * The cost model (lib/core/cost) prices the synthesized CDK templates, which a Lambda cannot
 * synthesize at run time: the report carries a figure only when one was handed in (`cortex ops
 * daily` computes it where the CLI runs) or the last report had one, dated.
 */
import { messageOf, NotFoundError } from '../../core/errors.ts';
import {
  type Check,
  type CostReading,
  type DailyReport,
  judgeCapacity,
  judgeCompliance,
  judgeCost,
  judgeHealth,
  judgeLatency,
  judgeReplication,
  overallStatus,
  reportIdFor,
  unreadable,
} from '../../core/ops/daily-report.ts';
import type { Failovers, HealthViews, RegionStatuses } from '../../ports.ts';
import { listAudits } from '../compliance/audit.ts';
import type { Ports, WithState } from '../deps.ts';
import { readLatencyMatrix } from '../latency/matrix.ts';
import { listRegions } from '../regions.ts';
import { readReplicationLag } from '../replication/monitor.ts';
import { viewResources } from '../resources/view.ts';
import type { OpsDeps } from './deps.ts';

const DAY_MS = 86_400_000;

interface DailyReportOptions {
  readonly trigger: 'scheduled' | 'manual';
  /** The cost model's figure, computed where CDK can be synthesized (the CLI). */
  readonly cost_estimate?: {
    readonly total_usd: number;
    readonly computed_at: string;
    readonly price_book: string;
  };
}

export async function runDailyReport(
  deps: WithState<OpsDeps, RegionStatuses & HealthViews & Failovers>,
  options: DailyReportOptions,
): Promise<DailyReport> {
  const now = deps.clock.now();
  const [health, replication, latency, capacity, compliance, cost, incidents] = await Promise.all([
    guarded(async () => judgeHealth(await readHealth(deps))),
    guarded(async () => judgeReplication(await readLag(deps))),
    guarded(async () => judgeLatency(await readLatency(deps))),
    guarded(async () => judgeCapacity(await readCapacity(deps))),
    guarded(async () => judgeCompliance(await readCompliance(deps, now))),
    guarded(async () => judgeCost(await readCost(deps, options))),
    deps.ops.listIncidents().catch(() => []),
  ]);
  const checks = { health, replication, latency, capacity, compliance, cost };
  const report: DailyReport = {
    report_id: reportIdFor(deps.regionId, now),
    region: deps.regionId,
    date: new Date(now).toISOString().slice(0, 10),
    generated_at: new Date(now).toISOString(),
    trigger: options.trigger,
    status: overallStatus(checks),
    checks,
    open_incidents: incidents.filter((i) => i.status === 'open').map((i) => i.incident_id),
  };
  await deps.ops.putReport(report);
  try {
    await deps.events.publish([
      {
        type: 'ops.daily_report',
        source_region: deps.regionId,
        time: report.generated_at,
        detail: {
          report_id: report.report_id,
          status: report.status,
          findings: Object.values(checks).reduce((n, c) => n + c.findings.length, 0),
        },
      },
    ]);
  } catch {
    // Best effort: the report is stored, which is what an operator reads.
  }
  return report;
}

export type ReportSummary = Pick<
  DailyReport,
  'report_id' | 'region' | 'date' | 'generated_at' | 'trigger' | 'status' | 'open_incidents'
> & { readonly checks: Readonly<Record<keyof DailyReport['checks'], string>> };

/** Reports, newest first, each with its checks' statuses (the full report: getDailyReport). */
export async function listDailyReports(
  deps: Pick<Ports, 'ops'>,
  filter: { readonly limit?: number } = {},
): Promise<{ reports: ReportSummary[] }> {
  const all = await deps.ops.listReports();
  return {
    reports: all.slice(0, filter.limit ?? 30).map((r) => ({
      report_id: r.report_id,
      region: r.region,
      date: r.date,
      generated_at: r.generated_at,
      trigger: r.trigger,
      status: r.status,
      open_incidents: r.open_incidents,
      checks: Object.fromEntries(
        Object.entries(r.checks).map(([name, check]) => [name, check.status]),
      ) as ReportSummary['checks'],
    })),
  };
}

export async function getDailyReport(deps: Pick<Ports, 'ops'>, reportId: string): Promise<DailyReport> {
  const report = await deps.ops.getReport(reportId);
  if (!report) throw new NotFoundError('report', reportId);
  return report;
}

async function guarded<T>(read: () => Promise<Check<T>>): Promise<Check<T>> {
  try {
    return await read();
  } catch (error) {
    return unreadable<T>(messageOf(error));
  }
}

async function readHealth(deps: WithState<OpsDeps, RegionStatuses & HealthViews & Failovers>) {
  const { regions } = await listRegions(deps);
  return {
    regions: regions.map((r) => ({
      region: r.region_id,
      status: r.status,
      serving: r.serving,
      epoch: r.epoch,
      health: r.health.state,
      action: r.health.action,
    })),
  };
}

async function readLag(deps: Omit<OpsDeps, 'state'>) {
  const reading = await readReplicationLag(deps);
  return {
    pairs: reading.pairs.map((p) => ({
      source: p.source,
      replica: p.replica,
      status: p.status,
      lag_seconds: p.lag_seconds,
    })),
    unreachable: reading.unreachable.map((u) => u.region),
  };
}

async function readLatency(deps: Omit<OpsDeps, 'state'>) {
  const view = await readLatencyMatrix(deps);
  return {
    pairs: view.pairs.map((p) => ({
      from: p.from,
      to: p.to,
      ms: p.ms,
      source: p.source,
      breaches: (p.sla.verdict?.breaches ?? []).map(
        (b) => `${b.percentile} ${b.ms} ms over ${b.target_ms} ms`,
      ),
    })),
  };
}

async function readCapacity(deps: Omit<OpsDeps, 'state'>) {
  const view = await viewResources(deps);
  return {
    regions: view.regions.map((r) => ({
      region: r.region,
      level: r.level,
      utilization: r.utilization.overall,
    })),
  };
}

async function readCompliance(deps: Omit<OpsDeps, 'state'>, now: number) {
  const { audits } = await listAudits(deps, { limit: 500 });
  const recent = audits.filter((a) => now - Date.parse(a.audit_date) <= DAY_MS);
  const newest = new Map<string, (typeof recent)[number]>();
  for (const a of recent) if (!newest.has(a.region)) newest.set(a.region, a);
  return {
    audits: [...newest.values()].map((a) => ({
      audit_id: a.audit_id,
      region: a.region,
      status: a.status,
      compliance_score: a.compliance_score,
      total_violations: a.total_violations,
      audit_date: a.audit_date,
    })),
    missing: deps.topology.regions.map((r) => r.region_id).filter((id) => !newest.has(id)),
  };
}

async function readCost(deps: Pick<Ports, 'ops'>, options: DailyReportOptions): Promise<CostReading> {
  if (options.cost_estimate) {
    return {
      source: 'estimate',
      ...options.cost_estimate,
      basis:
        'the cost model over the synthesized templates (cortex cost), computed where the report was asked',
    };
  }
  const [last] = await deps.ops.listReports();
  const carried = last?.checks.cost.data;
  if (carried && carried.source !== 'unavailable' && carried.total_usd !== undefined) {
    return {
      ...carried,
      source: 'carried',
      basis: `the last computed figure (${carried.computed_at}, from ${last.report_id}); the cost model needs the synthesized templates, which a scheduled run cannot build`,
    };
  }
  return {
    source: 'unavailable',
    basis:
      'not available at run time: the cost model prices the synthesized CDK templates; run `cortex ops daily` (or `cortex cost`) where the CLI can synthesize them',
  };
}
