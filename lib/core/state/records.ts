/** Records the control plane keeps in its shared state (the global table). */

/**
 * `shutdown`: an operator took the region out of service on purpose (an emergency shutdown,
 * lib/app/ops/emergency-shutdown.ts); only the same operator path brings it back.
 */
export type RegionStatus = 'healthy' | 'degraded' | 'draining' | 'failed' | 'fenced' | 'shutdown';

export const REGION_STATUSES: readonly RegionStatus[] = [
  'healthy',
  'degraded',
  'draining',
  'failed',
  'fenced',
  'shutdown',
];

/** A region serves (takes tasks, answers /health 200) unless it is draining, failed, fenced or shut down. */
export function isServing(status: RegionStatus): boolean {
  return status === 'healthy' || status === 'degraded';
}

/**
 * Whether a region holds the `primary` role: it has it and is a quorum member (serving, or fenced:
 * it serves again once it unfences). A draining, failed or shut-down primary holds it no more: its
 * failover, failback or restore decides what it comes back as. One primary at a time means one
 * region holding it: a promotion takes it from every other holder, and a rollback, an unfence or a
 * restore gives it back only while no other region holds it (docs/health-and-failover.md).
 */
export function holdsPrimary(record: Pick<RegionStatusRecord, 'role' | 'status'>): boolean {
  return record.role === 'primary' && (isServing(record.status) || record.status === 'fenced');
}

/** Another region than `regionId` that holds the primary role (holdsPrimary), if any. */
export function otherPrimaryThan(
  statuses: ReadonlyMap<string, RegionStatusRecord>,
  regionId: string,
): RegionStatusRecord | undefined {
  for (const status of statuses.values()) {
    if (status.region_id !== regionId && holdsPrimary(status)) return status;
  }
  return undefined;
}

export interface RegionStatusRecord {
  readonly region_id: string;
  readonly status: RegionStatus;
  /** `primary` marks the region that coordinates (promoted in failover); others `standby`/`active`. */
  readonly role: string;
  /** Only increases; every status change bumps it so stale writers can be fenced. */
  readonly epoch: number;
  readonly reason?: string;
  /**
   * A `shutdown` region's end of drain (ISO time): until then its workers may finish what they
   * accepted; after it the handoff keepers move what is still running elsewhere.
   */
  readonly drain_until?: string;
  readonly updated_at: string;
  readonly updated_by: string;
}

export type HandoffStatus = 'pending' | 'accepted' | 'completed' | 'failed' | 'redirected';

/** Statuses of a handoff whose task has not ended: it holds its reservation. */
export const OPEN_STATUSES: readonly HandoffStatus[] = ['pending', 'accepted', 'redirected'];

/** Whether the handoff's task has not ended (it still holds what it reserved). */
export function isOpenHandoff(status: HandoffStatus): boolean {
  return OPEN_STATUSES.includes(status);
}

/**
 * The lifecycle a handoff's target region drives: pending -> accepted -> completed | failed. A task
 * its workers never started may also end from pending (failed, or completed by a worker that skipped
 * the accept). Each move is one conditional write from the statuses listed here.
 */
export const HANDOFF_TRANSITIONS: Readonly<
  Record<'accepted' | 'completed' | 'failed', readonly HandoffStatus[]>
> = {
  accepted: ['pending', 'redirected'],
  completed: ['pending', 'accepted', 'redirected'],
  failed: ['pending', 'accepted', 'redirected'],
};

export interface FactorScores {
  readonly capacity: number;
  readonly latency: number;
  readonly compliance: number;
  readonly cost: number;
}

export interface Candidate {
  readonly region: string;
  readonly score: number;
  readonly factors: FactorScores;
  readonly latency_ms: number;
  readonly latency_source: 'matrix' | 'great_circle' | 'measured' | 'tunnel';
}

export interface Exclusion {
  readonly region: string;
  readonly reasons: readonly string[];
}

/** An acceptance a failover ended (Handoff.interruptions). */
export interface HandoffInterruption {
  /** The region the task was accepted in, which was failed over. */
  readonly region: string;
  readonly accepted_at?: string;
  readonly accepted_by?: string;
  /** When the handoff was moved away. */
  readonly at: string;
  readonly reason: string;
}

export interface Handoff {
  readonly handoff_id: string;
  readonly task_id: string;
  readonly source_region: string;
  readonly target_region: string;
  readonly routing_score: number;
  readonly status: HandoffStatus;
  readonly created_at: string;
  /** Set when a failover moved the handoff away from the region it was first routed to. */
  readonly redirected_from?: string;
  /** The task's owner region (lib/core/state/handoff-owner.ts), whose replica takes the claim. */
  readonly owner_region?: string;
  /** The region whose replica the record was created in (the owner's, or the router's own when the owner was out of reach). */
  readonly claimed_in?: string;
  /** Unique per creation: tells two claims of one task apart after replication kept one of them. */
  readonly claim_id?: string;
  /** When and by whom the target region's workers accepted it. */
  readonly accepted_at?: string;
  readonly accepted_by?: string;
  /** Why it is still pending although its target does not serve (no region can take it now). */
  readonly held_reason?: string;
  /**
   * Acceptances a failover ended: the task was still running in a region that was failed over when
   * the drain's wait ran out, and was re-routed (oldest first). The acceptance fields are cleared.
   */
  readonly interruptions?: readonly HandoffInterruption[];
  /** The routed request as received, so a failover can re-route the task with its requirements. */
  readonly task: Readonly<Record<string, unknown>>;
  /** Digest of the canonical request; a repeat with another digest is a conflict. */
  readonly request_hash: string;
  /** The full decision, so a repeated request answers exactly what it answered first. */
  readonly decision: {
    readonly candidates: readonly Candidate[];
    readonly excluded: readonly Exclusion[];
  };
}
