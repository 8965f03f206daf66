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
 *   in scope): residency, each record in the table its key's policy gives the region that wrote it,
 *   that region among the table's replicas (a record anywhere else left its jurisdiction or its
 *   policy); retention, a policy with `retention_days` has every record expire no later than that
 *   after its write, and none still stored SELECTIVE_EXPIRY_GRACE_DAYS after it expired (DynamoDB TTL
 *   deletes within days, not on time).
 *
 * Score = 100 x passed checks / checks run. Status: `compliant` without violations; `non_compliant`
 * with any residency violation (the spec's target is 0) or a score under 90; `needs_attention` else.
 */
import type { FailoverRecord } from '../failover/types.ts';
import { placeReplication, tableForKey } from '../replication/placement.ts';
import type { SelectiveRecord } from '../replication/records.ts';
import type { Handoff } from '../state/records.ts';
import type { Topology } from '../topology/types.ts';
import { ageInDays, retentionFor, type StoredRecord } from './retention.ts';
import {
  assessCompliance,
  checkRequirements,
  type Origin,
  queryOfTask,
  regionRequirements,
} from './rules.ts';
import {
  type AuditStatus,
  type AuditViolation,
  type ComplianceApproval,
  type ComplianceAuditReport,
  type DeploymentFacts,
  isRegulated,
  VIOLATION_TYPES,
  type ViolationType,
} from './types.ts';

/** Violations kept in a report (a DynamoDB item holds at most 400 KB); counts stay complete. */
export const MAX_REPORTED_VIOLATIONS = 200;

/** How long an expired selective record may still be stored (TTL's delay) before it is a violation. */
export const SELECTIVE_EXPIRY_GRACE_DAYS = 2;

const DAY_SECONDS = 86_400;

/** Below this score an audit with violations is non-compliant. */
export const NON_COMPLIANT_BELOW = 90;

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

function zeroCounts(): Record<ViolationType, number> {
  return { data_residency: 0, encryption: 0, access_control: 0, retention: 0 };
}

export function auditCompliance(input: AuditInput): ComplianceAuditReport {
  const { topology, facts, now } = input;
  const scope = new Set(input.regions);
  const known = new Set(topology.regions.map((r) => r.region_id));
  const checks = zeroCounts();
  const counts = zeroCounts();
  const violations: AuditViolation[] = [];
  const violate = (v: AuditViolation) => {
    counts[v.type] += 1;
    violations.push(v);
  };
  const approvalRefs = new Set(input.approvals.map((a) => a.approval_ref));

  // Per region: what its stored data makes it subject to.
  const holdings = new Map<string, { regulated: number; frameworks: Set<string>; countries: Set<string> }>();
  for (const id of input.regions)
    holdings.set(id, { regulated: 0, frameworks: new Set(), countries: new Set() });
  const records: StoredRecord[] = [];

  for (const handoff of input.handoffs) {
    const region = handoff.target_region;
    if (!scope.has(region)) continue;
    const record = { kind: 'handoff', id: handoff.handoff_id } as const;
    checks.data_residency += 1;
    const resolved = queryOfTask(topology, handoff.task, handoff.source_region);
    if ('error' in resolved) {
      violate({
        type: 'data_residency',
        region,
        record,
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
    const verdict = assessCompliance(topology, query, facts).get(region);
    const residency = (verdict?.reasons ?? []).filter((r) => r.type === 'data_residency');
    if (residency.length > 0) {
      violate({
        type: 'data_residency',
        region,
        record,
        rule: residency.map((r) => r.rule).join(','),
        detail: `handoff ${handoff.handoff_id} (task ${handoff.task_id}, ${query.data_classification} data from ${
          query.origin.label
        }) is in ${region}: ${residency.map((r) => r.reason).join('; ')}`,
      });
    } else if (verdict?.basis === 'approval' && !approvalRefs.has(query.approval_ref ?? '')) {
      violate({
        type: 'data_residency',
        region,
        record,
        rule: 'approval_unrecorded',
        detail: `handoff ${handoff.handoff_id} reached ${region} by a transfer approved as "${query.approval_ref}", but no approval record with that reference exists`,
      });
    }
  }

  for (const region of input.regions) {
    const holding = holdings.get(region);
    if (!holding || !known.has(region)) continue;
    const origin: Origin = { label: 'stored data', countries: [...holding.countries] };
    const requirements = regionRequirements(topology, region, {
      regulated: holding.regulated > 0,
      frameworks: [...holding.frameworks],
      origin,
    });
    for (const check of checkRequirements(requirements, facts)) {
      checks[check.type] += 1;
      if (check.met) continue;
      violate({
        type: check.type,
        region,
        rule: check.need,
        detail: `${check.reason}${
          holding.regulated > 0 ? ` (${holding.regulated} regulated handoff(s) stored there)` : ''
        }`,
      });
    }
  }

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
  for (const record of records) {
    checks.retention += 1;
    const rule = retentionFor(topology, record);
    const age = ageInDays(record.created_at, now);
    if (age === undefined) {
      violate({
        type: 'retention',
        region: record.region,
        record: { kind: record.kind, id: record.id },
        rule: 'unreadable_time',
        detail: `${record.kind} ${record.id} has no readable creation time ("${record.created_at}")`,
      });
    } else if (age > rule.days) {
      violate({
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

  const handoffsChecked = checks.data_residency;
  const selective = scope.has(input.region) ? (input.selective ?? []) : [];
  auditSelective(input, selective, checks, violate);

  const totalChecks = VIOLATION_TYPES.reduce((sum, type) => sum + checks[type], 0);
  const total = VIOLATION_TYPES.reduce((sum, type) => sum + counts[type], 0);
  const score = totalChecks === 0 ? 100 : Math.round((1000 * (totalChecks - total)) / totalChecks) / 10;
  const status: AuditStatus =
    total === 0
      ? 'compliant'
      : counts.data_residency > 0 || score < NON_COMPLIANT_BELOW
        ? 'non_compliant'
        : 'needs_attention';
  const target = topology.monitoring.compliance.data_residency_violations.target;
  return {
    audit_id: input.audit_id,
    audit_date: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: input.region,
    trigger: input.trigger,
    scope: {
      regions: [...input.regions],
      handoffs: handoffsChecked,
      records: records.length,
      selective_records: selective.length,
    },
    deployment: facts
      ? { source: facts.source, description: facts.description }
      : { source: 'unknown', description: 'the deployment declared no controls' },
    checks,
    total_violations: total,
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

/** The selective records' residency and retention checks (see the module comment). */
function auditSelective(
  input: AuditInput,
  records: readonly SelectiveRecord[],
  checks: Record<ViolationType, number>,
  violate: (v: AuditViolation) => void,
): void {
  if (records.length === 0) return;
  const placement = placeReplication(input.topology);
  const nowSeconds = Math.floor(input.now / 1000);
  for (const record of records) {
    const where = { kind: 'selective_record', id: `${record.table}/${record.key}` };
    const table = placement.tables.find((t) => t.name === record.table);
    const expected = tableForKey(placement, record.key, record.region);
    checks.data_residency += 1;
    if (!table?.regions.includes(record.region) || expected?.name !== record.table) {
      violate({
        type: 'data_residency',
        region: input.region,
        record: where,
        rule: 'selective_placement',
        detail: `${record.key} (written in ${record.region}) is stored in ${record.table}${
          table ? ` (replicas ${table.regions.join(', ')})` : ', a table the placement does not have'
        }; its policy places it in ${expected ? `${expected.name} (replicas ${expected.regions.join(', ')})` : 'no table for that region'}`,
      });
    }
    if (table?.retentionDays === undefined) continue;
    checks.retention += 1;
    const written = Date.parse(record.written_at);
    const latest = Number.isNaN(written)
      ? undefined
      : Math.floor(written / 1000) + table.retentionDays * DAY_SECONDS;
    if (record.expires_at === undefined || latest === undefined || record.expires_at > latest + DAY_SECONDS) {
      violate({
        type: 'retention',
        region: input.region,
        record: where,
        rule: `retention:${table.retentionDays}d`,
        detail: `${record.key} in ${record.table} ${
          record.expires_at === undefined
            ? 'has no expiry'
            : `expires ${new Date(record.expires_at * 1000).toISOString()}`
        }; ${table.policies[0]} keeps records ${table.retentionDays} days from their write (${record.written_at})`,
      });
    } else if (record.expires_at + SELECTIVE_EXPIRY_GRACE_DAYS * DAY_SECONDS < nowSeconds) {
      violate({
        type: 'retention',
        region: input.region,
        record: where,
        rule: 'retention:expired_not_deleted',
        detail: `${record.key} in ${record.table} expired ${new Date(record.expires_at * 1000).toISOString()} and is still stored more than ${SELECTIVE_EXPIRY_GRACE_DAYS} days later`,
      });
    }
  }
}
