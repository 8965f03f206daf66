import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';

export interface ProbeScheduleProps {
  /** The function invoked (unqualified: always $LATEST). */
  readonly target: lambda.IFunction;
  /**
   * EventBridge Scheduler fires at most once a minute: shorter probe intervals are rounds inside
   * one invocation (functions/health-probe), not a shorter rate. @default 'rate(1 minute)'
   */
  readonly expression?: string;
  readonly description?: string;
  /** What the schedule runs, for its role's description. @default 'the Cortex health probe' */
  readonly purpose?: string;
  /** The invocation's input. @default {} */
  readonly input?: Readonly<Record<string, unknown>>;
}

/**
 * EventBridge Scheduler invoking one function on a rate, with a role that may only invoke it.
 *
 * The L1 schedule, not the L2 `LambdaInvoke` target: the latter grants `lambda:InvokeFunction` on
 * `<arn>` and `<arn>:*` (every version and alias); the schedule calls the unqualified ARN only.
 * No retries: a probe run that failed is superseded by the next minute's.
 */
export class ProbeSchedule extends Construct {
  readonly schedule: scheduler.CfnSchedule;
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: ProbeScheduleProps) {
    super(scope, id);
    const expression = props.expression ?? 'rate(1 minute)';
    if (!/^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$/.test(expression)) {
      throw new Error(`ProbeSchedule: expression must be rate(...) or cron(...), got ${expression}`);
    }
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      description: `EventBridge Scheduler: invokes ${props.purpose ?? 'the Cortex health probe'}, nothing else`,
      // Confused-deputy guard: only schedules of this account's default group may assume it.
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': stack.formatArn({
              service: 'scheduler',
              resource: 'schedule-group',
              resourceName: 'default',
            }),
          },
        },
      }),
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.target.functionArn] }),
    );
    this.schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      description: props.description ?? 'Cortex health probe',
      scheduleExpression: expression,
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: props.target.functionArn,
        roleArn: this.role.roleArn,
        input: JSON.stringify(props.input ?? {}),
        retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 },
      },
    });
    // The role's policy must exist before the first invocation.
    this.schedule.node.addDependency(this.role);
  }
}
