/**
 * The compliance audit (the spec's audit_compliance_violations), as a pure function over what the
 * auditing region's replica holds. Four checks, each failed check one violation:
 *
 * - data residency: every stored handoff's current region against its data's classification and
 *   origin (the same rules as routing); a transfer that rested on an approval needs the approval's
 *   record;
 * - encryption and access control: each audited region's requirements (its policy, plus the baseline
 *   and data-scoped frameworks when it holds such data) against what the deployment configures;
 * - retention: every record's age against its kind's retention (lib/core/compliance/retention.ts).
 * - selectively replicated data (the auditing region's replicas of the selective tables, when it is
 *   in scope): residency and retention of each record (audit-selective.ts).
 *
 * Score = 100 x passed checks / checks run. Status: `compliant` without violations; `non_compliant`
 * with any residency violation (the spec's target is 0) or a score under 90; `needs_attention` else.
 */
import type { FailoverRecord } from '../failover/types.ts';
import type { SelectiveRecord } from '../replication/records.ts';
import type { Handoff } from '../state/records.ts';
import type { Topology } from '../topology/types.ts';
import { auditSelective } from './audit-selective.ts';
import { type AuditTally, newTally, totalOf, violate } from './audit-tally.ts';
import { ageInDays, retentionFor, type StoredRecord } from './retention.ts';
import {
  assessCompliance,
  type ComplianceQuery,
  checkRequirements,
  type Origin,
  queryOfTask,
  regionRequirements,
} from './rules.ts';
import {
  type AuditStatus,
  type ComplianceApproval,
  type ComplianceAuditReport,
  type DeploymentFacts,
  isRegulated,
} from './types.ts';

export { SELECTIVE_EXPIRY_GRACE_DAYS } from './audit-selective.ts';

/** Violations kept in a report (a DynamoDB item holds at most 400 KB); counts stay complete. */
export const MAX_REPORTED_VIOLATIONS = 200;

/** Below this score an audit with violations is non-compliant. */
const NON_COMPLIANT_BELOW = 90;

export interface AuditInput {
  readonly topology: Topology;
  /** What the deployment configures; undefined: nothing can be confirmed. */
  readonly facts: DeploymentFacts | undefined;
  /** Epoch ms. */
  readonly now: number;
  readonly audit_id: string;
  /** The region running the audit. */
  readonly region: string;
  readonly trigger: ComplianceAuditReport['trigger'];
  /** The regions audited: their handoffs, requirements and records. */
  readonly regions: readonly string[];
  /** Handoffs whose current region is in scope. */
  readonly handoffs: readonly Handoff[];
  /** Every approval record the replica holds (a transfer's approval may be recorded anywhere). */
  readonly approvals: readonly ComplianceApproval[];
  readonly failovers: readonly Pick<FailoverRecord, 'failover_id' | 'failed_region' | 'initiated_at'>[];
  readonly audits: readonly Pick<ComplianceAuditReport, 'audit_id' | 'region' | 'audit_date'>[];
  /** The selectively replicated records the auditing region's replicas hold (audited when it is in scope). */
  readonly selective?: readonly SelectiveRecord[];
}

/** Per region: what its stored data makes it subject to. */
interface Holding {
  regulated: number;
  readonly frameworks: Set<string>;
  readonly countries: Set<string>;
}

export function auditCompliance(input: AuditInput): ComplianceAuditReport {
  const scope = new Set(input.regions);
  const tally = newTally();
  const holdings = new Map<string, Holding>();
  for (const id of input.regions)
    holdings.set(id, { regulated: 0, frameworks: new Set(), countries: new Set() });
  const records: StoredRecord[] = [];
  auditHandoffs(input, scope, holdings, records, tally);
  auditControls(input, holdings, tally);
  records.push(...retainedRecords(input, scope));
  auditRetention(input, records, tally);
  const handoffsChecked = tally.checks.data_residency;
  const selective = scope.has(input.region) ? (input.selective ?? []) : [];
  auditSelective(
    { topology: input.topology, now: input.now, region: input.region, records: selective },
    tally,
  );
  return report(input, tally, {
    regions: [...input.regions],
    handoffs: handoffsChecked,
    records: records.length,
    selective_records: selective.length,
  });
}

/**
 * Data residency: each stored handoff in scope where its data may be (the routing rules), and a
 * transfer that rested on an approval has the approval's record. Collects the handoffs' records for
 * retention and what each region holds for the controls check.
 */
function auditHandoffs(
  input: AuditInput,
  scope: ReadonlySet<string>,
  holdings: ReadonlyMap<string, Holding>,
  records: StoredRecord[],
  tally: AuditTally,
): void {
  const approvalRefs = new Set(input.approvals.map((a) => a.approval_ref));
  for (const handoff of input.handoffs) {
    const region = handoff.target_region;
    if (!scope.has(region)) continue;
    tally.checks.data_residency += 1;
    const resolved = queryOfTask(input.topology, handoff.task, handoff.source_region);
    if ('error' in resolved) {
      violate(tally, {
        type: 'data_residency',
        region,
        record: { kind: 'handoff', id: handoff.handoff_id },
        rule: 'unresolvable',
        detail: `handoff ${handoff.handoff_id} cannot be judged: ${resolved.error}`,
      });
      records.push({ kind: 'handoff', id: handoff.handoff_id, region, created_at: handoff.created_at });
      continue;
    }
    const { query } = resolved;
    records.push({
      kind: 'handoff',
      id: handoff.handoff_id,
      region,
      created_at: handoff.created_at,
      classification: query.data_classification,
    });
    const holding = holdings.get(region);
    if (holding && isRegulated(query.data_classification)) {
      holding.regulated += 1;
      for (const framework of query.frameworks ?? []) holding.frameworks.add(framework);
      for (const country of query.origin.countries) holding.countries.add(country);
    }
    judgeHandoff(input, handoff, query, approvalRefs, tally);
  }
}

/** One handoff's residency verdict where it is now. */
function judgeHandoff(
  input: AuditInput,
  handoff: Handoff,
  query: ComplianceQuery,
  approvalRefs: ReadonlySet<string>,
  tally: AuditTally,
): void {
  const region = handoff.target_region;
  const record = { kind: 'handoff', id: handoff.handoff_id } as const;
  const verdict = assessCompliance(input.topology, query, input.facts).get(region);
  const residency = (verdict?.reasons ?? []).filter((r) => r.type === 'data_residency');
  if (residency.length > 0) {
    violate(tally, {
      type: 'data_residency',
      region,
      record,
      rule: residency.map((r) => r.rule).join(','),
      detail: `handoff ${handoff.handoff_id} (task ${handoff.task_id}, ${query.data_classification} data from ${
        query.origin.label
      }) is in ${region}: ${residency.map((r) => r.reason).join('; ')}`,
    });
  } else if (verdict?.basis === 'approval' && !approvalRefs.has(query.approval_ref ?? '')) {
    violate(tally, {
      type: 'data_residency',
      region,
      record,
      rule: 'approval_unrecorded',
      detail: `handoff ${handoff.handoff_id} reached ${region} by a transfer approved as "${query.approval_ref}", but no approval record with that reference exists`,
    });
  }
}

/**
 * Encryption and access control: each audited region's requirements (its policy, plus the baseline
 * and data-scoped frameworks when it holds such data) against what the deployment configures.
 */
function auditControls(input: AuditInput, holdings: ReadonlyMap<string, Holding>, tally: AuditTally): void {
  const known = new Set(input.topology.regions.map((r) => r.region_id));
  for (const region of input.regions) {
    const holding = holdings.get(region);
    if (!holding || !known.has(region)) continue;
    const origin: Origin = { label: 'stored data', countries: [...holding.countries] };
    const requirements = regionRequirements(input.topology, region, {
      regulated: holding.regulated > 0,
      frameworks: [...holding.frameworks],
      origin,
    });
    for (const check of checkRequirements(requirements, input.facts)) {
      tally.checks[check.type] += 1;
      if (check.met) continue;
      violate(tally, {
        type: check.type,
        region,
        rule: check.need,
        detail: `${check.reason}${
          holding.regulated > 0 ? ` (${holding.regulated} regulated handoff(s) stored there)` : ''
        }`,
      });
    }
  }
}

/** The approvals, failovers and earlier audits about regions in scope, as records with a retention. */
function retainedRecords(input: AuditInput, scope: ReadonlySet<string>): StoredRecord[] {
  const records: StoredRecord[] = [];
  for (const approval of input.approvals) {
    if (!scope.has(approval.target_region)) continue;
    records.push({
      kind: 'compliance_approval',
      id: `${approval.approval_ref}/${approval.use_id}`,
      region: approval.target_region,
      created_at: approval.recorded_at,
    });
  }
  for (const failover of input.failovers) {
    if (!scope.has(failover.failed_region)) continue;
    records.push({
      kind: 'failover',
      id: failover.failover_id,
      region: failover.failed_region,
      created_at: failover.initiated_at,
    });
  }
  for (const audit of input.audits) {
    if (!scope.has(audit.region) || audit.audit_id === input.audit_id) continue;
    records.push({
      kind: 'compliance_audit',
      id: audit.audit_id,
      region: audit.region,
      created_at: audit.audit_date,
    });
  }
  return records;
}

/** Retention: every record's age against its kind's retention (lib/core/compliance/retention.ts). */
function auditRetention(input: AuditInput, records: readonly StoredRecord[], tally: AuditTally): void {
  for (const record of records) {
    tally.checks.retention += 1;
    const rule = retentionFor(input.topology, record);
    const age = ageInDays(record.created_at, input.now);
    if (age === undefined) {
      violate(tally, {
        type: 'retention',
        region: record.region,
        record: { kind: record.kind, id: record.id },
        rule: 'unreadable_time',
        detail: `${record.kind} ${record.id} has no readable creation time ("${record.created_at}")`,
      });
    } else if (age > rule.days) {
      violate(tally, {
        type: 'retention',
        region: record.region,
        record: { kind: record.kind, id: record.id },
        rule: `retention:${rule.days}d`,
        detail: `${record.kind} ${record.id}${record.classification ? ` (${record.classification})` : ''} in ${
          record.region
        } is ${age} days old; its retention is ${rule.days} days (${rule.source})`,
      });
    }
  }
}

/** Score = 100 x passed checks / checks run; the status from the violations and the score. */
function verdictOf(tally: AuditTally): { score: number; status: AuditStatus } {
  const totalChecks = totalOf(tally.checks);
  const total = totalOf(tally.counts);
  const score = totalChecks === 0 ? 100 : Math.round((1000 * (totalChecks - total)) / totalChecks) / 10;
  const status: AuditStatus =
    total === 0
      ? 'compliant'
      : tally.counts.data_residency > 0 || score < NON_COMPLIANT_BELOW
        ? 'non_compliant'
        : 'needs_attention';
  return { score, status };
}

function report(
  input: AuditInput,
  tally: AuditTally,
  scope: ComplianceAuditReport['scope'],
): ComplianceAuditReport {
  const { facts } = input;
  const { checks, counts, violations } = tally;
  const { score, status } = verdictOf(tally);
  const target = input.topology.monitoring.compliance.data_residency_violations.target;
  return {
    audit_id: input.audit_id,
    audit_date: new Date(input.now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: input.region,
    trigger: input.trigger,
    scope,
    deployment: facts
      ? { source: facts.source, description: facts.description }
      : { source: 'unknown', description: 'the deployment declared no controls' },
    checks,
    total_violations: totalOf(counts),
    violations_by_type: counts,
    compliance_score: score,
    status,
    targets: {
      data_residency_violations: {
        value: counts.data_residency,
        target,
        met: counts.data_residency <= target,
      },
    },
    violations: violations.slice(0, MAX_REPORTED_VIOLATIONS),
    ...(violations.length > MAX_REPORTED_VIOLATIONS
      ? { violations_omitted: violations.length - MAX_REPORTED_VIOLATIONS }
      : {}),
  };
}
