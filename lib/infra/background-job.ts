import { join } from 'node:path';
import type { Duration } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { Topology } from '../core/topology/types.ts';
import {
  type BackgroundJobName,
  type FailoverWorkflowRef,
  HandlerFunction,
  type WorkflowAccess,
} from './handler-function.ts';
import { ProbeSchedule } from './probe-schedule.ts';
import type { RegionEndpoints } from './region-endpoints.ts';
import { grantWriteCounter } from './replication-access.ts';
import type { SelectiveAccess, SelectiveReplicas } from './selective-replicas.ts';
import type { TableItemAction } from './state-table.ts';
import type { StateTableAccess } from './state-tables.ts';

/** A schedule of a job: EventBridge Scheduler invokes the function on `expression` with `input`. */
export interface JobSchedule {
  /** Names the schedule construct (`<id>Schedule`, unique in the job). @default 'Schedule' */
  readonly id?: string;
  /** rate(...) or cron(...), a minute or more (EventBridge Scheduler's precision). */
  readonly expression: string;
  readonly input?: Readonly<Record<string, unknown>>;
  /** What the schedule runs, for its role's description ("the Cortex privacy sweeper"). */
  readonly purpose: string;
  /** The schedule's description, for the region ("... in us-east-1: ..."). */
  readonly description: (regionId: string) => string;
}

/**
 * One entry of a region's background job table: what the job's function is sized for, what it may
 * touch and what starts it. Adding a job is one entry (RegionalStack's BACKGROUND_JOB_TABLE).
 */
export interface BackgroundJobSpec {
  /** What one invocation does at worst: never a wait for the next round (the minute driver waits). */
  readonly timeout: Duration;
  /** MiB; see docs/aws.md for why each job has its size. */
  readonly memorySize: number;
  /** @default Active. PassThrough for jobs whose starter samples (the minute driver's X-Ray rule). */
  readonly tracing?: 'active' | 'pass-through';
  /** A fixed name for its log group (HandlerFunctionProps.logGroupName). @default a generated one */
  readonly logGroupName?: string;
  /** Item actions on this region's replica; none: the table is only named (the composition root reads it). */
  readonly table?: readonly TableItemAction[];
  /** Item actions on every other region's replica. */
  readonly remoteTable?: readonly TableItemAction[];
  /** Item actions on this region's replicas of the selective tables. */
  readonly selective?: SelectiveAccess;
  /** Counts its writes on the replication marks (UpdateItem there only: grantWriteCounter). */
  readonly writeCounter?: boolean;
  /** Publishes to the region's bus. */
  readonly events?: boolean;
  /** Names this region's failover state machine and may do `access` on it ([]: names it only). */
  readonly failoverWorkflow?: readonly WorkflowAccess[];
  /**
   * Knows every region's API; `probe`: may also read their SSM URLs and GET the probed paths;
   * `rounds`: probes whole rounds, so may also GET their bundle (lib/core/health/probe-bundle.ts).
   */
  readonly endpoints?: 'know' | 'probe' | 'rounds';
  /** Started by EventBridge Scheduler. */
  readonly schedules?: readonly JobSchedule[];
  /**
   * Runs rounds inside each minute, one per invocation, from the region's MinuteDriver (a queue of
   * delayed rounds); the input is every round's payload besides `minute`.
   */
  readonly minuteRounds?: {
    readonly input?: Readonly<Record<string, unknown>>;
    /** Seconds between rounds (the probe interval, the replication beat). */
    readonly intervalSeconds: number;
    /** Seconds into the minute of the first round (MinuteJob.offsetSeconds). */
    readonly offsetSeconds?: number;
    /** The longest one round runs, when shorter than the function's timeout (MinuteJob.roundSeconds). */
    readonly roundSeconds?: number;
  };
}

/** The region's resources a job may be given. */
export interface JobResources {
  readonly table: StateTableAccess;
  readonly remoteReplicas: readonly StateTableAccess[];
  readonly bus: events.IEventBus;
  readonly selectiveReplicas: SelectiveReplicas;
}

/** Resources made after the jobs that need them (the failover steps exist before the workflow). */
export interface JobConnections {
  readonly failoverWorkflow: FailoverWorkflowRef;
  readonly endpoints: RegionEndpoints;
  /** The regions it probes: every other region. */
  readonly peers: readonly string[];
}

export interface BackgroundJobProps {
  readonly name: BackgroundJobName;
  readonly spec: BackgroundJobSpec;
  readonly projectRoot: string;
  readonly regionId: string;
  readonly topology: Topology;
  readonly resources: JobResources;
}

/**
 * A background job of a region: its function (HandlerFunction, sized by the spec), its table, bus and
 * selective grants, and its schedules; `connect` adds what needs later resources (workflow, region
 * endpoints). Sub-minute jobs are started by the region's MinuteDriver, which the stack builds from
 * every job with `minuteRounds`.
 */
export class BackgroundJob extends Construct {
  readonly name: BackgroundJobName;
  readonly spec: BackgroundJobSpec;
  readonly handler: HandlerFunction;
  /** Its EventBridge Scheduler schedules, in the spec's order. */
  readonly schedules: readonly ProbeSchedule[];
  #connected = false;

  constructor(scope: Construct, id: string, props: BackgroundJobProps) {
    super(scope, id);
    const { spec, resources } = props;
    this.name = props.name;
    this.spec = spec;
    this.handler = new HandlerFunction(this, 'Handler', {
      concern: props.name,
      entry: join(props.projectRoot, 'functions', props.name, 'index.ts'),
      projectRoot: props.projectRoot,
      regionId: props.regionId,
      topology: props.topology,
      timeout: spec.timeout,
      memorySize: spec.memorySize,
      ...(spec.tracing ? { tracing: spec.tracing } : {}),
      ...(spec.logGroupName === undefined ? {} : { logGroupName: spec.logGroupName }),
    });
    if (spec.table) this.handler.useStateTable(resources.table, spec.table);
    else this.handler.nameStateTable(resources.table);
    if (spec.remoteTable) {
      for (const replica of resources.remoteReplicas) replica.grantItemAccess(this.role, spec.remoteTable);
    }
    if (spec.selective) resources.selectiveReplicas.grantItemAccess(this.role, spec.selective);
    if (spec.writeCounter) grantWriteCounter(this.role, resources.table);
    if (spec.events) this.handler.useEventBus(resources.bus);
    this.schedules = (spec.schedules ?? []).map(
      (schedule) =>
        new ProbeSchedule(this, `${schedule.id ?? ''}Schedule`, {
          target: this.function,
          expression: schedule.expression,
          purpose: schedule.purpose,
          description: schedule.description(props.regionId),
          ...(schedule.input ? { input: schedule.input } : {}),
        }),
    );
  }

  get function(): lambda.Function {
    return this.handler.function;
  }

  get role() {
    return this.handler.role;
  }

  /** Grants what the spec asks of the failover workflow and the region endpoints; once. */
  connect(connections: JobConnections): void {
    if (this.#connected) throw new Error(`BackgroundJob ${this.name}: connected twice`);
    this.#connected = true;
    const { spec } = this;
    if (spec.failoverWorkflow)
      this.handler.useFailoverWorkflow(connections.failoverWorkflow, spec.failoverWorkflow);
    if (spec.endpoints === 'probe' || spec.endpoints === 'rounds') {
      this.handler.useRegionEndpoints(connections.endpoints, {
        targets: connections.peers,
        rounds: spec.endpoints === 'rounds',
      });
    } else if (spec.endpoints === 'know') {
      this.handler.useRegionEndpoints(connections.endpoints);
    }
  }
}
