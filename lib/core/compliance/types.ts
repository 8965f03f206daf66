/**
 * The compliance vocabulary: data classifications, what a deployment actually configures, and the
 * records compliance keeps (approvals of cross-border transfers, audit reports). Field names are
 * snake_case like the spec's JSON and the API.
 */

/** The spec's data classifications, least protected first. */
export type DataClassification = 'public' | 'internal' | 'sensitive' | 'pii';

/** A reference to an approved cross-border transfer (a ticket, a contract id): recorded, not resolved. */
export const APPROVAL_REF_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/#-]{2,127}$/;
export const APPROVAL_REF_RULE =
  'must be 3-128 characters: letters, digits and . _ : / # - (starting alphanumeric)';

export const DATA_CLASSIFICATIONS: readonly DataClassification[] = ['public', 'internal', 'sensitive', 'pii'];

/**
 * Regulated data: transfer rules, encryption and access control apply (the spec's enforcement
 * script checks encryption and access controls for exactly these two; DESIGN principle 6).
 */
export function isRegulated(classification: DataClassification): boolean {
  return classification === 'sensitive' || classification === 'pii';
}

/**
 * What a deployment configures, as opposed to what a policy demands: the compliance rules compare
 * the two. Each runtime declares its own honestly (lib/core/compliance/facts.ts).
 */
export interface DeploymentFacts {
  /** Shown in reasons and reports, e.g. `aws` or `local`. */
  readonly source: string;
  /** One line: what backs these facts. */
  readonly description: string;
  readonly encryption_at_rest: {
    readonly enabled: boolean;
    /** The cipher, when known (`aes_256` for KMS keys). */
    readonly algorithm?: string;
    /** `customer_managed` (a KMS key of ours) or `service_managed`. */
    readonly key?: 'customer_managed' | 'service_managed';
  };
  /** Every API call and replication link uses TLS. */
  readonly encryption_in_transit: boolean;
  readonly access_control: {
    /** How API callers are authenticated: `iam` (SigV4) or `none`. */
    readonly authentication: 'iam' | 'none';
    /** Permissions are granted to roles, not to individuals (RBAC). */
    readonly role_based: boolean;
    /** Callers must have used multi-factor authentication. */
    readonly mfa_enforced: boolean;
  };
  /** Every API call is logged (who, what, when): the access log and audit trail. */
  readonly access_logging: boolean;
}

/** The four checks of the spec's audit, which are also the kinds of compliance reasons. */
export type ViolationType = 'data_residency' | 'encryption' | 'access_control' | 'retention';

export const VIOLATION_TYPES: readonly ViolationType[] = [
  'data_residency',
  'encryption',
  'access_control',
  'retention',
];

/**
 * One use of an approval reference for a cross-border transfer that needs one (`approval_required`,
 * or a transfer mechanism such as standard contractual clauses outside the adequacy list).
 */
export interface ComplianceApproval {
  readonly approval_ref: string;
  /** `route:<task_id>` or `check:<check_id>`: one record per use, written once. */
  readonly use_id: string;
  readonly task_id?: string;
  readonly data_classification: DataClassification;
  /** The data's origin as given (a country or a group). */
  readonly user_location: string;
  /** The jurisdictions whose transfer rules needed the approval. */
  readonly jurisdictions: readonly string[];
  readonly target_region: string;
  /** ISO time. */
  readonly recorded_at: string;
  /** The region that recorded it. */
  readonly recorded_by: string;
}

export interface AuditViolation {
  readonly type: ViolationType;
  /** The region the violation is about. */
  readonly region: string;
  /** The stored record at fault, when there is one. */
  readonly record?: { readonly kind: string; readonly id: string };
  /** The rule that was broken, e.g. `transfer:restricted`, `encryption_at_rest`, `retention:90d`. */
  readonly rule: string;
  readonly detail: string;
}

export type AuditStatus = 'compliant' | 'needs_attention' | 'non_compliant';

export interface ComplianceAuditReport {
  readonly audit_id: string;
  /** ISO time the audit ran. */
  readonly audit_date: string;
  /** The region that ran it (and whose replica it read). */
  readonly region: string;
  readonly trigger: 'scheduled' | 'manual';
  /** What was audited. */
  readonly scope: {
    readonly regions: readonly string[];
    readonly handoffs: number;
    readonly records: number;
    /** Selectively replicated records of the auditing region's replicas checked (absent in older reports). */
    readonly selective_records?: number;
  };
  /** The deployment facts the encryption and access-control checks compared against. */
  readonly deployment: { readonly source: string; readonly description: string };
  /** Checks run by type; each failed check is one violation. */
  readonly checks: Readonly<Record<ViolationType, number>>;
  readonly total_violations: number;
  readonly violations_by_type: Readonly<Record<ViolationType, number>>;
  /** 100 x passed checks / checks run, one decimal; 100 when nothing needed checking. */
  readonly compliance_score: number;
  readonly status: AuditStatus;
  /** The spec's monitoring targets (data_residency_violations: 0). */
  readonly targets: {
    readonly data_residency_violations: {
      readonly value: number;
      readonly target: number;
      readonly met: boolean;
    };
  };
  /** Every violation, up to MAX_REPORTED_VIOLATIONS; the counts above are always complete. */
  readonly violations: readonly AuditViolation[];
  /** How many violations were left out of `violations` (item size limit). */
  readonly violations_omitted?: number;
  /** Where the report was also archived (`s3://bucket/key`), when an archive is configured. */
  readonly archived_to?: string;
}
