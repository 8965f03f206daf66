/**
 * The few interfaces the use cases need. Adapters in lib/adapters implement them; the contract
 * suites in test/contract run against every adapter.
 */
import type { ComplianceApproval, ComplianceAuditReport } from './core/compliance/types.ts';
import type { FailoverRecord, FailoverStatus, FailoverStepRecord } from './core/failover/types.ts';
import type { ProbeObservation, TargetHealth } from './core/health/types.ts';
import type { PrivacyRequestRecord, SubjectExportRecord } from './core/privacy/types.ts';
import type {
  ConsistencyCheckRecord,
  DocumentConflict,
  DocumentSlot,
  LagView,
  ReplicationMark,
  SelectiveRecord,
} from './core/replication/records.ts';
import type { HoldRef, RegionPool, Reservation } from './core/resources/pool.ts';
import type { RebalanceMove } from './core/resources/rebalance.ts';
import type {
  Handoff,
  HandoffInterruption,
  HandoffStatus,
  RegionStatusRecord,
} from './core/state/records.ts';
import type { ResourceAmounts, ResourceUsage } from './core/topology/types.ts';

/**
 * Region statuses in the shared state: each region's serving status, role and epoch (one slot per
 * writer, merged to the highest epoch).
 */
export interface RegionStatuses {
  /** One region's status record, or undefined when none was ever written (it is then healthy). */
  getRegionStatus(regionId: string): Promise<RegionStatusRecord | undefined>;
  /** Every region status record this replica holds. */
  listRegionStatuses(): Promise<RegionStatusRecord[]>;
  /**
   * Writes a status record only if the stored epoch equals `expectedEpoch` (undefined: none stored)
   * and the new epoch is higher; otherwise throws ConflictError carrying the current record.
   */
  putRegionStatus(record: RegionStatusRecord, expectedEpoch: number | undefined): Promise<void>;
}

/** Handoffs in the shared state: the tasks routed across regions and their lifecycle. */
export interface Handoffs {
  /** Creates a handoff; throws ConflictError (code HANDOFF_EXISTS) carrying the stored one if it exists. */
  createHandoff(handoff: Handoff): Promise<void>;
  /** One handoff by id, or undefined. */
  getHandoff(handoffId: string): Promise<Handoff | undefined>;
  /**
   * The handoffs of `handoffIds` this replica holds, by id (absent ones left out), read as `getHandoff`
   * reads one, in as few store calls as the store allows (BatchGetItem: 100 keys a call).
   */
  getHandoffs(handoffIds: readonly string[]): Promise<Map<string, Handoff>>;
  /** Handoffs whose target is the region, oldest first. */
  listHandoffsByTarget(regionId: string): Promise<Handoff[]>;
  /**
   * Moves a handoff to another target/status only if its status is still `expectedStatus`;
   * ConflictError (HANDOFF_CHANGED) otherwise, carrying the current one. `reservation`, when given,
   * replaces the handoff's reservation (the resources now held for it in its new region). Its
   * `held_reason` goes (it has a region now); `interrupted`, when given, is appended to its
   * `interruptions` and its acceptance (`accepted_at`, `accepted_by`) goes.
   */
  redirectHandoff(
    handoffId: string,
    change: {
      target_region: string;
      status: HandoffStatus;
      routing_score: number;
      redirected_from: string;
      reservation?: Reservation;
      interrupted?: HandoffInterruption;
    },
    expectedStatus: HandoffStatus,
  ): Promise<void>;

  /**
   * Moves a handoff to `status` (setting the fields of `patch`) only if its status is one of
   * `expectedStatuses` and it carries no settlement; returns it as it was before. ConflictError
   * (HANDOFF_CHANGED) carrying the current one (undefined when missing) otherwise.
   */
  transitionHandoff(
    handoffId: string,
    status: HandoffStatus,
    patch: Readonly<Record<string, unknown>>,
    expectedStatuses: readonly HandoffStatus[],
  ): Promise<Handoff>;
}

/** Health views in the shared state: what each observer region last concluded of each target. */
export interface HealthViews {
  /** Stores an observer's view of a target (the observer writes only its own views). */
  putTargetHealth(view: TargetHealth): Promise<void>;
  /** Every observer's view of every target this replica holds. */
  listTargetHealth(): Promise<TargetHealth[]>;
}

/** Heartbeats in the shared state: each region's monotonic write marker, for replication lag. */
export interface Heartbeats {
  /** A region's replication heartbeat: written every probe round by that region. */
  putHeartbeat(heartbeat: Heartbeat): Promise<void>;
  /** Every region's last heartbeat as this replica has received it. */
  listHeartbeats(): Promise<Heartbeat[]>;
}

/** Failover records in the shared state: each failover with its steps, and the index of those still going. */
export interface Failovers {
  /** Creates a failover record; ConflictError (FAILOVER_EXISTS) carrying the stored one if the id exists. */
  createFailover(record: FailoverRecord): Promise<void>;
  /** One failover record, or undefined. */
  getFailover(failoverId: string): Promise<FailoverRecord | undefined>;
  /** Failover records, newest first; only those of `failedRegion` when given. */
  listFailovers(failedRegion?: string): Promise<FailoverRecord[]>;
  /**
   * The failovers still going (running or awaiting approval), newest first: an index that the write
   * ending a failover leaves, so reading it costs what is active, not every failover ever written.
   */
  listActiveFailovers(): Promise<FailoverRecord[]>;
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

/**
 * Shared state: the global table (DynamoDB on AWS, a dynalite per region locally). Every aggregate in
 * one port, which each implementation provides whole; a use case names only the aggregates it uses.
 */
export interface StatePort extends RegionStatuses, Handoffs, HealthViews, Heartbeats, Failovers {}

/**
 * Each region's per-minute view of every region (lib/core/health/availability.ts), for its
 * availability over the last hour and day. One observer writes only its own samples.
 */
export interface AvailabilityPort {
  /**
   * Stores an observer's sample of one minute, replacing whatever that slot held a day before, and
   * adds it to the observer's ledger.
   */
  recordSample(sample: import('./core/health/availability.ts').AvailabilitySample): Promise<void>;
  /** The observer's last day rolled up in one record (what the API reads); undefined before any sample. */
  readLedger(
    observer: string,
  ): Promise<import('./core/health/availability.ts').AvailabilityLedger | undefined>;
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
  /**
   * One round's calls of `endpoints` on `target`, in as few requests as the target answers them
   * (lib/core/health/probe-bundle.ts): one observation per endpoint, in order, each as `probe` of
   * that endpoint would have made it; never throws. Absent: each endpoint is its own `probe`.
   */
  probeEndpoints?(
    observer: string,
    target: string,
    endpoints: readonly string[],
    timeoutMs: number,
  ): Promise<ProbeObservation[]>;
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

/**
 * Data-subject requests and the subject's records in one region's replica. The request
 * records live in the requesting region's replica; the search and the erasure run against every
 * region's (`privacy(regionId)`), since a replica may hold what replication has not yet removed.
 */
export interface PrivacyPort {
  /** Records a new request; ConflictError (PRIVACY_REQUEST_EXISTS) if the id is taken. */
  createRequest(record: PrivacyRequestRecord): Promise<void>;
  /** One request, or undefined. */
  getRequest(requestId: string): Promise<PrivacyRequestRecord | undefined>;
  /** Every request this replica holds, newest first. */
  listRequests(): Promise<PrivacyRequestRecord[]>;
  /**
   * Replaces fields of a request only if its version is still `expectedVersion` (and bumps it);
   * ConflictError (PRIVACY_REQUEST_CHANGED) carrying the current record otherwise.
   */
  updateRequest(
    requestId: string,
    patch: Partial<Omit<PrivacyRequestRecord, 'request_id' | 'version'>>,
    expectedVersion: number,
  ): Promise<PrivacyRequestRecord>;
  /** Stores records of an access or portability export (idempotent per record id). */
  putExport(requestId: string, records: readonly SubjectExportRecord[]): Promise<void>;
  /** The export of a request, in record id order. */
  listExport(requestId: string): Promise<SubjectExportRecord[]>;
  /** Deletes one record of a request's export; false when it was not there. */
  deleteExportRecord(requestId: string, recordId: string): Promise<boolean>;
  /**
   * Handoffs whose task carries `subject_id`, found through the per-target index of each of
   * `targetRegions` (a handoff is always indexed under its current target).
   */
  findSubjectHandoffs(subjectId: string, targetRegions: readonly string[]): Promise<Handoff[]>;
  /** Deletes a handoff only if its task still carries `subjectId`; false when it was not there. */
  eraseHandoff(handoffId: string, subjectId: string): Promise<boolean>;
}

/**
 * Compliance records in one region's replica: the recorded uses of approval references for
 * cross-border transfers, and the audit reports. Every write is one conditional put.
 */
export interface CompliancePort {
  /** Records one use of an approval; a repeat of the same (approval_ref, use_id) is a no-op. */
  recordApproval(approval: ComplianceApproval): Promise<void>;
  /** Every approval use this replica holds, newest first. */
  listApprovals(): Promise<ComplianceApproval[]>;
  /** Stores a report; ConflictError (AUDIT_EXISTS) carrying the stored one if the id is taken. */
  putAudit(report: ComplianceAuditReport): Promise<void>;
  /** One report, or undefined. */
  getAudit(auditId: string): Promise<ComplianceAuditReport | undefined>;
  /** Reports, newest first. */
  listAudits(): Promise<ComplianceAuditReport[]>;
}

/** A stored item of the state table as a consistency check compares it. */
export interface ItemCopy {
  /** `pk|sk`. */
  readonly key: string;
  readonly record_type?: string;
  /** sha256 of the item's canonical content, replication metadata (`aws:rep:*`) excluded. */
  readonly checksum: string;
  /** Epoch ms of its last write, when the item tells (`aws:rep:updatetime`, else its own time field). */
  readonly write_time?: number;
  /** Region that made its last write, when the item tells (`aws:rep:updateregion`). */
  readonly write_region?: string;
  /** The only region that writes it, for single-writer records (a document slot's region). */
  readonly owner?: string;
  /** The item itself, opaque: handed back to `repair` of another replica of the same table. */
  readonly image: unknown;
}

/**
 * Replication bookkeeping in one region's replica of the state table: this replica's
 * region mark (heartbeat and write counter), the lag monitor's views, raw items for consistency
 * checks, and the check records. `replication(regionId)` in the deps reaches each region's replica.
 */
export interface ReplicationPort {
  /** Adds `count` to the write counter of this replica's region (atomic ADD) and stamps `at`. */
  countWrites(count: number, at: number): Promise<void>;
  /** Writes the next heartbeat of this replica's region (seq + 1, atomic per region) and returns the mark. */
  beat(at: number, intervalMs: number): Promise<ReplicationMark>;
  /** Every region's mark as this replica holds it. */
  listMarks(): Promise<ReplicationMark[]>;
  /** Stores this region's view of one link into its replica. */
  putLagView(view: LagView): Promise<void>;
  /** Every lag view this replica holds. */
  listLagViews(): Promise<LagView[]>;
  /**
   * Up to `count` keys of items a check may sample (replication marks excluded), starting at
   * `start` (0 <= start < 1) of the table's hash order and wrapping around.
   */
  sampleKeys(count: number, start: number): Promise<string[]>;
  /** The copies of `keys` this replica holds (absent keys are missing from the map). */
  readCopies(keys: readonly string[]): Promise<Map<string, ItemCopy>>;
  /**
   * Replaces this replica's copy of `key` with `image` (undefined: deletes it) only if its copy still
   * has `expectedChecksum` (undefined: is still missing); false when it changed meanwhile.
   */
  repair(key: string, image: unknown, expectedChecksum: string | undefined): Promise<boolean>;
  /** Stores a consistency check's record (its id is unique). */
  putCheck(record: ConsistencyCheckRecord): Promise<void>;
  getCheck(checkId: string): Promise<ConsistencyCheckRecord | undefined>;
}

/** Versioned active-active documents in one region's replica (version vectors). */
export interface DocumentPort {
  /** Every region's slot of the document as this replica holds them. */
  getSlots(key: string): Promise<DocumentSlot[]>;
  /**
   * Writes this replica's region's slot only if its stored revision is `expectedRevision` (undefined:
   * no slot yet); ConflictError (DOCUMENT_CHANGED) carrying the stored slot otherwise.
   */
  putSlot(slot: DocumentSlot, expectedRevision: number | undefined): Promise<void>;
  /** Records a conflict once per replica; false when this replica already holds it. */
  recordConflict(conflict: DocumentConflict): Promise<boolean>;
  /** The conflicts recorded for a document, oldest first. */
  listConflicts(key: string): Promise<DocumentConflict[]>;
  /** Keys of documents with a slot written at or after `sinceIso` (ISO time), in time order. */
  listChangedKeys(sinceIso: string): Promise<string[]>;
}

/** A copy of each audit report outside the table: an S3 bucket in the audited region's jurisdiction. */
export interface AuditArchivePort {
  /** Stores the report (idempotent per audit id); resolves to where it is, e.g. `s3://bucket/key`. */
  archive(report: ComplianceAuditReport): Promise<string>;
}

/**
 * The MCP server registry in one region's replica: one record per server per region, replicated
 * everywhere (lib/core/mcp/registry.ts). A deregistered server stays as a tombstone so seeding from
 * the topology never brings it back.
 */
export interface McpRegistryPort {
  /** Every registered server this replica holds (deregistered ones left out). */
  listMcpServers(): Promise<import('./core/mcp/registry.ts').McpServerRecord[]>;
  /** Writes a server's record, replacing what was there (a registration, a status change). */
  putMcpServer(record: import('./core/mcp/registry.ts').McpServerRecord): Promise<void>;
  /** Writes each record whose key never held one (seeding from the topology); answers how many. */
  seedMcpServers(records: readonly import('./core/mcp/registry.ts').McpServerRecord[]): Promise<number>;
  /** Deregisters a server, leaving a tombstone; false when it was not registered. */
  deleteMcpServer(region: string, server: string, at: string): Promise<boolean>;
  /** Writes an observer's views of every server (one record per observer, replacing its last). */
  putMcpHealth(health: import('./core/mcp/health.ts').McpObserverHealth): Promise<void>;
  /** Every observer's views of the servers that this replica holds. */
  listMcpHealth(): Promise<import('./core/mcp/health.ts').McpObserverHealth[]>;
}

/**
 * Calls one MCP server's own endpoint (`GET <endpoint>/health`) from an observer region. Never
 * throws: a failure, or an endpoint the adapter may not call, is an observation (`ok: false`).
 */
export interface McpProbePort {
  probeMcp(
    observer: string,
    server: Pick<import('./core/mcp/registry.ts').McpServerRecord, 'region' | 'server' | 'endpoint'>,
    timeoutMs: number,
  ): Promise<import('./core/mcp/health.ts').McpProbeObservation>;
}

/** The measured latency matrix in a region's replica: one entry per ordered region pair. */
export interface LatencyPort {
  /** Every measured pair entry this replica holds (any order). */
  listLatency(): Promise<import('./core/latency/stats.ts').LatencyEntry[]>;
  /** Writes one pair's entry; only the `from` region writes it, so last writer wins is safe. */
  putLatency(entry: import('./core/latency/stats.ts').LatencyEntry): Promise<void>;
}

/**
 * The global resource pool in one region's replica: each region's allocation and live usage,
 * token usage per clock hour, and the settlement of handoffs that reserved resources. Every change
 * is one conditional write (lib/adapters/aws/dynamodb-resources.ts).
 */
export interface ResourcesPort {
  /** A region's pool for `hour` (tokens of other hours excluded), or undefined when never seeded. */
  getPool(region: string, hour: string): Promise<RegionPool | undefined>;
  /** Every region's pool this replica holds, for `hour`. */
  listPools(hour: string): Promise<RegionPool[]>;
  /** Writes the starting pool of a region unless one exists; false when one did. */
  seedPool(pool: RegionPool): Promise<boolean>;
  /**
   * Adds the reservation to its region's usage only if the allocation is still at `pool`'s version
   * and the result stays within it; ConflictError (CAPACITY_EXHAUSTED or ALLOCATION_CHANGED) otherwise.
   * With a `hold`, records it too; a hold already recorded in this replica adds nothing again.
   */
  reserve(reservation: Reservation, pool: RegionPool): Promise<void>;
  /**
   * Subtracts held workers and compute units, and adds `tokens` to the reservation's hour (signed).
   * With a `hold`: only if this replica does not hold it released already, and journaled as this
   * writer's release (given back by `settleReleases` if another release of it wins). Whether this
   * call released.
   */
  release(reservation: Reservation, tokens: number): Promise<boolean>;
  /** The holds `by` (default this writer) recorded, as this replica holds them. */
  listHolds(by?: string): Promise<Hold[]>;
  /**
   * Makes a released hold held again (its handoff is open with it after all) if `releasedBy` still
   * stands as its release here; whether it did. That writer then gives its release back.
   */
  restoreHold(hold: HoldRef, releasedBy: string): Promise<boolean>;
  /**
   * Removes a hold that is released here (its retention is over) unless one of `writers` other than
   * its releaser still journals a release of it here (that writer has yet to give it back); whether
   * it did.
   */
  forgetHold(hold: HoldRef, writers: readonly string[]): Promise<boolean>;
  /**
   * Gives back, once each, this writer's releases that no longer stand in this replica (another
   * release of the hold won, or the hold was restored); forgets those whose hold is gone. The holds
   * given back.
   */
  settleReleases(): Promise<HoldRef[]>;
  /** Replaces a region's usage with what the region reports (tokens: for `hour`). */
  reportUsage(region: string, hour: string, usage: ResourceUsage, at: string): Promise<void>;
  /**
   * Replaces a region's allocation only if its version is `expectedVersion` and its usage stays within
   * the new allocation; ConflictError (ALLOCATION_CHANGED) otherwise. Returns the new version.
   */
  setAllocation(
    region: string,
    hour: string,
    allocation: ResourceAmounts,
    expectedVersion: number,
    at: string,
  ): Promise<number>;
  /**
   * Moves a handoff to `completed` or `failed` only if it is still open (pending, accepted or
   * redirected) and unsettled; returns the handoff as it was when this call settled it, or undefined
   * when it was already settled (the caller then releases nothing).
   */
  settleHandoff(
    handoffId: string,
    outcome: 'completed' | 'failed',
    settlement: object,
  ): Promise<Handoff | undefined>;
  /**
   * Journals a handoff claim this replica's region made (its own records, written in its own replica
   * only): kept until the claim is known to have won or lost, so a loser's reservation is released.
   */
  recordClaim(claim: HandoffClaim): Promise<void>;
  /** This region's journaled claims. */
  listClaims(): Promise<HandoffClaim[]>;
  /** Removes a journaled claim if it is still `claimId`; whether this call removed it. */
  dropClaim(handoffId: string, claimId: string): Promise<boolean>;
  /** Removes a region's token counters of hours before `keepFrom` (an hour bucket); how many it removed. */
  compactTokens(region: string, keepFrom: string): Promise<number>;
  /** Records a rebalance (what moved and why), newest listed first. */
  putRebalance(record: RebalanceRecord): Promise<void>;
  listRebalances(limit: number): Promise<RebalanceRecord[]>;
}

/** A reservation's hold as the pools' table keeps it (ResourcesPort.listHolds). */
export interface Hold {
  /** The reservation it counts, its `hold` included. */
  readonly reservation: Reservation & { readonly hold: HoldRef };
  /** Epoch ms of its last change (recorded, released or restored). */
  readonly changed_at: number;
  /** The writer whose release of it stands here; absent while it is held. */
  readonly released_by?: string;
  /** The tokens that release added to the reservation's hour (signed, as `release` took them). */
  readonly released_tokens?: number;
}

/** A handoff claim as its router journals it (ResourcesPort.recordClaim). */
export interface HandoffClaim {
  readonly handoff_id: string;
  readonly claim_id: string;
  /** The replica the claim was written in (the owner's, or the router's own as a fallback). */
  readonly claimed_in: string;
  readonly created_at: string;
  /** What the claim reserved (given back when another claim of the task won). */
  readonly reservation?: Reservation;
}

/** One applied (or dry-run) rebalance. */
export interface RebalanceRecord {
  readonly rebalance_id: string;
  readonly at: string;
  readonly region: string;
  readonly moves: readonly RebalanceMove[];
  readonly applied: readonly RebalanceMove[];
  readonly skipped: readonly { readonly move: RebalanceMove; readonly reason: string }[];
}

/**
 * Selectively replicated data in one region (the topology's `selective` policies): each key in its
 * policy's table for this region, so it is copied exactly where the policy allows.
 */
export interface SelectivePort {
  /** Writes `value` under `key`; ValidationError when no policy places the key in this region, ConflictError IMMUTABLE_RECORD when an immutable record exists. */
  put(key: string, value: Record<string, unknown>): Promise<SelectiveRecord>;
  /** As this region's replica holds it; undefined when absent or expired. */
  get(key: string): Promise<SelectiveRecord | undefined>;
  /** Deletes it; whether a record was there. ConflictError IMMUTABLE_RECORD on an immutable policy. */
  delete(key: string): Promise<boolean>;
  /** Every record this region's replicas of the selective tables hold, expired ones included (the audit). */
  listRecords(): Promise<SelectiveRecord[]>;
  /** Up to `limit` unexpired records whose key starts with `prefix`, after key `after`, in key order. */
  list(prefix: string, limit: number, after?: string): Promise<SelectiveListing>;
}

export interface SelectiveListing {
  readonly records: readonly SelectiveRecord[];
  /** More records match after the last one listed. */
  readonly more: boolean;
}

/**
 * Operations records in one region's replica of the state table: emergency shutdown incidents (the
 * audit of each shutdown and restore) and the daily operations reports. Every write is one
 * conditional put.
 */
export interface OpsPort {
  /** Records an incident; ConflictError (INCIDENT_EXISTS) carrying the stored one if the id is taken. */
  createIncident(record: import('./core/ops/shutdown.ts').IncidentRecord): Promise<void>;
  getIncident(incidentId: string): Promise<import('./core/ops/shutdown.ts').IncidentRecord | undefined>;
  /** Incidents, newest first. */
  listIncidents(): Promise<import('./core/ops/shutdown.ts').IncidentRecord[]>;
  /**
   * Replaces an incident only if its status is still `expectedStatus`; ConflictError
   * (INCIDENT_CHANGED) carrying the current one otherwise.
   */
  replaceIncident(
    record: import('./core/ops/shutdown.ts').IncidentRecord,
    expectedStatus: import('./core/ops/shutdown.ts').IncidentRecord['status'],
  ): Promise<void>;
  /** Stores a report; ConflictError (REPORT_EXISTS) if the id is taken. */
  putReport(report: import('./core/ops/daily-report.ts').DailyReport): Promise<void>;
  getReport(reportId: string): Promise<import('./core/ops/daily-report.ts').DailyReport | undefined>;
  /** Reports, newest first. */
  listReports(): Promise<import('./core/ops/daily-report.ts').DailyReport[]>;
}
