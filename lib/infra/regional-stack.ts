import { join } from 'node:path';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import type { Construct } from 'constructs';
import { API_ROUTES, CONCERNS, type Concern } from '../app/routes.ts';
import type { Topology } from '../core/topology/types.ts';
import { ControlPlaneEvents } from './control-plane-events.ts';
import type { DeploymentPlan } from './deployment-plan.ts';
import type { DnsPlan } from './dns-plan.ts';
import { FailoverWorkflow } from './failover-workflow.ts';
import { type FunctionName, HandlerFunction, type WorkflowAccess } from './handler-function.ts';
import { ProbeSchedule } from './probe-schedule.ts';
import { RegionEndpoints } from './region-endpoints.ts';
import { RegionalApi } from './regional-api.ts';
import { RegionalDns } from './regional-dns.ts';
import { RemoteStateTableReplica, StateTableReplica, type TableItemAction } from './state-table.ts';
import { StateTableKey } from './state-table-key.ts';

/** What a concern's function may do beyond answering its routes. */
export interface ConcernAccess {
  /** Item actions on its region's replica of the state table. */
  readonly table: readonly TableItemAction[];
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
 * is answered in the region that issued it): so on every region's state machine, by exact ARN.
 * A concern missing here fails the synth (see RegionalStack).
 */
export const CONCERN_ACCESS: Readonly<Record<Concern, ConcernAccess>> = {
  router: { table: ['GetItem', 'Query', 'PutItem'] },
  regions: { table: ['GetItem', 'Query'] },
  health: { table: ['GetItem', 'Query'] },
  failovers: {
    table: ['GetItem', 'Query', 'PutItem', 'UpdateItem'],
    events: true,
    failoverWorkflow: { access: ['start', 'answer'], everyRegion: true },
  },
};

/**
 * The background jobs' table access. The probe writes its views, heartbeat, fencing and new failover
 * records; the failover steps update records and statuses here and read the others' replicas (sync
 * check). Neither has any Route 53, IAM or CloudFormation permission (principle 1).
 */
export const JOB_TABLE_ACCESS = {
  probe: ['GetItem', 'PutItem', 'Query'],
  failover: ['GetItem', 'PutItem', 'UpdateItem', 'Query'],
  failoverRemote: ['GetItem', 'Query'],
} as const satisfies Record<string, readonly TableItemAction[]>;

/**
 * EventBridge Scheduler fires once a minute; the probe runs the policy's rounds (30 s or 10 s) inside
 * the minute, so its timeout must outlast the minute, with room for the last round's probes.
 */
export const PROBE_TIMEOUT = Duration.seconds(80);

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
}

/**
 * `CortexRegion-<region_id>`: everything one region runs on its own: its table key, a function per
 * concern behind the HTTP API, the health probe on a schedule, the failover workflow and its task
 * function, the event bus with operator notifications, and (with a zone) its part of Route 53.
 */
export class RegionalStack extends Stack {
  readonly regionId: string;
  readonly tableKey: StateTableKey;
  readonly handlers: Readonly<Record<Concern, HandlerFunction>>;
  readonly api: RegionalApi;
  readonly events: ControlPlaneEvents;
  readonly probe: HandlerFunction;
  readonly probeSchedule: ProbeSchedule;
  readonly failover: HandlerFunction;
  readonly failoverWorkflow: FailoverWorkflow;
  readonly endpoints: RegionEndpoints;
  readonly apiUrlParameter: ssm.StringParameter;
  readonly dns: RegionalDns | undefined;

  constructor(scope: Construct, id: string, props: RegionalStackProps) {
    super(scope, id, props);
    const { plan, topology } = props;
    if (this.region !== props.regionId || !plan.regionIds.includes(props.regionId)) {
      throw new Error(
        `RegionalStack: regionId ${props.regionId} must be a plan region and the stack's env.region (got ${this.region})`,
      );
    }
    const undeclared = CONCERNS.filter((c) => !(c in CONCERN_ACCESS));
    if (undeclared.length > 0) {
      throw new Error(`RegionalStack: no CONCERN_ACCESS entry for concern(s) ${undeclared.join(', ')}`);
    }
    this.regionId = props.regionId;
    const peers = plan.regionIds.filter((r) => r !== props.regionId);
    const fn = (name: FunctionName, timeout?: Duration) =>
      new HandlerFunction(this, `${pascal(name)}Handler`, {
        concern: name,
        entry: join(props.projectRoot, 'functions', name, 'index.ts'),
        projectRoot: props.projectRoot,
        regionId: props.regionId,
        topology,
        ...(timeout ? { timeout } : {}),
      });

    this.tableKey = new StateTableKey(this, 'StateTableKey', { aliasName: plan.tableKeyAlias });
    const table = new StateTableReplica(this, 'StateTable', {
      tableName: plan.tableName,
      key: this.tableKey.key,
    });
    const remoteReplicas = peers.map(
      (regionId) =>
        new RemoteStateTableReplica(this, `StateTable-${regionId}`, {
          tableName: plan.tableName,
          regionId,
          tableKeyAlias: plan.tableKeyAlias,
        }),
    );
    this.events = new ControlPlaneEvents(this, 'Events', { eventBusName: plan.eventBusName });

    // The failover steps: every Task state of the workflow calls this one function.
    this.failover = fn('failover', failoverTimeout(topology));
    this.failover.useStateTable(table, JOB_TABLE_ACCESS.failover);
    for (const replica of remoteReplicas)
      replica.grantItemAccess(this.failover.role, JOB_TABLE_ACCESS.failoverRemote);
    this.failover.useEventBus(this.events.bus);
    this.failoverWorkflow = new FailoverWorkflow(this, 'FailoverWorkflow', {
      stateMachineName: plan.failoverStateMachineName,
      topology,
      taskFunction: this.failover.function,
    });
    // The shared composition root reads the ARN; the steps never start or answer a workflow.
    this.failover.useFailoverWorkflow(this.failoverWorkflow, []);

    const handlers = {} as Record<Concern, HandlerFunction>;
    for (const concern of CONCERNS) {
      const handler = fn(concern);
      const access = CONCERN_ACCESS[concern];
      handler.useStateTable(table, access.table);
      if (access.events) handler.useEventBus(this.events.bus);
      if (access.failoverWorkflow) {
        const { access: actions, everyRegion } = access.failoverWorkflow;
        handler.useFailoverWorkflow(this.failoverWorkflow, actions, everyRegion ? plan.regionIds : undefined);
      }
      handlers[concern] = handler;
    }
    this.handlers = handlers;

    this.api = new RegionalApi(this, 'Api', {
      apiName: `${plan.name}-${props.regionId}`,
      routes: API_ROUTES,
      handlers: Object.fromEntries(CONCERNS.map((c) => [c, handlers[c].function])),
    });
    // Peers without a domain find this API here (RegionEndpoints); operators too.
    this.apiUrlParameter = new ssm.StringParameter(this, 'ApiUrlParameter', {
      parameterName: `${plan.apiUrlParameterPrefix}${props.regionId}`,
      stringValue: this.api.api.apiEndpoint,
      description: `Base URL of the Cortex API in ${props.regionId}`,
    });

    const regionalDns = props.dns?.hostedZoneId !== undefined ? props.dns : undefined;
    this.endpoints = new RegionEndpoints(this, 'RegionEndpoints', {
      regionIds: plan.regionIds,
      parameterPrefix: plan.apiUrlParameterPrefix,
      ...(regionalDns ? { domain: regionalDns.domain } : {}),
      ownApi: { regionId: props.regionId, url: this.api.api.apiEndpoint },
      probedPaths: topology.failover_policies.health_check.endpoints,
    });

    this.probe = fn('health-probe', PROBE_TIMEOUT);
    this.probe.useStateTable(table, JOB_TABLE_ACCESS.probe);
    this.probe.useEventBus(this.events.bus);
    // A probe starts a failover only as its coordinator: in its own region (principle 2).
    this.probe.useFailoverWorkflow(this.failoverWorkflow, ['start']);
    this.probe.useRegionEndpoints(this.endpoints, { targets: peers });
    this.probeSchedule = new ProbeSchedule(this, 'ProbeSchedule', {
      target: this.probe.function,
      description: `Cortex health probe in ${props.regionId}: rounds inside each minute`,
    });
    // The steps verify the target's health through its API, like the probe.
    this.failover.useRegionEndpoints(this.endpoints, { targets: peers });
    // Concerns that drive failovers are built by the same composition root (controlDeps), which
    // reads the endpoints too; they probe nothing, so they get no execute-api or SSM permission.
    for (const concern of CONCERNS) {
      if (CONCERN_ACCESS[concern].failoverWorkflow) handlers[concern].useRegionEndpoints(this.endpoints);
    }

    this.dns = regionalDns
      ? new RegionalDns(this, 'Dns', {
          plan: regionalDns,
          regionId: props.regionId,
          api: this.api.api,
          stage: this.api.stage,
        })
      : undefined;

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
