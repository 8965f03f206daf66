import { createHash } from 'node:crypto';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as xray from 'aws-cdk-lib/aws-xray';
import { Construct } from 'constructs';

/** A job the Express driver runs round by round each minute. */
export interface ExpressMinuteJob {
  /** Names the job's states (`<id>Round`, ...): letters and digits. */
  readonly id: string;
  /** The function invoked for each round (unqualified: always $LATEST). */
  readonly target: lambda.IFunction;
  /** Fields of every round's payload besides `minute`. @default {} */
  readonly input?: Readonly<Record<string, unknown>>;
}

export interface ExpressMinuteDriverProps {
  /** The Express state machine's name, unique in the region (a deterministic ARN). */
  readonly stateMachineName: string;
  /** At least one. */
  readonly jobs: readonly ExpressMinuteJob[];
  /** @default one month */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * How long a minute's rounds may run: no round starts that would not end within it (the rounds'
 * `stopped_early`). Past the minute, as the one-invocation minute was (its Lambda timeout was 80 s),
 * so the 10 s policy's sixth round still runs when the first five were slow.
 */
export const MINUTE_BUDGET_SECONDS = 75;

/** The execution's own limit: the budget plus the longest round (a probe round's timeout). */
const MINUTE_DRIVER_TIMEOUT_SECONDS = 90;

/**
 * Share of the driver's executions X-Ray traces: its rounds' functions trace only what it sampled
 * (their tracing is PassThrough). About one minute in fifty.
 */
const MINUTE_TRACE_RATE = 0.02;

/** Lambda's transient errors: one quick retry, then the minute's next round or the next minute. */
const TRANSIENT_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/**
 * The ASL of the minute: one Parallel branch per job, each invoking its function once per round and
 * waiting (Wait, TimestampPath) until the time the round's answer names for the next; the function
 * decides how many rounds and when (lib/app/minute-rounds.ts), the state machine only keeps time.
 * A branch whose round fails ends its own minute; the others run on, and the execution fails at the
 * end so the failure is seen. JSONPath, so the local interpreter (aws-local-stepfunctions) runs it.
 */
export function minuteDefinition(
  jobs: readonly { readonly id: string; readonly input?: object }[],
  budgetSeconds = MINUTE_BUDGET_SECONDS,
): Record<string, unknown> {
  const branches = jobs.map((job) => ({
    StartAt: `${job.id}First`,
    States: {
      [`${job.id}First`]: {
        Type: 'Pass',
        Result: { started: 0 },
        ResultPath: '$.cursor',
        Next: `${job.id}Round`,
      },
      [`${job.id}Round`]: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: {
          FunctionName: `\${${functionSubstitution(job.id)}}`,
          Payload: {
            ...(job.input ?? {}),
            minute: {
              'started_at.$': '$$.Execution.StartTime',
              budget_ms: budgetSeconds * 1000,
              'cursor.$': '$.cursor',
            },
          },
        },
        ResultSelector: {
          'cursor.$': '$.Payload.minute.cursor',
          'more.$': '$.Payload.minute.more',
          'next_at.$': '$.Payload.minute.next_at',
        },
        Retry: [{ ErrorEquals: TRANSIENT_ERRORS, IntervalSeconds: 1, MaxAttempts: 1, BackoffRate: 2 }],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: `${job.id}Failed` }],
        Next: `${job.id}More`,
      },
      [`${job.id}More`]: {
        Type: 'Choice',
        Choices: [{ Variable: '$.more', BooleanEquals: true, Next: `${job.id}Wait` }],
        Default: `${job.id}Done`,
      },
      [`${job.id}Wait`]: { Type: 'Wait', TimestampPath: '$.next_at', Next: `${job.id}Round` },
      [`${job.id}Done`]: { Type: 'Succeed' },
      [`${job.id}Failed`]: { Type: 'Pass', End: true },
    },
  }));
  return {
    QueryLanguage: 'JSONPath',
    Comment:
      'One minute of rounds per execution, started each minute by EventBridge Scheduler: the functions run one round per invocation and name the next round’s time; the waits are here, not in Lambda.',
    StartAt: 'Jobs',
    TimeoutSeconds: MINUTE_DRIVER_TIMEOUT_SECONDS,
    States: {
      Jobs: { Type: 'Parallel', Branches: branches, Next: 'AnyFailed' },
      AnyFailed: {
        Type: 'Choice',
        Choices: jobs.map((_job, i) => ({ Variable: `$[${i}].error`, IsPresent: true, Next: 'Failed' })),
        Default: 'Done',
      },
      Failed: {
        Type: 'Fail',
        Error: 'RoundFailed',
        Cause: 'A round failed and ended its job’s minute: see the job function’s log.',
      },
      Done: { Type: 'Succeed' },
    },
  };
}

/** The definition substitution that holds a job's function ARN. */
function functionSubstitution(jobId: string): string {
  return `${jobId}_function_arn`;
}

/**
 * Sub-minute jobs whose round may outlast their interval (a 10 s probe policy: a round waits up to
 * the policy's timeout on an unreachable target, then writes) on one Express state machine, started
 * each minute by a schedule (ProbeSchedule with `stateMachine`): the next round starts when it is
 * due or when the last one ended, whichever is later, so two rounds of a job never overlap. The
 * MinuteDriver uses it only for such jobs; rounds that always end within their interval come from a
 * queue instead, at a fraction of the price. EventBridge Scheduler fires at most once a minute; the waits between rounds are
 * Wait states billed as Express duration (64 MB), not Lambda duration: each function runs one round
 * per invocation and is sized for one round. One execution for every job: Express bills an
 * execution's duration once, however many branches run in it.
 */
export class ExpressMinuteDriver extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly stateMachineName: string;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  /** The X-Ray rule that samples the driver's executions (and so its rounds). */
  readonly samplingRule: xray.CfnSamplingRule;
  /** The ASL as deployed; the functions' ARNs are definition substitutions (functionSubstitution). */
  readonly definition: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: ExpressMinuteDriverProps) {
    super(scope, id);
    const problems: string[] = [];
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(props.stateMachineName)) {
      problems.push(
        `stateMachineName must be 1-80 letters, digits, '-' or '_', got ${JSON.stringify(props.stateMachineName)}`,
      );
    }
    if (props.jobs.length === 0) problems.push('at least one job');
    const ids = props.jobs.map((j) => j.id);
    for (const jobId of ids) {
      if (!/^[A-Za-z][A-Za-z0-9]{0,40}$/.test(jobId))
        problems.push(`job id must be letters and digits, got ${jobId}`);
    }
    if (new Set(ids).size !== ids.length) problems.push(`job ids must be unique, got ${ids.join(', ')}`);
    if (problems.length > 0) throw new Error(`ExpressMinuteDriver: ${problems.join('; ')}`);
    this.stateMachineName = props.stateMachineName;

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/vendedlogs/states/${props.stateMachineName}`,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: `Cortex minute driver ${props.stateMachineName}: invokes its jobs' functions only`,
    });
    // The ASL invokes the unqualified ARNs (lambda:invoke FunctionName): nothing else.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: props.jobs.map((j) => j.target.functionArn),
      }),
    );
    this.definition = minuteDefinition(
      props.jobs.map((j) => ({ id: j.id, ...(j.input ? { input: j.input } : {}) })),
    );
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: sfn.StateMachineType.EXPRESS,
      definitionBody: sfn.DefinitionBody.fromString(JSON.stringify(this.definition)),
      definitionSubstitutions: Object.fromEntries(
        props.jobs.map((j) => [functionSubstitution(j.id), j.target.functionArn]),
      ),
      role: this.role,
      timeout: Duration.seconds(MINUTE_DRIVER_TIMEOUT_SECONDS),
      // Errors only: ALL would log about ten events a minute per region for rounds whose functions
      // each log one structured line already.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ERROR, includeExecutionData: false },
      tracingEnabled: true,
    });
    this.samplingRule = new xray.CfnSamplingRule(this, 'Sampling', {
      samplingRule: {
        ruleName: samplingRuleName(props.stateMachineName),
        // Before the account's default rule (priority 10000: the first request each second, which
        // at one execution a minute is every one of them).
        priority: 100,
        fixedRate: MINUTE_TRACE_RATE,
        reservoirSize: 0,
        serviceName: props.stateMachineName,
        serviceType: '*',
        host: '*',
        httpMethod: '*',
        urlPath: '*',
        resourceArn: '*',
        version: 1,
      },
    });

    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Added by logging and tracing: CloudWatch Logs delivery (logs:CreateLogDelivery, PutResourcePolicy, ...) and X-Ray (PutTraceSegments, ...) support no resource-level permissions.',
    });
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-SF1',
      reason:
        'Errors only, for cost: ALL would log every state of every round each minute in every region; each round logs one structured line in its function’s log group, and a failed round fails the execution (logged).',
    });
  }
}

/** X-Ray rule names are at most 32 characters (unique per region and account): a longer name is cut and hashed. */
function samplingRuleName(stateMachineName: string): string {
  if (stateMachineName.length <= 32) return stateMachineName;
  const hash = createHash('sha256').update(stateMachineName).digest('hex').slice(0, 8);
  return `${stateMachineName.slice(0, 23)}-${hash}`;
}
