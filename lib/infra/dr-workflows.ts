import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { Runbook } from '../app/dr/actions.ts';
import { RUNBOOK_MACHINE_NAMES, runbookDefinitionText } from '../app/dr/definition.ts';

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
 * template shows the ASL. Run from the Step Functions console with `{ "run": { ... } }` (docs/dr.md).
 * One role for both: it may invoke the DR function only; everything is logged with execution data
 * and traced.
 */
export class DrWorkflows extends Construct {
  readonly stateMachines: Readonly<Record<Runbook, sfn.StateMachine>>;
  readonly role: iam.Role;
  readonly logGroups: Readonly<Record<Runbook, logs.LogGroup>>;

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
    for (const runbook of ['regional_failure', 'network_partition'] as const) {
      const name = `${props.namePrefix}-${RUNBOOK_MACHINE_NAMES[runbook]}`;
      const suffix = runbook === 'regional_failure' ? 'RegionalDr' : 'NetworkPartition';
      groups[runbook] = new logs.LogGroup(this, `${suffix}Logs`, {
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
    }
    this.stateMachines = machines;
    this.logGroups = groups;
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Added by logging and tracing: CloudWatch Logs delivery and X-Ray support no resource-level permissions.',
    });
  }
}
