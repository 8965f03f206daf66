/**
 * How long each kind of stored record may be kept. A record has a logical path (the spec's
 * `coordination/...` namespace); a selective replication policy of the topology whose `data_pattern`
 * matches it and names `retention_days` sets its retention (the spec's compliance data: 2555 days).
 * Otherwise the defaults below apply. The audit flags records kept longer than their retention.
 */
import type { Topology } from '../topology/types.ts';
import { type DataClassification, isRegulated } from './types.ts';

type RecordKind = 'handoff' | 'failover' | 'compliance_audit' | 'compliance_approval';

/** A stored record as the retention check sees it. */
export interface StoredRecord {
  readonly kind: RecordKind;
  readonly id: string;
  /** The region the record is about (a handoff's target, a failover's failed region ...). */
  readonly region: string;
  /** ISO time it was created. */
  readonly created_at: string;
  /** The classification of the data it carries (handoffs). */
  readonly classification?: DataClassification;
}

interface RetentionRule {
  readonly days: number;
  /** What sets it, e.g. `replication_strategies.selective.compliance_data_replication`. */
  readonly source: string;
}

/** Routing records of tasks: an operational year. */
export const TASK_RECORD_RETENTION_DAYS = 365;
/**
 * Routing records of regulated data in a region whose policy requires storage limitation (GDPR):
 * kept no longer than the work needs; 90 days covers retries, failovers and disputes.
 */
export const PERSONAL_TASK_RECORD_RETENTION_DAYS = 90;
/** Failover records, audit reports and approvals are evidence: seven years, as the spec's compliance data. */
export const EVIDENCE_RETENTION_DAYS = 2555;

const DAY_MS = 86_400_000;

/** The record's logical path in the spec's `coordination/` namespace. */
export function recordPath(record: Pick<StoredRecord, 'kind' | 'id'>): string {
  switch (record.kind) {
    case 'handoff':
      return `coordination/handoffs/${record.id}`;
    case 'failover':
      return `coordination/failovers/${record.id}`;
    case 'compliance_audit':
      return `coordination/compliance/audits/${record.id}`;
    case 'compliance_approval':
      return `coordination/compliance/approvals/${record.id}`;
  }
}

/**
 * A selective policy's `data_pattern` as a matcher: an inner `*` is one path segment, a trailing `*`
 * everything below (`coordination/compliance/*` holds `coordination/compliance/audits/a-1`).
 */
export function patternMatches(pattern: string, path: string): boolean {
  const parts = pattern.split('*');
  const escaped = parts.map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  const last = parts.length - 1;
  const body = escaped.map((part, i) =>
    i === 0 ? part : `${i === last && part === '' ? '.+' : '[^/]+'}${part}`,
  );
  return new RegExp(`^${body.join('')}$`).test(path);
}

function storageLimited(topology: Topology, regionId: string): boolean {
  const frameworks = topology.regional_compliance[regionId]?.frameworks ?? {};
  return Object.values(frameworks).some(
    (f) => f?.enabled === true && f.requirements?.storage_limitation === true,
  );
}

/** The retention of a record: the shortest matching selective policy, else the default for its kind. */
export function retentionFor(topology: Topology, record: StoredRecord): RetentionRule {
  const path = recordPath(record);
  let best: RetentionRule | undefined;
  for (const policy of topology.replication_strategies.selective.policies) {
    if (policy.retention_days === undefined || !patternMatches(policy.data_pattern, path)) continue;
    if (!best || policy.retention_days < best.days) {
      best = {
        days: policy.retention_days,
        source: `replication_strategies.selective.${policy.policy_id} (${policy.data_pattern})`,
      };
    }
  }
  if (best) return best;
  if (record.kind === 'handoff') {
    if (
      record.classification &&
      isRegulated(record.classification) &&
      storageLimited(topology, record.region)
    ) {
      return {
        days: PERSONAL_TASK_RECORD_RETENTION_DAYS,
        source: `storage limitation in ${record.region}'s policy for ${record.classification} data`,
      };
    }
    return { days: TASK_RECORD_RETENTION_DAYS, source: 'task routing records' };
  }
  return { days: EVIDENCE_RETENTION_DAYS, source: 'evidence records (failovers, audits, approvals)' };
}

/** Whole days a record has been kept at `now`, or undefined when its time cannot be read. */
export function ageInDays(createdAt: string, now: number): number | undefined {
  const created = Date.parse(createdAt);
  return Number.isNaN(created) ? undefined : Math.floor((now - created) / DAY_MS);
}
