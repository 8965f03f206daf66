import type { DeploymentFacts } from '../core/compliance/types.ts';
import type { Topology } from '../core/topology/types.ts';
import type {
  AuditArchivePort,
  AvailabilityPort,
  Clock,
  CompliancePort,
  DocumentPort,
  EventsPort,
  Failovers,
  Handoffs,
  HealthViews,
  Heartbeats,
  LatencyPort,
  McpProbePort,
  McpRegistryPort,
  OpsPort,
  PrivacyPort,
  ProbePort,
  RegionStatuses,
  ReplicationPort,
  ResourcesPort,
  SelectivePort,
  StatePort,
  WorkflowPort,
} from '../ports.ts';

/** What every regional function is given, whatever its concern. */
export interface RegionBasics {
  /** The region this handler serves, e.g. `us-east-1`. */
  readonly regionId: string;
  readonly topology: Topology;
  /** This region's replica of the shared state. */
  readonly state: StatePort;
  readonly clock: Clock;
  /**
   * Where a handler reports an error it cannot explain (an answer of 500). Absent: one JSON line on
   * standard error, which Lambda sends to CloudWatch; the local runtime passes its own log, so a
   * terminal or a test run shows a plain line instead.
   */
  readonly log?: (message: string, error: unknown) => void;
}

/** Every port a composition root can wire into a regional function, by the name deps carry it under. */
export interface Ports {
  /**
   * What this deployment configures (encryption, API authorization), which the compliance rules
   * check for `pii` and `sensitive` data.
   */
  readonly deployment: DeploymentFacts;
  /** Compliance approvals and audit reports in this region's replica. */
  readonly compliance: CompliancePort;
  /** The measured latency matrix in this region's replica (the router prefers its fresh figures). */
  readonly latency: LatencyPort;
  /** The global resource pool in this region's replica. */
  readonly resources: ResourcesPort;
  /** Selectively replicated data in this region's replicas of the selective tables. */
  readonly selective: SelectivePort;
  /** Emergency shutdown incidents and daily reports in this region's replica. */
  readonly ops: OpsPort;
  /** Every region's per-minute availability as this region's probe round saw it. */
  readonly availability: AvailabilityPort;
  /** The MCP server registry in this region's replica. */
  readonly mcp: McpRegistryPort;
  /** Calls the MCP servers' own health routes (on AWS only from inside the network mesh's VPC). */
  readonly mcpProbe: McpProbePort;
  /**
   * Another region's replica of the shared state, as far as this region reaches it (a task's handoff
   * is claimed in its owner region's replica; the failover's sync check reads the target's).
   * `replica(regionId)` of this region is `state`.
   */
  readonly replica: (regionId: string) => ReplicaState;
  /** A region's data-subject requests and the subject's records there. */
  readonly privacy: (regionId: string) => PrivacyPort;
  /** A region's replication bookkeeping; `replication(regionId)` of this region is its own replica. */
  readonly replication: (regionId: string) => ReplicationPort;
  /** Versioned active-active documents in this region's replica. */
  readonly documents: DocumentPort;
  /** Every region's API, probed. */
  readonly probe: ProbePort;
  /** This region's event bus. */
  readonly events: EventsPort;
  /** The failover workflow, in any region (deterministic names). */
  readonly workflow: WorkflowPort;
  /**
   * Where audit reports are also kept (an S3 bucket in the region's jurisdiction). A deployment
   * option (`-c auditBucket=true`): the one port a function may be wired with or without.
   */
  readonly archive: AuditArchivePort;
}

export type PortName = keyof Ports;

/**
 * Another region's replica as this region's use cases read and write it: a task's handoff claimed
 * in its owner's, the target's statuses, heartbeats and handoffs read by the failover steps, a canary
 * routed there. Of its failover records only one at a time, and only the coordinator's: a failover is
 * written in its coordinator's replica only, so an operator's abort, approval or decline asked of
 * another region is read and written there (lib/app/failover/manage.ts).
 */
type ReplicaState = RegionStatuses &
  Handoffs &
  HealthViews &
  Heartbeats &
  Pick<Failovers, 'getFailover' | 'updateFailover'>;

/**
 * Deps `D` whose shared state is only `S`, the aggregates of StatePort a use case reads and writes
 * (`RegionStatuses & HealthViews`): it names them, and cannot reach the others.
 */
export type WithState<D extends { readonly state: StatePort }, S> = Omit<D, 'state'> & { readonly state: S };

/** The health probe's, the failover steps' and the failover API's ports: they act on failovers. */
export const CONTROL_PORTS = [
  'deployment',
  'latency',
  'resources',
  'availability',
  'mcp',
  'replica',
  'probe',
  'workflow',
  'events',
] as const satisfies readonly PortName[];

/** The operations API's and the daily report's ports: they read what the daily checks read. */
export const OPERATIONS_PORTS = [
  'deployment',
  'compliance',
  'latency',
  'resources',
  'availability',
  'ops',
  'replication',
  'documents',
  'events',
] as const satisfies readonly PortName[];

/**
 * The ports each function of a region is wired with, and nothing else: its deps type
 * (`FunctionDeps`), what the Lambda root builds for it and the environment the CDK must give it
 * (lib/runtime/env.ts) all derive from this table. `compliance`'s code is functions/compliance-check.
 */
export const FUNCTION_PORTS = {
  // The HTTP concerns (lib/app/routes.ts).
  router: ['deployment', 'compliance', 'latency', 'resources', 'replica'],
  regions: ['resources', 'availability'],
  health: ['resources'],
  failovers: CONTROL_PORTS,
  privacy: ['resources', 'privacy', 'events'],
  compliance: ['deployment', 'compliance', 'selective', 'events'],
  replication: ['replication', 'documents', 'events'],
  latency: ['latency'],
  resources: ['resources', 'events'],
  data: ['selective'],
  mcp: ['deployment', 'latency', 'resources', 'availability', 'mcp', 'events'],
  ops: OPERATIONS_PORTS,
  // The background jobs (lib/infra/regional-stack.ts) and the DR runbooks' task function.
  'health-probe': CONTROL_PORTS,
  failover: CONTROL_PORTS,
  // The partition runbook's reconciliation runs the consistency check with reconcile.
  dr: [...CONTROL_PORTS, 'replication', 'documents'],
  'privacy-sweeper': ['resources', 'privacy', 'events'],
  'compliance-audit': ['deployment', 'compliance', 'selective', 'events', 'archive'],
  'replication-monitor': ['replication', 'documents', 'events'],
  'latency-sampler': ['latency', 'probe', 'events'],
  rebalancer: ['resources', 'events'],
  'ops-daily': OPERATIONS_PORTS,
  // Runs inside the mesh VPC, which reaches the table through its gateway endpoint and nothing
  // else of AWS: no events (no EventBridge endpoint there), the verdicts are in the registry.
  'mcp-probe': ['mcp', 'mcpProbe'],
} as const satisfies Readonly<Record<string, readonly PortName[]>>;

/** A regional function: an HTTP concern, a background job or the DR task function. */
export type WiredFunction = keyof typeof FUNCTION_PORTS;

/** Ports a function may be wired without (a deployment option, not a wiring choice). */
type OptionalPort = 'archive';

/** The basics and exactly `P`, each required except a deployment option. */
export type DepsWith<P extends PortName> = RegionBasics &
  Pick<Ports, Exclude<P, OptionalPort>> &
  Partial<Pick<Ports, Extract<P, OptionalPort>>>;

/**
 * `D` with each port it names required (a deployment option excepted): what a Lambda root must give
 * a handler whose use cases still answer without some port (the simulator and the benchmarks wire
 * fewer) but read it when wired. A function whose FUNCTION_PORTS entry misses one does not compile.
 */
export type Wired<D> = D & {
  readonly [P in Exclude<Extract<keyof D, PortName>, OptionalPort>]-?: NonNullable<D[P]>;
};

/** What function `F`'s handler is given: the basics and the ports FUNCTION_PORTS lists for it. */
export type FunctionDeps<F extends WiredFunction> = DepsWith<(typeof FUNCTION_PORTS)[F][number]>;

/**
 * What the use cases accept: the basics and whichever ports the caller has. A use case that cannot
 * do without a port says so in its own deps type; the functions' deps (FunctionDeps) carry every port
 * their use cases read, so a function wired without one does not compile.
 */
export interface RegionalDeps
  extends RegionBasics,
    Partial<Omit<Ports, 'probe' | 'mcpProbe' | 'events' | 'workflow'>> {}

/** What the health probe, the failover steps and the failover API need beyond the basics. */
export interface ControlDeps extends RegionalDeps {
  readonly probe: ProbePort;
  /** Calls the MCP servers' own endpoints; without it the probe round leaves them unprobed. */
  readonly mcpProbe?: McpProbePort;
  readonly events: EventsPort;
  readonly workflow: WorkflowPort;
  readonly replica: (regionId: string) => ReplicaState;
}

/**
 * The part of ControlDeps the control use cases read (the health probe, the failover steps and API,
 * the DR runbooks): the basics, the bus, the probe, the workflow and the other regions' replicas; the
 * plan's deployment facts, the latency matrix and registry the MCP servers move by, the pool and the
 * availability store, each when wired; the MCP servers' own endpoints when this function reaches them.
 */
export type ControlJobDeps = RegionBasics &
  Partial<Pick<Ports, 'deployment' | 'latency' | 'resources' | 'availability' | 'mcp'>> &
  Pick<ControlDeps, 'probe' | 'events' | 'workflow' | 'replica' | 'mcpProbe'>;
