import { ArnFormat, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { failoverDefinitionText, failoverSubstitutions } from '../app/failover/definition.ts';
import type { Topology } from '../core/topology/types.ts';
import type { FailoverWorkflowRef } from './handler-function.ts';
import { acknowledgeWildcardResources } from './nag.ts';

export interface FailoverWorkflowProps {
  /** Deterministic (`<name>-failover`), so every function of the region can name its ARN. */
  readonly stateMachineName: string;
  /**
   * The topology whose phase timeouts and loop bounds fill the definition's substitutions, and whose
   * failover budget sets the execution's TimeoutSeconds.
   */
  readonly topology: Topology;
  /** The function every Task state calls (functions/failover). */
  readonly taskFunction: lambda.IFunction;
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
}

/** A syntactically valid ARN the substitutions are computed with, then swapped for the real one. */
const PLACEHOLDER_FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:cortex-placeholder';

/**
 * A region's failover workflow: a Standard state machine (exactly once, `.waitForTaskToken` for the
 * approval step) from statemachines/failover.asl.json, passed as a string with substitutions so the
 * template shows the ASL and tests can compare it. The execution's TimeoutSeconds is in that text
 * (`timeout` of StateMachineProps applies only to definitions CDK builds, not to a string). Logs everything (with execution data) to its own
 * log group, traces with X-Ray, and its role may invoke only the failover function.
 */
export class FailoverWorkflow extends Construct implements FailoverWorkflowRef {
  /** The ARN of a region's workflow, from its name alone (no reference: functions and the task itself). */
  static arnIn(scope: Construct, stateMachineName: string): string {
    return Stack.of(scope).formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }

  readonly stateMachine: sfn.StateMachine;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** Deterministic ARN, equal to the state machine's (see arnIn). */
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  /** The definition text as deployed (before substitution), with the execution's TimeoutSeconds. */
  readonly definition: string;
  /** The substitutions as deployed (the function ARN is a CloudFormation reference). */
  readonly substitutions: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: FailoverWorkflowProps) {
    super(scope, id);
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(props.stateMachineName)) {
      throw new Error(
        `FailoverWorkflow: invalid state machine name ${JSON.stringify(props.stateMachineName)}`,
      );
    }
    this.definition = failoverDefinitionText(props.topology);
    // failoverSubstitutions validates a literal ARN; the real one is a token until deploy.
    this.substitutions = Object.fromEntries(
      Object.entries(failoverSubstitutions(props.topology, PLACEHOLDER_FUNCTION_ARN)).map(([name, value]) => [
        name,
        value === PLACEHOLDER_FUNCTION_ARN ? props.taskFunction.functionArn : value,
      ]),
    );

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      // The /aws/vendedlogs/ prefix keeps CloudWatch Logs' resource policy from growing per group.
      logGroupName: `/aws/vendedlogs/states/${props.stateMachineName}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: `Cortex failover workflow ${props.stateMachineName}: invokes the failover function only`,
    });
    // The ASL calls the unqualified ARN (Task Resource and lambda:invoke FunctionName): nothing else.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [props.taskFunction.functionArn],
      }),
    );

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(this.definition),
      definitionSubstitutions: { ...this.substitutions },
      role: this.role,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      tracingEnabled: true,
    });
    this.stateMachineName = props.stateMachineName;
    this.stateMachineArn = FailoverWorkflow.arnIn(this, props.stateMachineName);

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Added by logging and tracing: CloudWatch Logs delivery (logs:CreateLogDelivery, PutResourcePolicy, ...) and X-Ray (PutTraceSegments, ...) support no resource-level permissions.',
    });
  }

  /**
   * states:StartExecution on this state machine, or on the same-named one in each of `regionIds`
   * (deterministic ARNs, no wildcard) for a caller that starts a failover in its coordinator's region.
   */
  grantStartExecution(grantee: iam.IGrantable, regionIds?: readonly string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: this.#arns(regionIds) }),
    );
    // A start whose name is taken asks whether that execution still runs (a closed one is started
    // again under the next name: lib/adapters/aws/step-functions.ts). Only this state machine's
    // executions; their names are failover ids, not known at deploy time.
    const executions = this.#arns(regionIds, 'execution');
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['states:DescribeExecution'], resources: executions }),
    );
    if (grantee instanceof Construct) {
      acknowledgeWildcardResources(
        grantee,
        executions,
        'DescribeExecution on the executions of the failover state machine only: their names are failover ids, made at run time.',
      );
    }
  }

  /**
   * Answers the approval step (`.waitForTaskToken`): SendTaskSuccess and SendTaskFailure, no
   * heartbeat; in `regionIds` too, since a token is answered in the region whose execution issued it.
   */
  grantTaskResponse(grantee: iam.IGrantable, regionIds?: readonly string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
        resources: this.#arns(regionIds),
      }),
    );
  }

  /** The state machine's ARN (or, with `execution`, its executions'), here or in each of `regionIds`. */
  #arns(
    regionIds: readonly string[] | undefined,
    of: 'stateMachine' | 'execution' = 'stateMachine',
  ): string[] {
    const stack = Stack.of(this);
    const arnIn = (region: string | undefined) =>
      stack.formatArn({
        service: 'states',
        ...(region === undefined ? {} : { region }),
        resource: of,
        resourceName: of === 'execution' ? `${this.stateMachineName}:*` : this.stateMachineName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    if (regionIds === undefined) return [of === 'stateMachine' ? this.stateMachineArn : arnIn(undefined)];
    return regionIds.map(arnIn);
  }
}
