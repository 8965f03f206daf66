import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod/mini';
import type { FunctionDeps } from '../../lib/app/deps.ts';
import { type MetricsPublisher, replicationRoundMetrics } from '../../lib/app/metrics.ts';
import type { MinuteRoundReport } from '../../lib/app/minute-rounds.ts';
import { MAX_SAMPLE_SIZE, runConsistencyCheck } from '../../lib/app/replication/consistency-check.ts';
import { runReplicationMinuteRound } from '../../lib/app/replication/minute-round.ts';
import {
  type ReplicationMinuteReport,
  type ReplicationRoundReport,
  runReplicationMinute,
} from '../../lib/app/replication/monitor.ts';
import {
  type MinuteOutput,
  minuteInputSchema,
  minuteOptions,
  minuteOutcome,
  parseJobInput,
  type RoundMessageEvent,
} from '../shared/minute-input.ts';

/**
 * The schedule's input. EventBridge Scheduler passes the schedule's `Input` (an EventBridge rule would
 * pass a Scheduled Event): other fields are ignored. The lag monitor (`task` absent or `monitor`)
 * runs one round per invocation from the region's minute driver (`minute`: then it says when the
 * next starts), or a whole minute of rounds when invoked without it; the hourly schedule asks for a
 * consistency check (`task: consistency_check`).
 */
const scheduledInputSchema = z.looseObject({
  task: z.optional(z.enum(['monitor', 'consistency_check'])),
  minute: z.optional(minuteInputSchema),
  rounds: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(60))),
  sample_size: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(MAX_SAMPLE_SIZE))),
});

export type ReplicationMonitorInput =
  | z.infer<typeof scheduledInputSchema>
  | RoundMessageEvent
  | null
  | undefined;

interface ReplicationMonitorOptions {
  /** Waits between the rounds of one invocation; default a real timer. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** One structured line per invocation; default stdout. */
  readonly log?: (line: string) => void;
  /** Where each round's lag per link goes (lib/app/metrics.ts); default nowhere. */
  readonly metrics?: MetricsPublisher;
}

/** What one invocation reports (and logs): per round the links into this region, not the full reading. */
interface ReplicationMonitorReport {
  readonly task: 'monitor' | 'consistency_check';
  readonly rounds?: readonly Record<string, unknown>[];
  readonly stopped_early?: string;
  /** With the driver's input: where the minute stands and when its next round starts. */
  readonly minute?: MinuteOutput;
  readonly check?: Record<string, unknown>;
}

function parseInput(event: unknown): z.infer<typeof scheduledInputSchema> {
  return parseJobInput(scheduledInputSchema, event, 'replication monitor input');
}

function summarize(
  minute: ReplicationMinuteReport | MinuteRoundReport<ReplicationRoundReport>,
): ReplicationMonitorReport {
  return {
    task: 'monitor',
    rounds: minute.rounds.map((round) =>
      'error' in round
        ? { error: round.error }
        : {
            at: round.at,
            seq: round.mark.seq,
            links: round.links.map((l) => ({
              source: l.source,
              status: l.status,
              lag_records: l.lag_records,
              lag_seconds: l.lag_seconds,
            })),
            events: round.events.map((e) => e.type),
            conflicts: round.conflicts,
            ...(round.unreachable.length > 0 ? { unreachable: round.unreachable.map((u) => u.region) } : {}),
          },
    ),
    ...minuteOutcome(minute),
  };
}

/**
 * The replication monitor of a region: the lag monitor's rounds inside each minute, one per
 * invocation from the region's minute driver (lib/app/replication/minute-round.ts), and, from
 * EventBridge Scheduler, hourly a consistency check
 * that reports but never reconciles (reconciling is an operator's decision: the API's `reconcile`).
 */
export function createReplicationMonitorHandler(
  deps: FunctionDeps<'replication-monitor'>,
  options: ReplicationMonitorOptions = {},
) {
  const log = options.log ?? ((line: string) => console.log(line));
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  return middy<ReplicationMonitorInput, ReplicationMonitorReport, Error, Context>().handler(
    async (event, context) => {
      const input = parseInput(event);
      let report: ReplicationMonitorReport;
      if (input.task === 'consistency_check') {
        const check = await runConsistencyCheck(
          deps,
          input.sample_size === undefined ? {} : { sample_size: input.sample_size },
          { trigger: 'schedule' },
        );
        report = {
          task: 'consistency_check',
          check: {
            check_id: check.check_id,
            sampled: check.sampled,
            inconsistent: check.inconsistent,
            unreachable: check.unreachable.map((u) => u.region),
            duration_ms: check.duration_ms,
          },
        };
      } else {
        const minute = input.minute
          ? await runReplicationMinuteRound(deps, minuteOptions(input.minute))
          : await runReplicationMinute(deps, {
              ...(input.rounds === undefined ? {} : { rounds: input.rounds }),
              sleep,
              remainingMs: () => context.getRemainingTimeInMillis(),
            });
        options.metrics?.publish(
          minute.rounds.flatMap((round) => ('error' in round ? [] : replicationRoundMetrics(round))),
        );
        report = summarize(minute);
      }
      log(JSON.stringify({ level: 'info', message: 'replication monitor', ...report }));
      return report;
    },
  );
}
