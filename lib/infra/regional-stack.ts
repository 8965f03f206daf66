import { join } from 'node:path';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { keys } from '../adapters/aws/state-keys.ts';
import { mcpRoundNeedsMs, mcpRoundSeconds } from '../app/mcp/minute-round.ts';
import { PROBE_ROUND_MARGIN_MS } from '../app/probe-minute.ts';
import { REPLICATION_ROUND_NEEDS_MS } from '../app/replication/minute-round.ts';
import { API_ROUTES, CONCERNS, type Concern } from '../app/routes.ts';
import { healthPolicyOf } from '../core/health/evaluate.ts';
import { samplingOf } from '../core/latency/stats.ts';
import { DEFAULT_BEAT_INTERVAL_MS } from '../core/replication/lag.ts';
import { type PlacedTable, resourcePoolTable } from '../core/replication/placement.ts';
import type { Topology } from '../core/topology/types.ts';
import { AuditBucket, type AuditRetention } from './audit-bucket.ts';
import { BackgroundJob, type BackgroundJobSpec, type JobResources } from './background-job.ts';
import { ControlPlaneEvents } from './control-plane-events.ts';
import type { DeploymentPlan } from './deployment-plan.ts';
import type { DnsPlan } from './dns-plan.ts';
import { DrTask, DrWorkflows } from './dr-workflows.ts';
import { FailoverWorkflow } from './failover-workflow.ts';
import {
  BACKGROUND_JOBS,
  type BackgroundJobName,
  type FunctionName,
  HANDLER_ENV,
  HandlerFunction,
  type MeshJobName,
  type WorkflowAccess,
} from './handler-function.ts';
import { MinuteDriver } from './minute-driver.ts';
import { latencySamplerLogGroupName, Monitoring } from './monitoring.ts';
import type { ProbeSchedule } from './probe-schedule.ts';
import { RegionEndpoints } from './region-endpoints.ts';
import { RegionalApi } from './regional-api.ts';
import { RegionalDns } from './regional-dns.ts';
import { grantWriteCounter, REPLICATION_ACCESS, REPLICATION_MONITOR_TIMEOUT } from './replication-access.ts';
import { type SelectiveAccess, SelectiveReplicas } from './selective-replicas.ts';
import type { TableItemAction } from './state-table.ts';
import { StateTableKey } from './state-table-key.ts';
import { StateTables } from './state-tables.ts';

/** What a concern's function may do beyond answering its routes. */
export interface ConcernAccess {
  /**
   * Item actions on its region's replica of the state table. None: the table is only named
   * (CORTEX_TABLE_NAME, which the shared composition root reads), never granted.
   */
  readonly table?: readonly TableItemAction[];
  /** Item actions on every other region's replica (the privacy API erases a subject's records there). */
  readonly remoteTable?: readonly TableItemAction[];
  /** Item actions on this region's replicas of the placement's selective tables (SelectiveReplicas). */
  readonly selective?: SelectiveAccess;
  /** Publishes to the region's bus. */
  readonly events?: boolean;
  /**
   * Starts failovers and answers their approval step. `everyRegion`: on the failover state machine of
   * every region (deterministic ARNs), not only this one's.
   */
  readonly failoverWorkflow?: { readonly access: readonly WorkflowAccess[]; readonly everyRegion: boolean };
}

/**
 * What each HTTP concern may do. The router reads region statuses and records handoffs; regions and
 * health only read. The failovers API creates and updates failover records, starts the workflow in
 * the failover's coordinator region and answers an approval where its execution waits (a task token
 * is answered in the region that issued it): so on every region's state machine, by exact ARN. An
 * operator's change to a record is made in the coordinator's replica: so on every region's replica.
 * The privacy API records requests and their exports here, and finds (Query) and erases (DeleteItem)
 * a subject's records in every region's replica; it never writes another region's records otherwise.
 * A concern missing here fails the synth (see RegionalStack).
 */
/** The compliance audit reads every selectively replicated record of its region's replicas (Scan). */
export const SELECTIVE_AUDIT_ACCESS: SelectiveAccess = { every: ['Scan'] };

export const CONCERN_ACCESS: Readonly<Record<Concern, ConcernAccess>> = {
  // A task's handoff is claimed (conditional PutItem) and read in its owner region's
  // replica; the claim journal is this region's own partition (PutItem, DeleteItem).
  router: { table: ['GetItem', 'Query', 'PutItem', 'DeleteItem'], remoteTable: ['GetItem', 'PutItem'] },
  regions: { table: ['GetItem', 'Query'] },
  health: { table: ['GetItem', 'Query'] },
  // An operator's abort, approval or decline is read (GetItem) and written (a conditional
  // UpdateItem) in the failover coordinator's replica (lib/app/failover/manage.ts).
  failovers: {
    table: ['GetItem', 'Query', 'PutItem', 'UpdateItem'],
    remoteTable: ['GetItem', 'UpdateItem'],
    events: true,
    failoverWorkflow: { access: ['start', 'answer'], everyRegion: true },
  },
  privacy: {
    table: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'],
    remoteTable: ['Query', 'DeleteItem'],
    events: true,
  },
  // Checks read the state and record approvals; an audit run on request writes its report and events.
  // An audit on request also reads this region's selectively replicated records (one Scan per table).
  compliance: { table: ['GetItem', 'Query', 'PutItem'], events: true, selective: SELECTIVE_AUDIT_ACCESS },
  // Lag readings, consistency checks (every replica read; repairs only on reconcile) and documents.
  replication: {
    table: REPLICATION_ACCESS.api.own,
    remoteTable: REPLICATION_ACCESS.api.remote,
    events: true,
  },
  // Reads the measured latency matrix (one partition of the state table).
  latency: { table: ['Query'] },
  // Pools are read and seeded (Query, GetItem, PutItem), usage, allocations and
  // handoff settlements are conditional UpdateItems (ADD); a settlement's release marks the hold
  // (UpdateItem) and journals it (PutItem); rebalances are recorded and emitted.
  resources: { table: ['GetItem', 'Query', 'PutItem', 'UpdateItem'], events: true },
  // Selectively replicated data by key: reads (consistent), listings by prefix (Query on gsi1) and puts
  // (conditional on immutable tables) on this region's replicas of the selective tables, deletes on
  // the mutable ones. It never touches
  // the state table, and no other region's replica: the policy's replication carries the data.
  data: { selective: { every: ['GetItem', 'PutItem', 'Query'], mutable: ['DeleteItem'] } },
  // The MCP registry: one partition read whole (Query), seeded, registered and deregistered (PutItem,
  // conditional for seeds and tombstones); discovery reads statuses, health views and the latency
  // matrix (Query); registrations are emitted.
  mcp: { table: ['Query', 'PutItem'], events: true },
  // Operations: a shutdown or restore is one conditional status write (PutItem) and its incident
  // (PutItem, conditional on its status for a restore); a report on request reads what the daily
  // job reads (statuses, views, pools, the latency matrix, audits: GetItem, Query) and every other
  // replica's replication marks (Query), and writes the report; shutdowns notify on the bus.
  ops: { table: ['GetItem', 'Query', 'PutItem'], remoteTable: ['Query'], events: true },
};

/**
 * The background jobs' table access. The probe writes its views, heartbeat, fencing and new failover
 * records; the failover steps update records and statuses here and read the others' replicas (sync
 * check). Neither has any Route 53, IAM or CloudFormation permission (principle 1).
 */
export const JOB_TABLE_ACCESS = {
  // Each round also settles the region's duplicate handoff claims (reads the claim back
  // where it was written, DeleteItem on its journal, a release is an UpdateItem ADD), moves
  // orphaned handoffs (conditional UpdateItems on handoffs and held counters) and reconciles its
  // holds with the records (batch-reads them here, and those missing here in the other replicas;
  // restores, releases and forgets holds, gives back and deletes its journaled releases).
  probe: ['GetItem', 'BatchGetItem', 'PutItem', 'Query', 'UpdateItem', 'DeleteItem'],
  probeRemote: ['GetItem', 'BatchGetItem'],
  failover: ['GetItem', 'PutItem', 'UpdateItem', 'Query'],
  failoverRemote: ['GetItem', 'Query'],
  /** The privacy sweeper works on requests like the privacy API. */
  privacySweeper: ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'],
  privacySweeperRemote: ['Query', 'DeleteItem'],
  /** The daily audit reads this replica's handoffs, failovers and statuses and writes its report. */
  complianceAudit: ['GetItem', 'Query', 'PutItem'],
  // Reads its row of the latency matrix and writes each pair's entry.
  latencySampler: ['Query', 'PutItem'],
  /** Reads statuses and pools, writes allocations (conditional UpdateItem) and records. */
  rebalancer: ['GetItem', 'Query', 'PutItem', 'UpdateItem'],
  /** The daily operations report reads statuses, views, pools, latency and audits, and writes itself. */
  opsDaily: ['GetItem', 'Query', 'PutItem'],
  /** It reads every other replica's replication marks for the lag check. */
  opsDailyRemote: ['Query'],
  /**
   * The MCP health job reads the registry and every observer's probe records (Query on the MCP
   * partition), seeds an empty registry (conditional PutItem) and writes its own probe record.
   */
  mcpProbe: ['Query', 'PutItem'],
} as const satisfies Record<string, readonly TableItemAction[]>;

/**
 * One probe round: every target's endpoints concurrently under the policy's timeout, then the state
 * I/O (PROBE_ROUND_MARGIN_MS), and a cold start's two seconds. The minute driver delivers each
 * round at its second, so no probe function waits for the next one.
 */
export function probeRoundTimeout(topology: Topology): Duration {
  const policy = healthPolicyOf(topology);
  return Duration.seconds(Math.ceil(policy.timeout_seconds + PROBE_ROUND_MARGIN_MS / 1000 + 2));
}

/**
 * Functions whose code directory under `functions/` is not their name: the compliance concern's
 * handler is `functions/compliance-check` (beside the scheduled `functions/compliance-audit`).
 */
export const CODE_DIRECTORY: Readonly<Partial<Record<FunctionName, string>>> = {
  compliance: 'compliance-check',
};

/** Samples are sequential per target: samples_per_run x the probe timeout (10 s) at worst, plus room. */
export const LATENCY_SAMPLER_TIMEOUT = Duration.minutes(5);

/**
 * EventBridge Scheduler's rate for the sampling interval: whole minutes, at least one (an interval
 * under a minute samples once a minute on AWS; the local scheduler keeps the exact interval).
 */
export function samplerExpression(intervalSeconds: number): string {
  const minutes = Math.max(1, Math.round(intervalSeconds / 60));
  return minutes === 1 ? 'rate(1 minute)' : `rate(${minutes} minutes)`;
}

/** A sweep may wait on several unreachable replicas (3 s each) for every unfinished request. */
export const PRIVACY_SWEEPER_TIMEOUT = Duration.minutes(5);

/** The audit reads every handoff and failover record of its replica. */
export const COMPLIANCE_AUDIT_TIMEOUT = Duration.minutes(5);

/** The daily report's reads: its own replica, and every other replica's marks (3 s each at worst). */
export const OPS_DAILY_TIMEOUT = Duration.minutes(1);

/**
 * A region's background jobs, one entry each: size, access and what starts it (BackgroundJob).
 * Memory: 256 MiB where the job measures latency or sits on the failover path (CPU at 128 MiB is a
 * fourteenth of a vCPU: TLS and SigV4 would show in the measured p99, and a failover step would be
 * slower); 128 MiB for the others, which wait on DynamoDB.
 */
export function backgroundJobTable(
  topology: Topology,
): Readonly<Record<Exclude<BackgroundJobName, MeshJobName>, BackgroundJobSpec>> {
  return {
    // The failover steps: every Task state of the workflow calls this one function. They verify the
    // target's health through its API, like the probe.
    failover: {
      timeout: failoverTimeout(topology),
      memorySize: 256,
      table: JOB_TABLE_ACCESS.failover,
      remoteTable: JOB_TABLE_ACCESS.failoverRemote,
      events: true,
      // The shared composition root reads the ARN; the steps never start or answer a workflow.
      failoverWorkflow: [],
      endpoints: 'probe',
    },
    'health-probe': {
      timeout: probeRoundTimeout(topology),
      memorySize: 256,
      // Its rounds come from a queue, which starts no trace: traced only when an operator's call is.
      tracing: 'pass-through',
      table: JOB_TABLE_ACCESS.probe,
      remoteTable: JOB_TABLE_ACCESS.probeRemote,
      writeCounter: true,
      events: true,
      // A probe starts a failover only as its coordinator: in its own region (principle 2).
      failoverWorkflow: ['start'],
      endpoints: 'rounds',
      minuteRounds: { intervalSeconds: healthPolicyOf(topology).interval_seconds },
    },
    'replication-monitor': {
      // One beat round (REPLICATION_ROUND_NEEDS_MS), or the hourly consistency check.
      timeout: REPLICATION_MONITOR_TIMEOUT,
      memorySize: 128,
      tracing: 'pass-through',
      table: REPLICATION_ACCESS.monitor.own,
      remoteTable: REPLICATION_ACCESS.monitor.remote,
      events: true,
      // Its beats a few seconds into the minute, apart from the probe's rounds on the minute.
      minuteRounds: {
        intervalSeconds: DEFAULT_BEAT_INTERVAL_MS / 1000,
        offsetSeconds: 5,
        roundSeconds: REPLICATION_ROUND_NEEDS_MS / 1000,
      },
      schedules: [
        {
          id: 'ConsistencyCheck',
          expression: 'rate(1 hour)',
          input: { task: 'consistency_check', sample_size: 100 },
          purpose: 'the Cortex replication consistency check',
          description: (region) =>
            `Cortex consistency check from ${region}: 100 sampled keys across every replica, hourly`,
        },
      ],
    },
    'privacy-sweeper': {
      timeout: PRIVACY_SWEEPER_TIMEOUT,
      memorySize: 128,
      table: JOB_TABLE_ACCESS.privacySweeper,
      remoteTable: JOB_TABLE_ACCESS.privacySweeperRemote,
      events: true,
      schedules: [
        {
          expression: 'rate(1 hour)',
          purpose: 'the Cortex privacy sweeper',
          description: (region) =>
            `Cortex privacy sweeper in ${region}: retries data-subject requests, reports overdue ones`,
        },
      ],
    },
    'compliance-audit': {
      timeout: COMPLIANCE_AUDIT_TIMEOUT,
      memorySize: 256,
      table: JOB_TABLE_ACCESS.complianceAudit,
      selective: SELECTIVE_AUDIT_ACCESS,
      events: true,
      schedules: [
        {
          expression: 'rate(1 day)',
          purpose: 'the Cortex compliance audit',
          description: (region) => `Cortex compliance audit of ${region}: daily report`,
        },
      ],
    },
    'latency-sampler': {
      timeout: LATENCY_SAMPLER_TIMEOUT,
      memorySize: 256,
      // Scheduler sends no trace header, and Lambda's Active mode traces the first call of every
      // second: every run of a job this frequent would be a trace (about $0.66 a month for nothing
      // new: its samples are its record). Traced when a caller samples it.
      tracing: 'pass-through',
      table: JOB_TABLE_ACCESS.latencySampler,
      events: true,
      endpoints: 'probe',
      schedules: [
        {
          expression: samplerExpression(samplingOf(topology).interval_seconds),
          purpose: 'the Cortex latency sampler',
          description: (region) => `Cortex latency sampler in ${region}: round trip to every other region`,
        },
      ],
    },
    'ops-daily': {
      timeout: OPS_DAILY_TIMEOUT,
      memorySize: 128,
      table: JOB_TABLE_ACCESS.opsDaily,
      remoteTable: JOB_TABLE_ACCESS.opsDailyRemote,
      events: true,
      schedules: [
        {
          expression: 'rate(1 day)',
          purpose: 'the Cortex daily operations report',
          description: (region) =>
            `Cortex daily operations report from ${region}: health, replication lag, latency, capacity, compliance, cost`,
        },
      ],
    },
    rebalancer: {
      timeout: Duration.seconds(10),
      memorySize: 128,
      // As the latency sampler: every 5-minute run would be a trace under Active.
      tracing: 'pass-through',
      table: JOB_TABLE_ACCESS.rebalancer,
      events: true,
      schedules: [
        {
          expression: samplerExpression(topology.global_resource_pool.dynamic_rebalancing.interval_seconds),
          purpose: 'the Cortex resource rebalancer',
          description: (region) =>
            `Cortex resource rebalancer in ${region}: moves allocation toward overloaded regions`,
        },
      ],
    },
  };
}

/**
 * The jobs that run inside the region's network mesh VPC (`-c network=mesh`). The MCP health job
 * probes the registry's servers at the region's MCP probe interval (its rounds from the minute
 * driver, ten seconds into the minute, apart from the probe's and the monitor's); 128 MiB, since
 * its verdicts count answers, not latency. No bus (the VPC has no EventBridge endpoint) and no
 * trace (nor an X-Ray one: its rounds come from a queue, which samples none).
 */
export function meshJobTable(
  topology: Topology,
  regionId: string,
): Readonly<Record<MeshJobName, BackgroundJobSpec>> {
  const intervalSeconds = mcpRoundSeconds(topology, regionId);
  return {
    'mcp-probe': {
      // One round, and a cold start inside the VPC.
      timeout: Duration.seconds(Math.ceil(mcpRoundNeedsMs(topology) / 1000 + 2)),
      memorySize: 128,
      tracing: 'pass-through',
      table: JOB_TABLE_ACCESS.mcpProbe,
      minuteRounds: { intervalSeconds, offsetSeconds: intervalSeconds > 10 ? 10 : 0 },
    },
  };
}

/** Where a region's mesh VPC publishes the MCP health job's network (lib/infra/network-mesh.ts). */
export interface RegionalMesh {
  /** SSM parameters (this region) holding the job's subnet ids. */
  readonly subnetParameters: readonly string[];
  /** SSM parameter (this region) holding its security group id. */
  readonly securityGroupParameter: string;
}

export interface RegionalStackProps extends StackProps {
  readonly plan: DeploymentPlan;
  /** The topology region this stack serves; also its env.region. */
  readonly regionId: string;
  /** The validated topology, baked into each bundle. */
  readonly topology: Topology;
  /** Absolute project root: handlers are `<projectRoot>/functions/<name>/index.ts`. */
  readonly projectRoot: string;
  /** Route 53 plan; regional DNS is deployed only when it names the zone (hostedZoneId). */
  readonly dns?: DnsPlan;
  /** Deploys the audit report bucket with this retention (`-c auditBucket=true`). @default no bucket */
  readonly auditBucket?: AuditRetention;
  /**
   * The placement's MRSC table (`<name>-critical`): every grant on the state table, here and on the
   * other regions' replicas, also covers it (see StateTables). @default none
   */
  readonly criticalTable?: PlacedTable;
  /**
   * The placement's selective tables (role `selective`), every one: the data API is granted this
   * region's replicas of those that have one (SelectiveReplicas). Required, so that no synth leaves
   * the data API without its tables; empty when the topology has no selective policy.
   */
  readonly selectiveTables: readonly PlacedTable[];
  /**
   * The region's network mesh VPC (`-c network=mesh`): the MCP health job runs there, read from the
   * mesh stack's SSM parameters at deploy time (no cross-stack reference). @default no mesh: no job
   */
  readonly mesh?: RegionalMesh;
}

/**
 * `CortexRegion-<region_id>`: everything one region runs on its own: its table key, a function per
 * concern behind the HTTP API, its background jobs (backgroundJobTable: the health probe and the
 * replication monitor driven inside each minute by the minute driver, the others on schedules), the
 * failover workflow, the DR runbooks (DrWorkflows, around their task function), the event bus with
 * operator notifications, and (with a zone) its part of Route 53.
 */
export class RegionalStack extends Stack {
  readonly regionId: string;
  readonly tableKey: StateTableKey;
  /** This region's replicas of the selective tables (the data API's). */
  readonly selectiveReplicas: SelectiveReplicas;
  readonly handlers: Readonly<Record<Concern, HandlerFunction>>;
  readonly api: RegionalApi;
  readonly events: ControlPlaneEvents;
  /** Every background job (backgroundJobTable), by name. */
  readonly jobs: Readonly<Record<Exclude<BackgroundJobName, MeshJobName>, BackgroundJob>>;
  /** The MCP health job inside the mesh VPC (meshJobTable); only with `mesh`. */
  readonly mcpProbe: BackgroundJob | undefined;
  /** Runs the sub-minute jobs' rounds (health probe, replication monitor) inside each minute. */
  readonly minuteDriver: MinuteDriver;
  readonly failoverWorkflow: FailoverWorkflow;
  /** The DR runbooks' task function (functions/dr) and the two runbook state machines around it. */
  readonly drTask: DrTask;
  readonly drWorkflows: DrWorkflows;
  readonly auditBucket: AuditBucket | undefined;
  readonly endpoints: RegionEndpoints;
  readonly apiUrlParameter: ssm.StringParameter;
  readonly dns: RegionalDns | undefined;

  constructor(scope: Construct, id: string, props: RegionalStackProps) {
    super(scope, id, props);
    const { plan } = props;
    this.#checkProps(props);
    this.regionId = props.regionId;
    const peers = plan.regionIds.filter((r) => r !== props.regionId);

    // One customer managed key per region: the table replicas, the selective replicas and the
    // operators' topic.
    this.tableKey = new StateTableKey(this, 'StateTableKey', { aliasName: plan.tableKeyAlias });
    const { table, remoteReplicas } = this.#stateTables(props, peers);
    this.selectiveReplicas = new SelectiveReplicas(this, 'SelectiveTables', {
      tables: props.selectiveTables,
      key: this.tableKey.key,
    });
    this.events = new ControlPlaneEvents(this, 'Events', {
      eventBusName: plan.eventBusName,
      key: this.tableKey.key,
    });

    const job = this.#jobFactory(props, {
      table,
      remoteReplicas,
      bus: this.events.bus,
      selectiveReplicas: this.selectiveReplicas,
    });
    // The failover steps come first: the workflow runs them, and the API's failovers concern starts it.
    const failover = job('failover');
    this.failoverWorkflow = new FailoverWorkflow(this, 'FailoverWorkflow', {
      stateMachineName: plan.failoverStateMachineName,
      topology: props.topology,
      taskFunction: failover.function,
    });

    this.handlers = this.#concernHandlers(props, table, remoteReplicas);
    this.api = this.#api(props);
    // Peers without a domain find this API here (RegionEndpoints); operators too.
    this.apiUrlParameter = new ssm.StringParameter(this, 'ApiUrlParameter', {
      parameterName: `${plan.apiUrlParameterPrefix}${props.regionId}`,
      stringValue: this.api.api.apiEndpoint,
      description: `Base URL of the Cortex API in ${props.regionId}`,
    });

    const regionalDns = props.dns?.hostedZoneId !== undefined ? props.dns : undefined;
    this.endpoints = this.#endpoints(props, regionalDns);

    this.jobs = this.#backgroundJobs(job, failover, peers);
    this.mcpProbe = props.mesh ? this.#meshJob(job('mcp-probe'), props.mesh) : undefined;
    this.drTask = this.#drTask(props, table, remoteReplicas);
    this.drWorkflows = new DrWorkflows(this, 'DrWorkflows', {
      namePrefix: plan.name,
      taskFunction: this.drTask.function,
    });
    this.minuteDriver = this.#minuteDriver(props);
    this.auditBucket = this.#auditBucket(props);

    this.#grantPoolReservations(props, table);
    this.#connectFailoverConcerns();
    this.#monitoring(props);
    this.dns = regionalDns
      ? new RegionalDns(this, 'Dns', {
          plan: regionalDns,
          regionId: props.regionId,
          api: this.api.api,
          stage: this.api.stage,
        })
      : undefined;
    this.#outputs(props, regionalDns);
  }

  /** Fails the synth on a region outside the plan and on a concern with no declared access. */
  #checkProps(props: RegionalStackProps): void {
    if (this.region !== props.regionId || !props.plan.regionIds.includes(props.regionId)) {
      throw new Error(
        `RegionalStack: regionId ${props.regionId} must be a plan region and the stack's env.region (got ${this.region})`,
      );
    }
    const undeclared = CONCERNS.filter((c) => !(c in CONCERN_ACCESS));
    if (undeclared.length > 0) {
      throw new Error(`RegionalStack: no CONCERN_ACCESS entry for concern(s) ${undeclared.join(', ')}`);
    }
  }

  /** This region's replica of the state table, and the peers' replicas it may be granted on. */
  #stateTables(
    props: RegionalStackProps,
    peers: readonly string[],
  ): { table: StateTables; remoteReplicas: StateTables[] } {
    const { plan } = props;
    const criticalTable = props.criticalTable ? { criticalTable: props.criticalTable } : {};
    const table = new StateTables(this, 'StateTable', {
      tableName: plan.tableName,
      key: this.tableKey.key,
      ...criticalTable,
    });
    const remoteReplicas = peers.map(
      (regionId) =>
        new StateTables(this, `StateTable-${regionId}`, {
          tableName: plan.tableName,
          regionId,
          tableKeyAlias: plan.tableKeyAlias,
          ...criticalTable,
        }),
    );
    return { table, remoteReplicas };
  }

  /** Builds a background job by name from its entry in the job tables, on the region's resources. */
  #jobFactory(
    props: RegionalStackProps,
    resources: JobResources,
  ): (name: BackgroundJobName) => BackgroundJob {
    const { plan, topology } = props;
    const jobTable = backgroundJobTable(topology);
    const specs: Readonly<Partial<Record<BackgroundJobName, BackgroundJobSpec>>> = {
      ...jobTable,
      // The dashboard reads each region's latency lines by this name (no cross-region reference).
      'latency-sampler': {
        ...jobTable['latency-sampler'],
        logGroupName: latencySamplerLogGroupName(plan.name),
      },
      ...(props.mesh ? meshJobTable(topology, props.regionId) : {}),
    };
    return (name) =>
      new BackgroundJob(this, pascal(name), {
        name,
        spec: specs[name] as BackgroundJobSpec,
        projectRoot: props.projectRoot,
        regionId: props.regionId,
        topology,
        resources,
      });
  }

  /** A function per HTTP concern, granted what CONCERN_ACCESS declares for it. */
  #concernHandlers(
    props: RegionalStackProps,
    table: StateTables,
    remoteReplicas: readonly StateTables[],
  ): Record<Concern, HandlerFunction> {
    const handlers = {} as Record<Concern, HandlerFunction>;
    for (const concern of CONCERNS) {
      const handler = new HandlerFunction(this, `${pascal(concern)}Handler`, {
        concern,
        entry: join(props.projectRoot, 'functions', CODE_DIRECTORY[concern] ?? concern, 'index.ts'),
        projectRoot: props.projectRoot,
        regionId: props.regionId,
        topology: props.topology,
        // Route 53's checkers call /health about twice a second: Lambda's own sampling (the first
        // request each second) would trace nearly every one. Traced when the caller's trace is.
        ...(concern === 'health' ? { tracing: 'pass-through' as const } : {}),
      });
      const access = CONCERN_ACCESS[concern];
      if (access.table) handler.useStateTable(table, access.table);
      else handler.nameStateTable(table);
      if (access.selective) this.selectiveReplicas.grantItemAccess(handler.role, access.selective);
      if (access.remoteTable) {
        for (const replica of remoteReplicas) replica.grantItemAccess(handler.role, access.remoteTable);
      }
      if (access.events) handler.useEventBus(this.events.bus);
      if (access.failoverWorkflow) {
        const { access: actions, everyRegion } = access.failoverWorkflow;
        handler.useFailoverWorkflow(
          this.failoverWorkflow,
          actions,
          everyRegion ? props.plan.regionIds : undefined,
        );
      }
      handlers[concern] = handler;
    }
    // Each write through the state port is counted on the replica's replication mark (an
    // UpdateItem ADD). The failovers API and the failover steps hold UpdateItem already; the router
    // gets it on the marks partition only.
    grantWriteCounter(handlers.router.role, table);
    // A shutdown's status write through the state port is counted the same way.
    grantWriteCounter(handlers.ops.role, table);
    return handlers;
  }

  /** The region's HTTP API: every route to its concern's function. */
  #api(props: RegionalStackProps): RegionalApi {
    return new RegionalApi(this, 'Api', {
      apiName: `${props.plan.name}-${props.regionId}`,
      routes: API_ROUTES,
      handlers: Object.fromEntries(CONCERNS.map((c) => [c, this.handlers[c].function])),
    });
  }

  /** Where this region's functions find every region's API: under the domain, or in SSM. */
  #endpoints(props: RegionalStackProps, regionalDns: DnsPlan | undefined): RegionEndpoints {
    const { plan } = props;
    return new RegionEndpoints(this, 'RegionEndpoints', {
      regionIds: plan.regionIds,
      parameterPrefix: plan.apiUrlParameterPrefix,
      ...(regionalDns ? { domain: regionalDns.domain } : {}),
      ownApi: { regionId: props.regionId, url: this.api.api.apiEndpoint },
      probedPaths: props.topology.failover_policies.health_check.endpoints,
    });
  }

  /** Every job of backgroundJobTable (the failover steps already built), connected to the workflow and endpoints. */
  #backgroundJobs(
    job: (name: BackgroundJobName) => BackgroundJob,
    failover: BackgroundJob,
    peers: readonly string[],
  ): Record<Exclude<BackgroundJobName, MeshJobName>, BackgroundJob> {
    const jobs = { failover } as Record<Exclude<BackgroundJobName, MeshJobName>, BackgroundJob>;
    for (const name of BACKGROUND_JOBS) jobs[name] ??= job(name);
    for (const name of BACKGROUND_JOBS) {
      jobs[name].connect({ failoverWorkflow: this.failoverWorkflow, endpoints: this.endpoints, peers });
    }
    return jobs;
  }

  /** The DR runbooks' task function, with the table, bus, workflow and endpoints it acts on. */
  #drTask(props: RegionalStackProps, table: StateTables, remoteReplicas: readonly StateTables[]): DrTask {
    return new DrTask(this, 'Dr', {
      projectRoot: props.projectRoot,
      regionId: props.regionId,
      regionIds: props.plan.regionIds,
      topology: props.topology,
      table,
      remoteReplicas,
      bus: this.events.bus,
      failoverWorkflow: this.failoverWorkflow,
      endpoints: this.endpoints,
    });
  }

  /** The state machine that delivers each job's rounds inside the minute (those with minuteRounds). */
  #minuteDriver(props: RegionalStackProps): MinuteDriver {
    const { jobs } = this;
    return new MinuteDriver(this, 'MinuteDriver', {
      stateMachineName: `${props.plan.name}-minute`,
      description: `Cortex minute rounds in ${props.regionId}`,
      jobs: [...BACKGROUND_JOBS.map((name) => jobs[name]), ...(this.mcpProbe ? [this.mcpProbe] : [])].flatMap(
        (background) => {
          const rounds = background.spec.minuteRounds;
          return rounds ? [{ id: pascal(background.name), target: background.function, ...rounds }] : [];
        },
      ),
    });
  }

  /** The audit report bucket, when asked for, written by the compliance audit. */
  #auditBucket(props: RegionalStackProps): AuditBucket | undefined {
    // In this region, so the reports stay in the jurisdiction they describe.
    const auditBucket = props.auditBucket
      ? new AuditBucket(this, 'AuditReports', { retention: props.auditBucket })
      : undefined;
    if (auditBucket) {
      this.complianceAudit.function.addEnvironment(HANDLER_ENV.auditBucket, auditBucket.bucket.bucketName);
      auditBucket.grantPutReports(this.complianceAudit.role);
    }
    return auditBucket;
  }

  /** The router's conditional writes on its region's pool and holds, each confined to its partition. */
  #grantPoolReservations(props: RegionalStackProps, table: StateTables): void {
    // The router reserves a task's resources on its region's pool (a conditional ADD
    // on the `RESOURCES` partition only); the rebalancer runs in every region, one acts;
    // a route that loses its task to another request releases the hold it made (a conditional
    // UpdateItem on its own region's holds; the hold and the journal of the release are PutItems).
    // One statement per partition, each confined to it.
    const router = this.handlers.router.role;
    const poolPartitions = [keys.regionPool(props.regionId).pk, keys.holdPartition(props.regionId)];
    for (const partition of poolPartitions) {
      table.grantItemAccess(router, ['UpdateItem'], { leadingKeys: [partition] });
      // With an MRSC table holding `worker_assignments`, the pools live there (resourcePoolTable).
      if (table.critical && resourcePoolTable(props.topology) === table.critical.tableName) {
        table.critical.grantItemAccess(router, ['UpdateItem'], { leadingKeys: [partition] });
      }
    }
  }

  /** The region endpoints for the concerns that drive failovers. */
  #connectFailoverConcerns(): void {
    // Concerns that drive failovers are built by the same composition root (controlDeps), which
    // reads the endpoints too; they probe nothing, so they get no execute-api or SSM permission.
    for (const concern of CONCERNS) {
      if (CONCERN_ACCESS[concern].failoverWorkflow) this.handlers[concern].useRegionEndpoints(this.endpoints);
    }
  }

  /** The spec's key metrics: a dashboard and alarms at the topology's targets, to the operators' topic. */
  #monitoring(props: RegionalStackProps): void {
    new Monitoring(this, 'Monitoring', {
      name: props.plan.name,
      regionId: props.regionId,
      regionIds: props.plan.regionIds,
      targets: props.topology.monitoring,
      topic: this.events.topic,
      topicKey: this.events.topicKey,
    });
  }

  /** The API's URLs as stack outputs: the API's own, and its regional name under the zone. */
  #outputs(props: RegionalStackProps, regionalDns: DnsPlan | undefined): void {
    new CfnOutput(this, 'ApiUrl', {
      value: this.api.url,
      description: `Cortex API in ${props.regionId}`,
    });
    if (regionalDns) {
      new CfnOutput(this, 'RegionalApiUrl', {
        value: `https://${regionalDns.regions[props.regionId]?.regionalName}`,
        description: `Cortex API in ${props.regionId} under its own name`,
      });
    }
  }

  /**
   * Puts a job's network interfaces in the mesh VPC's subnets with its security group, both read
   * from the mesh stack's SSM parameters when this stack deploys.
   */
  #meshJob(job: BackgroundJob, mesh: RegionalMesh): BackgroundJob {
    const read = (name: string) => ssm.StringParameter.valueForStringParameter(this, name);
    job.handler.runInVpc({
      subnetIds: mesh.subnetParameters.map(read),
      securityGroupIds: [read(mesh.securityGroupParameter)],
    });
    return job;
  }

  /** The health probe's function (a round per invocation, from the minute driver). */
  get probe(): HandlerFunction {
    return this.jobs['health-probe'].handler;
  }

  /** The failover steps: every Task state of the workflow calls this one function. */
  get failover(): HandlerFunction {
    return this.jobs.failover.handler;
  }

  /** Retries unfinished data-subject requests and reports overdue ones, hourly. */
  get privacySweeper(): HandlerFunction {
    return this.jobs['privacy-sweeper'].handler;
  }

  get privacySweeperSchedule(): ProbeSchedule {
    return scheduleOf(this.jobs['privacy-sweeper']);
  }

  /** Audits this region's compliance daily; its reports go to the table (and the bucket, if any). */
  get complianceAudit(): HandlerFunction {
    return this.jobs['compliance-audit'].handler;
  }

  get complianceAuditSchedule(): ProbeSchedule {
    return scheduleOf(this.jobs['compliance-audit']);
  }

  /** Beats this region's replication mark and measures every pair's lag, every 15 s. */
  get replicationMonitor(): HandlerFunction {
    return this.jobs['replication-monitor'].handler;
  }

  get consistencyCheckSchedule(): ProbeSchedule {
    return scheduleOf(this.jobs['replication-monitor']);
  }

  /** Measures the round trip to every other region at the topology's sampling interval. */
  get latencySampler(): HandlerFunction {
    return this.jobs['latency-sampler'].handler;
  }

  get latencySamplerSchedule(): ProbeSchedule {
    return scheduleOf(this.jobs['latency-sampler']);
  }

  /** Moves allocation from idle to overloaded regions every `interval_seconds`. */
  get rebalancer(): HandlerFunction {
    return this.jobs.rebalancer.handler;
  }

  get rebalancerSchedule(): ProbeSchedule {
    return scheduleOf(this.jobs.rebalancer);
  }
}

function scheduleOf(job: BackgroundJob): ProbeSchedule {
  const [schedule] = job.schedules;
  if (!schedule) throw new Error(`${job.name} has no schedule`);
  return schedule;
}

/**
 * The steps run one action per invocation; the longest any may take is its phase's Task timeout.
 * Lambda's own limit is 15 minutes.
 */
function failoverTimeout(topology: Topology): Duration {
  const phases = topology.failover_policies.failover_sequence.map((s) => s.timeout_seconds);
  return Duration.seconds(Math.min(900, Math.max(60, ...phases)));
}

function pascal(name: string): string {
  return name
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}
