/** What the audit's checks count as they run: checks per type, violations per type, and the violations in order. */
import { type AuditViolation, VIOLATION_TYPES, type ViolationType } from './types.ts';

export interface AuditTally {
  /** Checks run, by the type of violation each could find. */
  readonly checks: Record<ViolationType, number>;
  /** Violations found, by type (complete even when the report keeps only some). */
  readonly counts: Record<ViolationType, number>;
  /** In the order found. */
  readonly violations: AuditViolation[];
}

function zeroCounts(): Record<ViolationType, number> {
  return { data_residency: 0, encryption: 0, access_control: 0, retention: 0 };
}

export function newTally(): AuditTally {
  return { checks: zeroCounts(), counts: zeroCounts(), violations: [] };
}

export function violate(tally: AuditTally, violation: AuditViolation): void {
  tally.counts[violation.type] += 1;
  tally.violations.push(violation);
}

/** Total of a per-type count. */
export function totalOf(byType: Readonly<Record<ViolationType, number>>): number {
  return VIOLATION_TYPES.reduce((sum, type) => sum + byType[type], 0);
}
