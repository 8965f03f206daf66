/**
 * The few interfaces the use cases need. Adapters in lib/adapters implement them; the contract
 * suites in test/contract run against every adapter.
 */
import type { FailoverRecord, FailoverStatus, FailoverStepRecord } from './core/failover/types.ts';
import type { ProbeObservation, TargetHealth } from './core/health/types.ts';
import type { Handoff, HandoffStatus, RegionStatusRecord } from './core/state/records.ts';

/** Shared state: the global table (DynamoDB on AWS, a dynalite per region locally). */
export interface StatePort {
  /** One region's status record, or undefined when none was ever written (it is then healthy). */
  getRegionStatus(regionId: string): Promise<RegionStatusRecord | undefined>;
  /** Every region status record this replica holds. */
  listRegionStatuses(): Promise<RegionStatusRecord[]>;
  /**
   * Writes a status record only if the stored epoch equals `expectedEpoch` (undefined: none stored)
   * and the new epoch is higher; otherwise throws ConflictError carrying the current record.
   */
  putRegionStatus(record: RegionStatusRecord, expectedEpoch: number | undefined): Promise<void>;
  /** Creates a handoff; throws ConflictError (code HANDOFF_EXISTS) carrying the stored one if it exists. */
  createHandoff(handoff: Handoff): Promise<void>;
  /** One handoff by id, or undefined. */
  getHandoff(handoffId: string): Promise<Handoff | undefined>;
  /** Handoffs whose target is the region, oldest first. */
  listHandoffsByTarget(regionId: string): Promise<Handoff[]>;
  /**
   * Moves a handoff to another target/status only if its status is still `expectedStatus`;
   * ConflictError (HANDOFF_CHANGED) otherwise, carrying the current one.
   */
  redirectHandoff(
    handoffId: string,
    change: { target_region: string; status: HandoffStatus; routing_score: number; redirected_from: string },
    expectedStatus: HandoffStatus,
  ): Promise<void>;

  /** Stores an observer's view of a target (the observer writes only its own views). */
  putTargetHealth(view: TargetHealth): Promise<void>;
  /** Every observer's view of every target this replica holds. */
  listTargetHealth(): Promise<TargetHealth[]>;
  /** A region's replication heartbeat: written every probe round by that region. */
  putHeartbeat(heartbeat: Heartbeat): Promise<void>;
  /** Every region's last heartbeat as this replica has received it. */
  listHeartbeats(): Promise<Heartbeat[]>;

  /** Creates a failover record; ConflictError (FAILOVER_EXISTS) carrying the stored one if the id exists. */
  createFailover(record: FailoverRecord): Promise<void>;
  getFailover(failoverId: string): Promise<FailoverRecord | undefined>;
  /** Failover records, newest first; only those of `failedRegion` when given. */
  listFailovers(failedRegion?: string): Promise<FailoverRecord[]>;
  /**
   * Replaces fields of a failover record (and appends `step` to its steps) only if its status is one
   * of `expectedStatuses`; ConflictError (FAILOVER_CHANGED) with the current record otherwise.
   */
  updateFailover(
    failoverId: string,
    patch: Partial<Omit<FailoverRecord, 'failover_id' | 'steps'>>,
    options: { readonly expectedStatuses: readonly FailoverStatus[]; readonly step?: FailoverStepRecord },
  ): Promise<FailoverRecord>;
}

/** A region's monotonic write marker: how far another replica has caught up with it. */
export interface Heartbeat {
  readonly region: string;
  readonly seq: number;
  /** Epoch ms when written. */
  readonly at: number;
}

/** Wall-clock time as an input (principle 8): the simulator can compress or freeze it. */
export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number;
}

/** Calls another region's endpoint, as one observer (a region or a witness). */
export interface ProbePort {
  /** One GET of `endpoint` on `target` with a timeout; never throws: failures are observations. */
  probe(observer: string, target: string, endpoint: string, timeoutMs: number): Promise<ProbeObservation>;
}

/** Something that happened, for EventBridge (AWS) or the local event log. */
export interface ControlPlaneEvent {
  /** e.g. `region.failed`, `region.recovered`, `component.restart_requested`, `failover.step`. */
  readonly type: string;
  /** The region the event is emitted from. */
  readonly source_region: string;
  /** ISO time. */
  readonly time: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface EventsPort {
  /** Publishes events; best effort, never blocks a failover on delivery. */
  publish(events: readonly ControlPlaneEvent[]): Promise<void>;
}

/** Starts and answers failover workflows (Step Functions on AWS, the ASL interpreter locally). */
export interface WorkflowPort {
  /**
   * Starts the failover workflow for a record already created; idempotent per failover id (the
   * execution is named after it). Resolves once started, not when finished.
   */
  startFailover(input: { readonly failover_id: string; readonly coordinator: string }): Promise<void>;
  /** Answers a `.waitForTaskToken` approval step. */
  answerApproval(token: string, approved: boolean): Promise<void>;
}
