import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface ProbeScheduleProps {
  /**
   * The function invoked (unqualified: always $LATEST), or the state machine whose execution starts
   * (a region's MinuteDriver, whose jobs run their rounds inside the minute).
   */
  readonly target: lambda.IFunction | sfn.IStateMachine;
  /**
   * EventBridge Scheduler fires at most once a minute: shorter intervals are rounds inside the
   * minute (a MinuteDriver), not a shorter rate. @default 'rate(1 minute)'
   */
  readonly expression?: string;
  readonly description?: string;
  /** What the schedule runs, for its role's description. @default 'the Cortex health probe' */
  readonly purpose?: string;
  /** The invocation's input. @default {} */
  readonly input?: Readonly<Record<string, unknown>>;
  /**
   * Fire on the dot of the rate (the health probe: its rounds keep the policy's interval). Otherwise
   * EventBridge Scheduler spreads each invocation over a flexible window (flexibleWindowMinutes), so
   * a region's jobs do not all start in the same second and press on the account's concurrency.
   * @default false
   */
  readonly exact?: boolean;
}

/** Seconds an asynchronous invocation of a scheduled function may wait: the next run supersedes it. */
export const SCHEDULED_EVENT_AGE_SECONDS = 60;

/**
 * The flexible window for a rate: one minute for a per-minute job, half the period up to an hour for
 * longer ones (an hourly job within 30 minutes, a daily one within the hour).
 */
export function flexibleWindowMinutes(expression: string): number {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (!rate) return 1;
  const minutes =
    Number(rate[1]) * (rate[2]?.startsWith('minute') ? 1 : rate[2]?.startsWith('hour') ? 60 : 1440);
  return Math.max(1, Math.min(60, Math.floor(minutes / 2)));
}

/** A role only EventBridge Scheduler's schedules of this account's default group may assume. */
export function schedulerRole(scope: Construct, id: string, description: string): iam.Role {
  const stack = Stack.of(scope);
  return new iam.Role(scope, id, {
    description,
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
}

/** Functions whose asynchronous invocations are configured already (one EventInvokeConfig each). */
const configured = new WeakSet<lambda.IFunction>();

/**
 * EventBridge Scheduler invoking one function (or starting one state machine) on a rate, with a role
 * that may only do that.
 *
 * The L1 schedule, not the L2 `LambdaInvoke` target: the latter grants `lambda:InvokeFunction` on
 * `<arn>` and `<arn>:*` (every version and alias); the schedule calls the unqualified ARN only.
 * No retries, at either end: a run that failed is superseded by the next one. The schedule does not
 * retry, and the function's asynchronous invocations are not retried by Lambda either (an
 * EventInvokeConfig with zero retries and a short event age; Lambda's default is two retries over up
 * to six hours, which would let runs pile up and overlap).
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
    this.role = schedulerRole(
      this,
      'Role',
      `EventBridge Scheduler: invokes ${props.purpose ?? 'the Cortex health probe'}, nothing else`,
    );
    const target = props.target;
    const targetArn = 'stateMachineArn' in target ? target.stateMachineArn : target.functionArn;
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['stateMachineArn' in target ? 'states:StartExecution' : 'lambda:InvokeFunction'],
        resources: [targetArn],
      }),
    );
    if (!('stateMachineArn' in target) && !configured.has(target)) {
      configured.add(target);
      target.configureAsyncInvoke({
        retryAttempts: 0,
        maxEventAge: Duration.seconds(SCHEDULED_EVENT_AGE_SECONDS),
      });
    }
    this.schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      description: props.description ?? 'Cortex health probe',
      scheduleExpression: expression,
      flexibleTimeWindow: props.exact
        ? { mode: 'OFF' }
        : { mode: 'FLEXIBLE', maximumWindowInMinutes: flexibleWindowMinutes(expression) },
      state: 'ENABLED',
      target: {
        arn: targetArn,
        roleArn: this.role.roleArn,
        input: JSON.stringify(props.input ?? {}),
        retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 },
      },
    });
    // The role's policy must exist before the first invocation.
    this.schedule.node.addDependency(this.role);
  }
}
