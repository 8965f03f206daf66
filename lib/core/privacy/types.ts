/**
 * Data-subject requests (the spec's `individual_rights`: access, erasure, portability) and the proof
 * each one keeps of what was found, where, what was done and when.
 */

export const PRIVACY_REQUEST_TYPES = ['access', 'erasure', 'portability'] as const;
export type PrivacyRequestType = (typeof PRIVACY_REQUEST_TYPES)[number];

/**
 * `received`: recorded, not yet worked on. `processing`: a region is searching the replicas now.
 * `partially_completed`: some region could not be reached; the sweeper retries it. `completed`: every
 * region answered. `rejected`: the jurisdiction no longer grants the right (the topology changed).
 */
export const PRIVACY_REQUEST_STATUSES = [
  'received',
  'processing',
  'completed',
  'partially_completed',
  'rejected',
] as const;
export type PrivacyRequestStatus = (typeof PRIVACY_REQUEST_STATUSES)[number];

/** Erasure exceptions a jurisdiction's policy may list (the spec's GDPR policy lists both). */
export const ERASURE_EXCEPTIONS = ['legal_obligation', 'public_interest'] as const;
export type ErasureException = (typeof ERASURE_EXCEPTIONS)[number];

/** What kind of stored record held the subject's data. */
type SubjectRecordKind = 'handoff' | 'export';

/** What was done with one record in one region's replica. */
export interface RecordOutcome {
  /** Handoff id, or `<request_id>/<handoff_id>` for a copy kept by an earlier access request. */
  readonly record_id: string;
  readonly kind: SubjectRecordKind;
  /** `exported`: copied into the answer. `erased`: deleted. `kept`: an exception applies. */
  readonly action: 'exported' | 'erased' | 'kept';
  /** Set with `kept`: the exception that applies. */
  readonly exception?: ErasureException;
  /** Why the exception applies, or why a hold did not stop the erasure. */
  readonly reason?: string;
}

/** What one region's replica held and what was done there. */
export interface RegionProof {
  readonly region: string;
  /** `searched`: the replica answered and every record found was handled. */
  readonly outcome: 'searched' | 'unreachable';
  /** ISO time of the last attempt. */
  readonly at: string;
  readonly attempts: number;
  /** Ids of the subject's records found there (empty when unreachable). */
  readonly found: readonly string[];
  readonly records: readonly RecordOutcome[];
  /** Why the replica could not be searched. */
  readonly error?: string;
}

/** The right as the jurisdiction's policy grants it, fixed when the request is received. */
export interface GrantedRight {
  readonly max_response_days: number;
  readonly format?: string;
  /** Erasure exceptions every policy of the jurisdiction recognizes. */
  readonly exceptions: readonly ErasureException[];
  /** The regions whose `regional_compliance` policy is this jurisdiction's. */
  readonly policy_regions: readonly string[];
}

export interface PrivacyRequestRecord {
  readonly request_id: string;
  readonly type: PrivacyRequestType;
  readonly subject_id: string;
  readonly jurisdiction: string;
  /** The region whose API received it: its sweeper owns the request while it serves. */
  readonly received_in: string;
  readonly status: PrivacyRequestStatus;
  readonly created_at: string;
  /** created_at + max_response_days. */
  readonly due_at: string;
  readonly right: GrantedRight;
  /** Per topology region, once searched or tried. */
  readonly regions: Readonly<Record<string, RegionProof>>;
  readonly updated_at: string;
  readonly completed_at?: string;
  /** Access and portability: how many records the export holds. */
  readonly exported_records?: number;
  /** Set once, when `privacy.request_overdue` was emitted. */
  readonly overdue_notified_at?: string;
  readonly rejection?: string;
  /** Increases with every change; updates are conditional on it. */
  readonly version: number;
}

/** One record of an access or portability export. */
export interface SubjectExportRecord {
  readonly record_id: string;
  readonly kind: 'handoff';
  /** The replica the copy was read from. */
  readonly region: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** A legal hold on a task (`task.legal_hold`): why its record must outlive an erasure request. */
export interface LegalHold {
  readonly basis: ErasureException;
  readonly reason: string;
}
