import { join } from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Runbook } from '../app/dr/actions.ts';
import {
  RUNBOOK_MACHINE_NAMES,
  RUNBOOKS,
  runbookArnParameter,
  runbookDefinitionText,
} from '../app/dr/definition.ts';
import type { Topology } from '../core/topology/types.ts';
import { type FailoverWorkflowRef, HandlerFunction } from './handler-function.ts';
import type { RegionEndpoints } from './region-endpoints.ts';
import { REPLICATION_ACCESS } from './replication-access.ts';
import type { TableItemAction } from './state-table.ts';
import type { StateTableAccess } from './state-tables.ts';

/**
 * What the DR task function may do, action by action (lib/app/dr/actions.ts):
 * - here: read statuses, views, heartbeats, handoffs, failover records and the MCP registry
 *   (GetItem, Query); start a failover through the start use case (its conditional PutItem) and
 *   fail back a region the majority failed over meanwhile (UpdateItem, also the write counter);
 * - in every other replica: read the target's handoffs and the failover's canary (GetItem, Query);
 * - start the failover workflow in the failover's coordinator region (any region: deterministic ARNs);
 * - GET the probed paths of every region's API, its own included (the target may be this region);
 * - publish the runbooks' `dr.*` events on this region's bus;
 * - the reconciliation's consistency check with reconcile, as the replication API runs it on request
 *   (REPLICATION_ACCESS.api): it samples this replica (Scan), reads every replica's copies
 *   (BatchGetItem) and repairs a stale copy where it lies (PutItem, UpdateItem, DeleteItem).
 * It never answers an approval.
 */
export const DR_TASK_ACCESS: Readonly<Record<'table' | 'remoteTable', readonly TableItemAction[]>> = {
  table: union(['GetItem', 'Query', 'PutItem', 'UpdateItem'], REPLICATION_ACCESS.api.own),
  remoteTable: union(['GetItem', 'Query'], REPLICATION_ACCESS.api.remote),
};

function union(a: readonly TableItemAction[], b: readonly TableItemAction[]): readonly TableItemAction[] {
  return [...new Set([...a, ...b])];
}

/** One step may probe a few endpoints at the policy's 10 s timeout each: the ASL's Task timeout. */
export const DR_TASK_TIMEOUT = Duration.seconds(60);

export interface DrTaskProps {
  /** Absolute project root (`functions/dr/index.ts` is the handler). */
  readonly projectRoot: string;
  readonly regionId: string;
  /** Every topology region, in topology order. */
  readonly regionIds: readonly string[];
  readonly topology: Topology;
  readonly table: StateTableAccess;
  readonly remoteReplicas: readonly StateTableAccess[];
  readonly bus: events.IEventBus;
  readonly failoverWorkflow: FailoverWorkflowRef;
  readonly endpoints: RegionEndpoints;
}

/** The DR runbooks' task function (functions/dr) of a region, with exactly DR_TASK_ACCESS. */
export class DrTask extends Construct {
  readonly handler: HandlerFunction;

  constructor(scope: Construct, id: string, props: DrTaskProps) {
    super(scope, id);
    this.handler = new HandlerFunction(this, 'Handler', {
      concern: 'dr',
      entry: join(props.projectRoot, 'functions', 'dr', 'index.ts'),
      projectRoot: props.projectRoot,
      regionId: props.regionId,
      topology: props.topology,
      timeout: DR_TASK_TIMEOUT,
      // It probes regions and drives the failover: the failover steps' size (CPU shows in probes).
      memorySize: 256,
    });
    this.handler.useStateTable(props.table, DR_TASK_ACCESS.table);
    for (const replica of props.remoteReplicas)
      replica.grantItemAccess(this.handler.role, DR_TASK_ACCESS.remoteTable);
    this.handler.useEventBus(props.bus);
    this.handler.useFailoverWorkflow(props.failoverWorkflow, ['start'], props.regionIds);
    this.handler.useRegionEndpoints(props.endpoints, { targets: props.regionIds });
  }

  get function(): lambda.IFunction {
    return this.handler.function;
  }
}

export interface DrWorkflowsProps {
  /** Prefix of the state machines' names (`<prefix>-regional-dr`, `<prefix>-network-partition`). */
  readonly namePrefix: string;
  /** The DR task function (functions/dr) every Task state of both definitions calls. */
  readonly taskFunction: lambda.IFunction;
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A region's DR runbooks: two Standard state machines from statemachines/regional-dr.asl.json and
 * network-partition.asl.json, passed as strings with `${DrFunctionArn}` substituted so the
 * template shows the ASL. One role for both: it may invoke the DR function only (the regional
 * runbook starts and awaits the failover through the DR function, not as a nested execution, so it
 * needs no states: or events: permission of its own); everything is logged with execution data and
 * traced. Each state machine's ARN is published as a stack output and in the SSM parameter
 * `/<prefix>/runbooks/<runbook>` of its region, where `cortex dr run` reads it.
 */
export class DrWorkflows extends Construct {
  readonly stateMachines: Readonly<Record<Runbook, sfn.StateMachine>>;
  readonly role: iam.Role;
  readonly logGroups: Readonly<Record<Runbook, logs.LogGroup>>;
  readonly arnParameters: Readonly<Record<Runbook, ssm.StringParameter>>;

  constructor(scope: Construct, id: string, props: DrWorkflowsProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9_-]{1,60}$/.test(props.namePrefix)) {
      throw new Error(`DrWorkflows: invalid name prefix ${JSON.stringify(props.namePrefix)}`);
    }
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: `Cortex DR runbooks ${props.namePrefix}: invoke the DR function only`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [props.taskFunction.functionArn],
      }),
    );
    const machines = {} as Record<Runbook, sfn.StateMachine>;
    const groups = {} as Record<Runbook, logs.LogGroup>;
    const parameters = {} as Record<Runbook, ssm.StringParameter>;
    for (const runbook of RUNBOOKS) {
      const name = `${props.namePrefix}-${RUNBOOK_MACHINE_NAMES[runbook]}`;
      const suffix = runbook === 'regional_failure' ? 'RegionalDr' : 'NetworkPartition';
      groups[runbook] = new logs.LogGroup(this, `${suffix}Logs`, {
        // The /aws/vendedlogs/ prefix keeps CloudWatch Logs' resource policy from growing per group.
        logGroupName: `/aws/vendedlogs/states/${name}`,
        retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      machines[runbook] = new sfn.StateMachine(this, suffix, {
        stateMachineName: name,
        stateMachineType: sfn.StateMachineType.STANDARD,
        definitionBody: sfn.DefinitionBody.fromString(runbookDefinitionText(runbook)),
        definitionSubstitutions: { DrFunctionArn: props.taskFunction.functionArn },
        role: this.role,
        logs: { destination: groups[runbook], level: sfn.LogLevel.ALL, includeExecutionData: true },
        tracingEnabled: true,
      });
      parameters[runbook] = new ssm.StringParameter(this, `${suffix}Arn`, {
        parameterName: runbookArnParameter(props.namePrefix, runbook),
        stringValue: machines[runbook].stateMachineArn,
        description: `ARN of the Cortex ${runbook} runbook in this region (cortex dr run)`,
      });
      new CfnOutput(this, `${suffix}StateMachineArn`, {
        value: machines[runbook].stateMachineArn,
        description: `The ${runbook} runbook: start it with { "run": { ... } } (docs/dr.md)`,
      });
    }
    this.stateMachines = machines;
    this.logGroups = groups;
    this.arnParameters = parameters;
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Added by logging and tracing: CloudWatch Logs delivery and X-Ray support no resource-level permissions.',
    });
  }
}
