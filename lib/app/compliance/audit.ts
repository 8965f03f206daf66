/**
 * The compliance audit as a use case: read what this region's replica holds for the audited regions,
 * judge it (lib/core/compliance/audit.ts), copy the report to the archive bucket when one is
 * configured, store it with one conditional write and emit it. The archive comes first: a report in
 * the table is never missing from the bucket, and a failed copy fails the run, which is retried.
 * The daily run audits its own region (every region runs it) under one id per region and day, so a
 * retried invocation answers the stored report; a run on request audits the regions it names (all
 * by default) under a fresh id.
 */
import { randomBytes } from 'node:crypto';
import { auditCompliance } from '../../core/compliance/audit.ts';
import type { AuditStatus, ComplianceAuditReport } from '../../core/compliance/types.ts';
import { ConflictError, type FieldIssue, NotFoundError, ValidationError } from '../../core/errors.ts';
import { isoSeconds } from '../../core/time.ts';
import type { ComplianceDeps } from './deps.ts';

interface AuditOptions {
  readonly trigger: ComplianceAuditReport['trigger'];
  /** Regions to audit; default: this region for the daily run, every region on request. */
  readonly regions?: readonly string[];
}

/** A report as listed: everything but the violation details. */
type AuditSummary = Omit<ComplianceAuditReport, 'violations' | 'violations_omitted'>;

interface AuditList {
  readonly audits: readonly AuditSummary[];
  /** The spec's audit_success_rate over the listed audits: the share that found no violation. */
  readonly audit_success_rate: {
    readonly value: number | null;
    readonly target: number;
    readonly met: boolean;
  };
}

function auditIdFor(regionId: string, trigger: AuditOptions['trigger'], now: number): string {
  const stamp = isoSeconds(now).replace(/[-:]/g, '');
  const day = stamp.slice(0, 8);
  if (trigger === 'scheduled') return `audit-${regionId}-${day}`;
  return `audit-${regionId}-${day}t${stamp.slice(9, 15)}-${randomBytes(3).toString('hex')}`;
}

function scopeOf(deps: Omit<ComplianceDeps, 'state'>, options: AuditOptions): string[] {
  const known = deps.topology.regions.map((r) => r.region_id);
  const regions =
    options.regions ??
    (options.trigger === 'scheduled' ? [deps.regionId] : deps.topology.regions.map((r) => r.region_id));
  const issues: FieldIssue[] = [];
  regions.forEach((region, i) => {
    if (!known.includes(region)) {
      issues.push({
        field: `regions[${i}]`,
        reason: `unknown region "${region}"; known: ${known.join(', ')}`,
      });
    }
  });
  if (issues.length > 0) throw new ValidationError('invalid audit request', issues);
  return [...new Set(regions)];
}

async function publish(
  deps: Omit<ComplianceDeps, 'state'>,
  type: string,
  detail: Readonly<Record<string, unknown>>,
) {
  try {
    await deps.events.publish([
      { type, source_region: deps.regionId, time: isoSeconds(deps.clock.now()), detail },
    ]);
  } catch {
    // EventsPort implementations log their own failures; the stored report is the record.
  }
}

export async function runComplianceAudit(
  deps: ComplianceDeps,
  options: AuditOptions,
): Promise<ComplianceAuditReport> {
  const regions = scopeOf(deps, options);
  const store = deps.compliance;
  const now = deps.clock.now();
  const auditId = auditIdFor(deps.regionId, options.trigger, now);
  if (options.trigger === 'scheduled') {
    const stored = await store.getAudit(auditId);
    if (stored) return stored;
  }
  const [handoffs, approvals, failovers, audits, selective] = await Promise.all([
    Promise.all(regions.map((region) => deps.state.listHandoffsByTarget(region))).then((lists) =>
      lists.flat(),
    ),
    store.listApprovals(),
    deps.state.listFailovers(),
    store.listAudits(),
    // Only this region's replicas of the selective tables are readable here.
    regions.includes(deps.regionId) ? deps.selective.listRecords() : Promise.resolve([]),
  ]);
  const judged = auditCompliance({
    topology: deps.topology,
    facts: deps.deployment,
    now,
    audit_id: auditId,
    region: deps.regionId,
    trigger: options.trigger,
    regions,
    handoffs,
    approvals,
    failovers,
    audits,
    selective,
  });
  const report = deps.archive ? { ...judged, archived_to: await deps.archive.archive(judged) } : judged;
  try {
    await store.putAudit(report);
  } catch (error) {
    // The same day's run, retried after its write: the first report stands.
    if (error instanceof ConflictError && error.current) return error.current as ComplianceAuditReport;
    throw error;
  }
  const detail = {
    audit_id: report.audit_id,
    region: report.region,
    regions: report.scope.regions,
    status: report.status,
    compliance_score: report.compliance_score,
    total_violations: report.total_violations,
    violations_by_type: report.violations_by_type,
  };
  await publish(deps, 'compliance.audit_completed', detail);
  if (report.total_violations > 0) {
    // The spec's notify_compliance_team: operators subscribe to this event.
    await publish(deps, 'compliance.violations_found', {
      ...detail,
      violations: report.violations.slice(0, 10),
    });
  }
  return report;
}

export async function getAudit(
  deps: Pick<ComplianceDeps, 'compliance'>,
  auditId: string,
): Promise<ComplianceAuditReport> {
  const report = await deps.compliance.getAudit(auditId);
  if (!report) throw new NotFoundError('audit', auditId);
  return report;
}

export async function listAudits(
  deps: Pick<ComplianceDeps, 'topology' | 'compliance'>,
  filter: { readonly region?: string; readonly status?: AuditStatus; readonly limit?: number } = {},
): Promise<AuditList> {
  const all = await deps.compliance.listAudits();
  const audits = all
    .filter(
      (a) =>
        (filter.region === undefined || a.region === filter.region) &&
        (filter.status === undefined || a.status === filter.status),
    )
    .slice(0, filter.limit ?? 100)
    .map(({ violations: _violations, violations_omitted: _omitted, ...summary }) => summary);
  const target = deps.topology.monitoring.compliance.audit_success_rate.target;
  const passed = audits.filter((a) => a.total_violations === 0).length;
  const value = audits.length === 0 ? null : Math.round((1000 * passed) / audits.length) / 10;
  return { audits, audit_success_rate: { value, target, met: value === null || value >= target } };
}
