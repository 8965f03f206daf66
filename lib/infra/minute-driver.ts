import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ExpressMinuteDriver, MINUTE_BUDGET_SECONDS } from './express-minute-driver.ts';
import { ProbeSchedule, schedulerRole } from './probe-schedule.ts';

export { MINUTE_BUDGET_SECONDS };

/** A job the driver runs round by round each minute. */
export interface MinuteJob {
  /** Names the job's queues and schedule (`<id>Rounds`, ...): letters and digits. */
  readonly id: string;
  /** The function each round invokes: one round per invocation, its timeout one round. */
  readonly target: lambda.Function;
  /** Seconds between the job's rounds (the probe interval, the replication beat): whole, under a minute. */
  readonly intervalSeconds: number;
  /**
   * Seconds after the minute's start of the job's first round, so two jobs' rounds do not all start
   * in the same second. @default 0
   */
  readonly offsetSeconds?: number;
  /** Fields of every round's payload besides `minute`. @default {} */
  readonly input?: Readonly<Record<string, unknown>>;
  /**
   * The longest one round runs, under the interval so rounds never overlap. @default the function's
   * timeout (a function that also does longer work, as the monitor's hourly check, says its round's)
   */
  readonly roundSeconds?: number;
}

export interface MinuteDriverProps {
  /** At least one. */
  readonly jobs: readonly MinuteJob[];
  /**
   * The Express state machine's name (unique in the region) for jobs whose round may outlast their
   * interval; none is made when every job's rounds end within it.
   */
  readonly stateMachineName: string;
  /** For the schedules' descriptions (`Cortex minute rounds in us-east-1: ...`). */
  readonly description: string;
}

/**
 * EventBridge Scheduler's universal target for SQS SendMessageBatch: one call a minute puts every
 * round of the minute, each entry with its own delivery delay.
 */
export const SEND_MESSAGE_BATCH_ARN = 'arn:aws:scheduler:::aws-sdk:sqs:sendMessageBatch';

/** Scheduler's keyword for the time the schedule fired (replaced in the target's input). */
export const SCHEDULED_TIME = '<aws.scheduler.scheduled-time>';

/** SendMessageBatch takes at most ten entries: ten rounds a minute, a 6 s interval. */
const MAX_ROUNDS = 10;

/**
 * A round not delivered before the job's next one is due is dropped (SQS's shortest retention is
 * 60 s, which the last round of a minute still reaches within a few seconds).
 */
export const ROUND_RETENTION = Duration.seconds(60);

/** One round's message: SendMessageBatch's entry. */
export interface RoundEntry {
  readonly Id: string;
  readonly MessageBody: string;
  readonly DelaySeconds: number;
}

/**
 * The minute's rounds of a job as SendMessageBatch entries: round k is delayed offset + k x
 * interval seconds, and its body is the payload a round takes (functions/shared/minute-input.ts):
 * when the minute started (the schedule's own time), its budget and where the minute stands.
 */
export function minuteRoundEntries(
  job: Pick<MinuteJob, 'intervalSeconds' | 'offsetSeconds' | 'input'>,
): RoundEntry[] {
  const offset = job.offsetSeconds ?? 0;
  const rounds = Math.max(1, Math.floor(60 / job.intervalSeconds));
  return Array.from({ length: rounds }, (_, k) => ({
    Id: `round${k}`,
    MessageBody: JSON.stringify({
      ...(job.input ?? {}),
      minute: { started_at: SCHEDULED_TIME, budget_ms: MINUTE_BUDGET_SECONDS * 1000, cursor: { started: k } },
    }),
    DelaySeconds: offset + k * job.intervalSeconds,
  }));
}

/**
 * A region's sub-minute jobs (the health probe every 30 s or 10 s, the replication monitor every
 * 15 s) without anything waiting between rounds: each minute one EventBridge Scheduler schedule per
 * job puts the minute's rounds on the job's queue in one SendMessageBatch, each round delayed to its
 * second (SQS delivery delay), and the queue invokes the job's function once per round (an event
 * source mapping, batch size 1). Each function runs one round per invocation and is sized for one.
 *
 * No retries and no overlap, as the schedules' other jobs: the schedule does not retry; a round
 * whose invocation fails is not run again (the queue moves a message received once already to the
 * job's `Missed` queue: maxReceiveCount 1), and one not delivered before the next is due expires
 * (ROUND_RETENTION). A round ends before the next is delivered: a job is queued only when its round
 * is bounded under its interval (`roundSeconds`, else the function's timeout, which is also the
 * queue's visibility timeout). A job whose round may outlast its interval (a 10 s probe policy) runs
 * from an Express state machine instead (ExpressMinuteDriver), which starts a round only once the
 * last one ended: two rounds of a job never overlap, at the price of the minute's duration.
 */
export class MinuteDriver extends Construct {
  /** By job id: the queue of its rounds, and where a round that failed once goes instead of a retry. */
  readonly queues: Readonly<Record<string, sqs.Queue>>;
  readonly missed: Readonly<Record<string, sqs.Queue>>;
  /** By job id: the schedule that puts its minute's rounds, on the dot of each minute. */
  readonly schedules: Readonly<Record<string, scheduler.CfnSchedule>>;
  /** The schedules' role: may send to the jobs' round queues, nothing else (none without queues). */
  readonly role: iam.Role | undefined;
  /** By job id: the SendMessageBatch entries each minute puts (delays and payloads). */
  readonly entries: Readonly<Record<string, readonly RoundEntry[]>>;
  /**
   * Jobs whose round may outlast their interval (a 10 s probe policy, whose round waits up to its
   * 8 or 10 s timeout and then writes): an Express state machine runs their rounds one after the
   * other instead of a queue. With the shipped 30 s policy and the 15 s beat, none.
   */
  readonly express: ExpressMinuteDriver | undefined;
  /** Starts `express` every minute, on the dot. */
  readonly expressSchedule: ProbeSchedule | undefined;

  constructor(scope: Construct, id: string, props: MinuteDriverProps) {
    super(scope, id);
    const problems: string[] = [];
    if (props.jobs.length === 0) problems.push('at least one job');
    const ids = props.jobs.map((j) => j.id);
    for (const job of props.jobs) {
      if (!/^[A-Za-z][A-Za-z0-9]{0,40}$/.test(job.id))
        problems.push(`job id must be letters and digits, got ${job.id}`);
      if (
        !Number.isInteger(job.intervalSeconds) ||
        job.intervalSeconds < 60 / MAX_ROUNDS ||
        job.intervalSeconds > 60
      )
        problems.push(
          `${job.id}: intervalSeconds must be a whole number from 6 to 60, got ${job.intervalSeconds}`,
        );
      const offset = job.offsetSeconds ?? 0;
      if (!Number.isInteger(offset) || offset < 0 || offset >= Math.min(60, job.intervalSeconds))
        problems.push(`${job.id}: offsetSeconds must be whole and under the interval, got ${offset}`);
    }
    if (new Set(ids).size !== ids.length) problems.push(`job ids must be unique, got ${ids.join(', ')}`);
    if (problems.length > 0) throw new Error(`MinuteDriver: ${problems.join('; ')}`);

    const queues: Record<string, sqs.Queue> = {};
    const missed: Record<string, sqs.Queue> = {};
    const schedules: Record<string, scheduler.CfnSchedule> = {};
    const entries: Record<string, RoundEntry[]> = {};
    const timeoutOf = (job: MinuteJob) => (job.target.timeout ?? Duration.seconds(3)).toSeconds();
    const serialized = props.jobs.filter(
      (job) => (job.roundSeconds ?? timeoutOf(job)) >= job.intervalSeconds,
    );
    const queued = props.jobs.filter((job) => !serialized.includes(job));
    const stack = Stack.of(this);
    const role =
      queued.length === 0
        ? undefined
        : schedulerRole(
            this,
            'Role',
            `EventBridge Scheduler: puts each minute's rounds on the Cortex round queues, nothing else`,
          );
    this.role = role;
    for (const job of queued) {
      const timeout = Duration.seconds(timeoutOf(job));
      missed[job.id] = new sqs.Queue(this, `${job.id}Missed`, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(4),
      });
      const queue = new sqs.Queue(this, `${job.id}Rounds`, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        // Lambda requires it at least the function's timeout; a failed round is received again
        // only after it, and then goes to `Missed` instead of running.
        visibilityTimeout: timeout,
        retentionPeriod: ROUND_RETENTION,
        deadLetterQueue: { queue: missed[job.id] as sqs.Queue, maxReceiveCount: 1 },
      });
      queues[job.id] = queue;
      // Batch size 1: one round per invocation. Two at most at once (the least Lambda allows): a
      // round ends before the next is delivered, its timeout being under the interval.
      job.target.addEventSource(new SqsEventSource(queue, { batchSize: 1, maxConcurrency: 2 }));
      entries[job.id] = minuteRoundEntries(job);
      schedules[job.id] = new scheduler.CfnSchedule(this, `${job.id}Schedule`, {
        description: `${props.description}: ${job.id} every ${job.intervalSeconds} s`,
        scheduleExpression: 'rate(1 minute)',
        // On the dot: the rounds keep their interval from one minute to the next.
        flexibleTimeWindow: { mode: 'OFF' },
        state: 'ENABLED',
        target: {
          arn: SEND_MESSAGE_BATCH_ARN,
          roleArn: (role as iam.Role).roleArn,
          input: stack.toJsonString({ QueueUrl: queue.queueUrl, Entries: entries[job.id] }),
          retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 },
        },
      });
      // The role's policy must exist before the first minute.
      schedules[job.id]?.node.addDependency(role as iam.Role);
    }
    // SendMessageBatch is authorized as sqs:SendMessage.
    if (role) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['sqs:SendMessage'],
          resources: Object.values(queues).map((q) => q.queueArn),
        }),
      );
    }
    this.queues = queues;
    this.missed = missed;
    this.schedules = schedules;
    this.entries = entries;
    this.express =
      serialized.length === 0
        ? undefined
        : new ExpressMinuteDriver(this, 'Express', {
            stateMachineName: props.stateMachineName,
            jobs: serialized.map((job) => ({
              id: job.id,
              target: job.target,
              ...(job.input ? { input: job.input } : {}),
            })),
          });
    this.expressSchedule = this.express
      ? new ProbeSchedule(this, 'ExpressSchedule', {
          target: this.express.stateMachine,
          // On the dot: the rounds keep their interval from one minute to the next.
          exact: true,
          purpose: 'the Cortex minute driver (rounds that may outlast their interval)',
          description: `${props.description}: ${serialized.map((j) => j.id).join(', ')}, one round after the other`,
        })
      : undefined;
  }
}
