import type { DeploymentFacts } from '../core/compliance/types.ts';
import type { Topology } from '../core/topology/types.ts';
import type {
  Clock,
  CompliancePort,
  DocumentPort,
  EventsPort,
  PrivacyPort,
  ProbePort,
  ReplicationPort,
  ResourcesPort,
  SelectivePort,
  StatePort,
  WorkflowPort,
} from '../ports.ts';

/** What every regional handler is given by its composition root (Lambda or local). */
export interface RegionalDeps {
  /** The region this handler serves, e.g. `us-east-1`. */
  readonly regionId: string;
  readonly topology: Topology;
  /** This region's replica of the shared state. */
  readonly state: StatePort;
  readonly clock: Clock;
  /**
   * What this deployment configures (encryption, API authorization), which the compliance rules
   * check for `pii` and `sensitive` data. Absent: nothing is confirmed, regulated data is refused.
   */
  readonly deployment?: DeploymentFacts;
  /** Compliance approvals and audit reports in this region's replica. */
  readonly compliance?: CompliancePort;
  /**
   * The measured latency matrix in this region's replica: the router prefers its fresh
   * figures, `GET /v1/latency` answers 500 without it, the sampler writes it.
   */
  readonly latency?: import('../ports.ts').LatencyPort;
  /**
   * The global resource pool in this region's replica. Without it the router judges
   * capacity from the topology's static `current_usage` and reserves nothing.
   */
  readonly resources?: ResourcesPort;
  /**
   * Selectively replicated data in this region's replicas of the selective tables: the
   * data API answers 500 DATA_NOT_CONFIGURED without it.
   */
  readonly selective?: SelectivePort;
  /** Emergency shutdown incidents and daily reports in this region's replica; the ops API answers 500 without it. */
  readonly ops?: import('../ports.ts').OpsPort;
  /**
   * Every region's per-minute availability as this region's probe round saw it: the round records a
   * sample a minute and `GET /v1/regions` answers the last hour and day; both skip it when absent.
   */
  readonly availability?: import('../ports.ts').AvailabilityPort;
  /** The MCP server registry in this region's replica; the MCP API answers 500 without it. */
  readonly mcp?: import('../ports.ts').McpRegistryPort;
  /**
   * Another region's replica of the shared state, as far as this region reaches it: the router claims
   * a task's handoff in its owner region's replica (lib/core/state/handoff-owner.ts). Without it the
   * router claims in its own replica only. `replica(regionId)` of this region is `state`.
   */
  readonly replica?: (regionId: string) => StatePort;
  /**
   * Where a handler reports an error it cannot explain (an answer of 500). Absent: one JSON line on
   * standard error, which Lambda sends to CloudWatch; the local runtime passes its own log, so a
   * terminal or a test run shows a plain line instead.
   */
  readonly log?: (message: string, error: unknown) => void;
}

/** What the health probe, the failover steps and the failover API need beyond the basics. */
export interface ControlDeps extends RegionalDeps {
  readonly probe: ProbePort;
  readonly events: EventsPort;
  readonly workflow: WorkflowPort;
  /**
   * Another region's replica of the same table (the failover's sync check reads the target's
   * replica; a witness writes its views into each region's). `replica(regionId)` is `state`.
   */
  readonly replica: (regionId: string) => StatePort;
  /**
   * A region's data-subject requests and the subject's records there; the privacy API
   * answers 500 without it. Optional so deps built for other concerns need not carry it.
   */
  readonly privacy?: (regionId: string) => PrivacyPort;
  /**
   * A region's replication bookkeeping (marks, lag views, raw items for checks); the
   * replication API answers 500 without it. `replication(regionId)` of this region is its own replica.
   */
  readonly replication?: (regionId: string) => ReplicationPort;
  /** Versioned active-active documents in this region's replica. */
  readonly documents?: DocumentPort;
}
